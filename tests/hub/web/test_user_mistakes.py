"""A user's mistake on a page is a Dutch 4xx page, never a 500: huge ids in the URL, deeply nested JSON,
a CR/LF in a login redirect or an archive form, odd stored quality figures on the rounds page."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from hub.extensions import db
from hub.models.exports import FactsheetArchive
from hub.web.blueprint import safe_next as _safe_next
from tests.hub.web.helpers import csrf_token, login

HUGE = "99999999999999999999"
DEEP = b"[" * 50_000 + b"]" * 50_000


def _dutch_page(resp, status: int) -> str:
    text = resp.get_data(as_text=True)
    assert resp.status_code == status, text[-500:]
    assert resp.mimetype == "text/html" and "Traceback" not in text
    return text


def _int_rules(app, prefix: str):
    for rule in app.url_map.iter_rules():
        ints = [name for name, conv in rule._converters.items() if type(conv).__name__.startswith("Int")]
        if ints and rule.rule.startswith(prefix):
            yield rule, ints


def test_huge_ids_in_a_page_url_are_not_found(client_as, web_app):
    client = client_as("regio_admin")
    text = _dutch_page(client.get(f"/factsheets/archief/{HUGE}"), 404)
    assert "Niet gevonden" in text
    _dutch_page(client.get(f"/factsheets/archief/{HUGE}/download"), 404)
    _dutch_page(client.get(f"/factsheets/archief/{2**63 - 1}"), 404)  # the largest id: looked up, not there
    rules = list(_int_rules(web_app, "/"))
    assert rules, "no route with an <int:…> to test"
    for rule, names in rules:
        path = rule.rule
        for name in names:
            path = path.replace(f"<int:{name}>", HUGE)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            resp = client.open(re.sub(r"<[^>]+>", "x", path), method=method)
            assert resp.status_code == 404, (method, path, resp.status_code)


def test_a_deeply_nested_upload_is_refused_in_dutch(client_as, web_app):
    from hub.services import nodes, rounds

    with web_app.app_context():
        nodes.register_node("0356", "Nieuwegein")
        round_id = rounds.open_round("2025-2026").id
    client = client_as("regio_admin")
    token = csrf_token(client, "/beheer/upload")
    data = {"csrf_token": token, "ronde": str(round_id), "bestand": (io.BytesIO(DEEP), "diep.json")}
    text = _dutch_page(client.post("/beheer/upload", data=data, content_type="multipart/form-data"), 400)
    assert "te diep genest" in text and "json_too_deep" in text


def test_a_huge_round_number_in_the_upload_form_is_refused(client_as):
    client = client_as("regio_admin")
    data = {"csrf_token": csrf_token(client, "/beheer/upload"), "ronde": HUGE,
            "bestand": (io.BytesIO(b"{}"), "x.json")}
    text = _dutch_page(client.post("/beheer/upload", data=data, content_type="multipart/form-data"), 400)
    assert "Kies een ronde en een bestand" in text


@pytest.mark.parametrize("target", ["/%0d%0aX-Injected:%201", "/overzicht%0aX-Injected:%201", "/%5cevil.example",
                                    "/\\evil.example"])
def test_login_with_a_bad_next_logs_in_and_goes_home(web_app, seeded, target):
    client = web_app.test_client()
    email, password = seeded.users["regio_admin"]
    resp = client.post(f"/login?next={target}", data={"email": email, "wachtwoord": password,
                                                      "csrf_token": csrf_token(client)})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    assert "X-Injected" not in resp.headers
    assert client.get("/overzicht").status_code == 200


def test_safe_next_keeps_plain_local_paths():
    assert _safe_next("/scholen/10AA00?schooljaar=2024-2025") == "/scholen/10AA00?schooljaar=2024-2025"
    for bad in ("/x\r\nSet-Cookie: a=b", "/x\ty", "//evil.example", "/\\evil.example", "https://evil.example/",
                "overzicht", "/a//b", ""):
        assert _safe_next(bad) is None, bad


@pytest.mark.parametrize("field, value, status", [
    ("swv", "PO2701\r\nX-Injected: 1", 400), ("gemeente", "0356\r\nX-Injected: 1", 400), ("gemeente", "x" * 40, 400),
    ("swv", "<script>", 400),
])
def test_an_archive_request_with_a_bad_field_is_refused(client_as, web_app, field, value, status):
    client = client_as("regio_admin")
    form = {"csrf_token": csrf_token(client, "/overzicht"), "schooljaar": "2024-2025", field: value}
    _dutch_page(client.post("/factsheets/archief", data=form), status)
    with web_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FactsheetArchive)) == 0


def test_a_stored_archive_with_an_odd_name_still_downloads(client_as, web_app, seeded):
    """Archives stored before the form was checked: the file name reaches the header as plain characters."""
    from hub.models.users import User

    with web_app.app_context():
        admin = db.session.scalar(select(User).where(User.email == seeded.users["regio_admin"][0]))
        archive = FactsheetArchive(requested_by=admin.id, scope_kind="swv", scope_code="PO27\r\nX: 1", gemeente="03\r\n",
                                   schooljaar="2024-2025", base_url="http://localhost/", status="done", content=b"PK")
        db.session.add(archive)
        db.session.commit()
        archive_id = archive.id
    resp = client_as("regio_admin").get(f"/factsheets/archief/{archive_id}/download")
    assert resp.status_code == 200 and resp.data == b"PK"
    disposition = resp.headers["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition and disposition.endswith('.zip"')


PLAIN_QUALITY = {"files": [{"name": "a.csv", "kind": "jeugdhulp", "rows_read": 100, "rows_used": 97,
                            "rejected": {"bad_bsn": 2}, "excluded": {"age": 1}},
                           {"name": "b.csv", "kind": "kosten", "rows_read": 10, "rows_used": 10, "rejected": {}, "excluded": {}}],
                 "unmatched_claim_lines": 3, "unknown_locations": ["99ZZ00"]}


def _node_row(text: str, naam: str, code: str) -> list[str]:
    row = re.search(rf"<tr><th scope=\"row\">{naam} \({code}\)</th>.*?</tr>", text, re.S)
    assert row, f"no row for {code}"
    assert "nog niet" not in row.group(0), "the row shows no submission, so this test proves nothing"
    return re.findall(r'<td class="count">([^<]*)</td>', row.group(0))[1:]  # the figures after "Vervangen"


@pytest.mark.parametrize("quality", [
    {"files": [{"name": "a.csv", "rows_read": "veel", "rows_used": 1.5, "rejected": {"x": "y"}, "excluded": []}],
     "unmatched_claim_lines": {"a": 1}, "unknown_locations": 5},
    {"files": "geen lijst", "unmatched_claim_lines": "twee"},
    {"files": [["geen", "object"]], "unmatched_claim_lines": -1},
    ["geen", "object"],
    "tekst",
])
def test_the_rounds_page_shows_odd_quality_figures_as_a_dash(client_as, web_app, quality):
    """Another node's plain figures are still summed on the same page."""
    from hub.models.nodes import Node
    from hub.models.rounds import Round
    from hub.models.submissions import Submission
    from hub.services import nodes

    with web_app.app_context():
        rnd = db.session.scalars(select(Round).order_by(Round.id.desc())).first()  # the first on the page
        for code, naam, q in (("0356", "Nieuwegein", quality), ("0321", "Houten", PLAIN_QUALITY)):
            nodes.register_node(code, naam)
            node = db.session.scalar(select(Node).where(Node.code == code))
            db.session.add(Submission(round_id=rnd.id, node_id=node.id, key_id="0" * 16, digest=code * 16,
                                      payload_digest=code * 16, envelope=b"{}", size_bytes=2, quality=q))
        db.session.commit()
    text = _dutch_page(client_as("regio_admin").get("/beheer/rondes"), 200)
    odd = _node_row(text, "Nieuwegein", "0356")
    assert set(odd) <= {"–", "0"} and "–" in odd, odd
    assert _node_row(text, "Houten", "0321") == ["110", "107", "2", "1", "3", "1"]


def test_a_nul_character_in_a_form_field_is_refused_in_dutch(web_app, seeded):
    client = web_app.test_client()
    resp = client.post("/login", data={"email": "regio\x00@example.nl", "wachtwoord": "x", "csrf_token": csrf_token(client)})
    assert "ongeldig teken" in _dutch_page(resp, 400)

"""Page behaviour: login/logout, cookie flags, security headers, redirects, admin forms, factsheet content."""

import io
import re


from tests.hub.web.helpers import csrf_token, login


def test_wrong_password_is_refused_and_audited(web_app, seeded):
    client = web_app.test_client()
    resp = login(client, seeded.users["gemeente"][0], "verkeerd-wachtwoord")
    assert resp.status_code == 401 and "verkeerd wachtwoord" in resp.get_data(as_text=True)
    assert client.get("/overzicht").status_code == 302
    with web_app.app_context():
        from hub.services import audit

        assert audit.recent()[0].action == "login_failed"


def test_session_cookie_flags(web_app, seeded):
    client = web_app.test_client()
    resp = login(client, *seeded.users["gemeente"])
    cookie = [h for h in resp.headers.getlist("Set-Cookie") if h.startswith("session=")][-1]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_secure_cookie_in_production_config():
    from tests.hub.conftest import make_app

    app = make_app(SESSION_COOKIE_SECURE=True)
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]


def test_login_redirects_only_to_local_paths(web_app, seeded):
    client = web_app.test_client()
    token = csrf_token(client)
    email, password = seeded.users["regio_admin"]
    resp = client.post("/login?next=https://evil.example/x", data={"email": email, "wachtwoord": password, "csrf_token": token})
    assert resp.headers["Location"] == "/"
    client2 = web_app.test_client()
    token = csrf_token(client2)
    resp = client2.post("/login?next=/scholen/10AA00", data={"email": email, "wachtwoord": password, "csrf_token": token})
    assert resp.headers["Location"] == "/scholen/10AA00"


def test_logout_needs_post_with_csrf(client_as):
    client = client_as("gemeente")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400  # no CSRF token
    resp = client.post("/logout", data={"csrf_token": csrf_token(client, "/help")})
    assert resp.status_code == 302
    assert client.get("/overzicht").status_code == 302


def test_security_headers(client_as):
    resp = client_as("regio_admin").get("/overzicht")
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_overview_filters_by_gemeente_and_type(client_as):
    html = client_as("regio_admin").get("/overzicht?gemeente=0321&schooltype=BO").get_data(as_text=True)
    assert "De Regenboog" in html and "Klein Duimpje" in html
    assert "De Linde" not in html.split("<tbody>")[1].split("</tbody>")[0]


def test_factsheet_explains_and_shows_figures(client_as, seeded):
    html = client_as("school").get("/scholen/10AA00").get_data(as_text=True)
    for phrase in ("Wat betekent dit?", "Afgeschermd", "Afgerond op 5", "Dekking", "95 %-interval", "<svg"):
        assert phrase in html
    published = seeded.published[("vestiging", "10AA00", "2024-2025", "clienten", "")]
    assert f"<td class=\"count\">{published}</td>" in html


def test_consortium_upload_form(client_as):
    client = client_as("regio_admin")
    token = csrf_token(client, "/beheer/consortia")
    data = {"csrf_token": token, "bestand": (io.BytesIO(b"aanbieder_agb;aanbieder_naam;consortium\n11000001;Zorg Een;Lek\n"), "t.csv")}
    resp = client.post("/beheer/consortia", data=data, content_type="multipart/form-data")
    assert resp.status_code == 200 and "1 aanbieders in 1 consortia" in resp.get_data(as_text=True)
    schools = client.get("/api/v1/aanbieders").get_json()["scholen"]
    rows = [p for s in schools for p in s["aanbieders"] if p["aanbieder_agb"] == "11000001"]
    assert rows and all(p["aanbieder_naam"] == "Zorg Een" and p["consortium"] == "Lek" for p in rows)
    # The consortia per school are the publication's own counts (clienten_consortium), not the new table's.
    assert any("Lek" in s["consortia"] for s in schools)
    assert all(c["clienten"] > 0 for s in schools for c in s["consortia_clienten"])
    bad = {"csrf_token": token, "bestand": (io.BytesIO(b"agb\n1\n"), "fout.csv")}
    resp = client.post("/beheer/consortia", data=bad, content_type="multipart/form-data")
    assert resp.status_code == 400 and "fout.csv, regel 1" in resp.get_data(as_text=True)


def test_manual_upload_rejects_garbage_with_a_message(client_as):
    client = client_as("regio_admin")
    with client.application.app_context():
        from hub.services import nodes as node_service
        from hub.services import rounds as round_service

        node_service.register_node("0356", "Nieuwegein")
        round_id = round_service.open_round("2025-2026", expected=["0356"]).id
    token = csrf_token(client, "/beheer/upload")
    data = {"csrf_token": token, "ronde": str(round_id), "bestand": (io.BytesIO(b"geen envelop"), "x.json")}
    resp = client.post("/beheer/upload", data=data, content_type="multipart/form-data")
    text = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "niet aangenomen" in text and "code:" in text and "Traceback" not in text


def test_rounds_page_lists_releases(client_as, seeded):
    html = client_as("regio_admin").get("/beheer/rondes").get_data(as_text=True)
    for jaar, rid in seeded.release_ids.items():
        assert f"<th scope=\"row\">{rid}</th><td>{jaar}</td>" in html


def test_page_errors_are_dutch_html_and_api_errors_json(client_as):
    client = client_as("regio_admin")
    page = client.get("/overzicht?schooljaar=2019")
    assert page.status_code == 400 and page.mimetype == "text/html" and "JJJJ-JJJJ" in page.get_data(as_text=True)
    api = client.get("/api/v1/scholen?schooljaar=2019")
    assert api.status_code == 400 and api.get_json()["error"]["code"] == "invalid_schooljaar"
    expired = client.post("/beheer/consortia", data={"csrf_token": "oud"})
    assert expired.status_code == 400 and "Formulier verlopen" in expired.get_data(as_text=True)


def test_rounds_page_survives_a_quality_block_stored_before_it_was_typed(client_as, web_app):
    """Submissions stored before the decoder typed the quality block may hold anything there."""
    from hub.extensions import db
    from hub.models.rounds import Round
    from hub.models.submissions import Submission
    from tests.hub.factories import enrol_node

    with web_app.app_context():
        node = enrol_node("0356")
        rnd = db.session.scalars(db.select(Round).order_by(Round.id)).first()
        junk = {"files": [{"name": "<b>x</b>", "kind": "jeugdhulp", "rows_read": "abc", "rows_used": None,
                           "rejected": {"<script>alert(1)</script>": "zz"}, "excluded": ["x"]}],
                "unmatched_claim_lines": {"a": 1}, "unknown_locations": 7}  # fmt: skip
        db.session.add(Submission(round_id=rnd.id, node_id=nodes_id(node), key_id=node.key_id, digest="0" * 64,
                                  payload_digest="0" * 64, envelope=b"{}", size_bytes=2, quality=junk))  # fmt: skip
        db.session.commit()
    resp = client_as("regio_admin").get("/beheer/rondes")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200, html[:500]
    assert "<script>alert" not in html and "<b>x</b>" not in html


def nodes_id(node) -> int:
    from hub.services import nodes

    return nodes.get_node(node.code).id


def test_rounds_page_shows_why_a_submission_is_not_in_the_release(client_as, web_app):
    from datetime import datetime, timezone

    from hub.extensions import db
    from hub.models.rounds import Round
    from hub.models.submissions import Submission
    from tests.hub.factories import enrol_node, make_partial

    with web_app.app_context():
        node = enrol_node("0356")
        rnd = db.session.scalars(db.select(Round).order_by(Round.id)).first()
        db.session.add(Submission(
            round_id=rnd.id, node_id=nodes_id(node), key_id=node.key_id, digest="1" * 64, payload_digest="1" * 64,
            envelope=b"{}", size_bytes=2, quality=make_partial().quality.to_dict(), quarantine_code="cell_out_of_range",
            quarantine_reason="Cel 03EF00 2024-2025 clienten: is groter dan 1.000.000 kinderen (de grens per cel)",
            quarantined_at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
        ))  # fmt: skip
        db.session.commit()
    html = client_as("regio_admin").get("/beheer/rondes").get_data(as_text=True)
    assert "Niet in de publicatie" in html and "03EF00 2024-2025 clienten" in html and "cell_out_of_range" in html
    assert "stuurt een verbeterd deelresultaat" in html


def test_the_accessibility_statement_is_public_and_linked_from_the_footer(web_app, seeded):
    client = web_app.test_client()
    page = client.get("/toegankelijkheid")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for heading in ("Toegankelijkheidsverklaring", "Wat is getest en hoe", "Wat nog niet goed is", "Contact", "WCAG 2.1"):
        assert heading in html
    assert 'href="/toegankelijkheid"' in client.get("/login").get_data(as_text=True)


def test_a_provider_without_a_known_name_is_never_named_by_its_agb_code(client_as):
    """Issue 11, item 3: no "AGB 98114406" in the name column next to an AGB-code column."""
    import re

    html = client_as("regio_admin").get("/scholen/40DA00").get_data(as_text=True)
    table = html.split("<caption>Grootste aanbieders</caption>")[1].split("</table>")[0]
    names = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r'<th scope="row">(.*?)</th>', table, re.S)]
    assert names and not any(re.fullmatch(r"AGB \d{8}", n) for n in names)


def test_rounds_page_explains_the_deadline_and_lists_held_back_schools(client_as, web_app):
    import re
    from datetime import datetime, timezone

    from hub.extensions import db
    from hub.models.releases import Release
    from hub.models.rounds import Round

    with web_app.app_context():
        rnd = db.session.scalars(db.select(Round).order_by(Round.id)).first()
        rnd.deadline = datetime(2024, 11, 15, 9, 0, tzinfo=timezone.utc)
        db.session.get(Release, rnd.current_release_id).held_back = ["09XY00", "09XZ00"]
        db.session.commit()
    text = re.sub(r"<[^>]+>", " ", client_as("regio_admin").get("/beheer/rondes").get_data(as_text=True))
    text = re.sub(r"\s+", " ", text)
    assert "zodra alle verwachte gemeenten hebben ingezonden, of anders op de termijn" in text
    assert "Termijn voor de eerste publicatie: 15-11-2024 10:00." in text  # Dutch time
    assert "Achtergehouden vestigingen: 09XY00, 09XZ00." in text and "volgende schooljaar" in text
    assert "release" not in text.lower()


def test_every_page_title_is_plain_text():
    """A browser tab shows the <title> as text: a template's title block holds no markup (it once held a
    whole section of the consortium page)."""
    from pathlib import Path

    templates = Path(__file__).resolve().parents[3] / "hub" / "web" / "templates"
    for path in sorted(templates.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for title in re.findall(r"{%-?\s*block title\s*-?%}(.*?){%-?\s*endblock", text, flags=re.S):
            assert "<" not in title and "\n" not in title.strip(), f"{path.name}: {title[:80]!r}"

"""The audit page and its CSV download: the chain's state on the page, the whole log with its hashes
in the file, and a formula-like e-mail tried at login neutralised there."""

from __future__ import annotations

import csv
import io


def test_the_admin_downloads_the_whole_log_as_csv_with_its_hashes(client_as):
    resp = client_as("regio_admin").get("/beheer/audit.csv")
    assert resp.status_code == 200
    header = resp.data.decode("utf-8-sig").splitlines()[0]
    assert "Vorige hash" in header and "Hash" in header and "Vanaf adres" in header


def test_the_page_says_whether_the_chain_holds(client_as):
    html = client_as("regio_admin").get("/beheer/audit").get_data(as_text=True)
    assert "De hashketen van het log sluit" in html


def test_an_e_mail_tried_at_login_cannot_become_a_formula_in_the_csv(web, client_as):
    app, _ = web
    app.test_client().post("/login", data={"email": "=HYPERLINK(\"http://x\")", "password": "fout"})
    body = client_as("regio_admin").get("/beheer/audit.csv").data.decode("utf-8-sig")
    cells = [c for row in csv.reader(io.StringIO(body), delimiter=";") for c in row]
    assert not any(c.startswith("=") for c in cells)

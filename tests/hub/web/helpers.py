"""Test helpers for the pages: log in through the real form (with its CSRF token)."""

from __future__ import annotations

import re

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    match = _CSRF.search(page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client, email: str, password: str):
    token = csrf_token(client)
    return client.post("/login", data={"email": email, "wachtwoord": password, "csrf_token": token})


def request_archive(client, **form):
    """Ask for a ZIP of factsheets, wait for the background job, and return the download response."""
    from hub.jobs import FACTSHEET_ARCHIVE, wait as wait_for_jobs

    resp = client.post("/factsheets/archief", data={"csrf_token": csrf_token(client, "/overzicht"), **form})
    assert resp.status_code == 302, resp.status_code
    status_url = resp.headers["Location"]
    assert wait_for_jobs(client.application, FACTSHEET_ARCHIVE, 300)
    page = client.get(status_url)
    assert page.status_code == 200 and "Het archief is klaar" in page.get_data(as_text=True), page.get_data(as_text=True)[-800:]
    return client.get(f"{status_url}/download")

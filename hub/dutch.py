"""Plain Dutch for the pages and downloads: local times (Europe/Amsterdam), place names as people
write them ("Nieuwegein", not "NIEUWEGEIN"), the audit log's actions, and the "Bron" line that says
which publication a page, PDF or download shows."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
MAANDEN = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
           "november", "december")

#: The audit log's action codes, as the log page names them.
AUDIT_ACTIONS = {
    "view": "bekeken",
    "export": "gedownload",
    "login": "ingelogd",
    "login_failed": "inloggen mislukt",
    "logout": "uitgelogd",
    "admin": "beheer",
}


#: Why the gate hid a cell (hub/disclosure/frames.py's reason codes), in words for the admin's views.
SUPPRESSION_REASONS = {
    "threshold": "minder dan de drempel",
    "group_disclosure": "bijna alle kinderen in één categorie",
    "insider_count": "de rest is kleiner dan de drempel",
    "negative": "terugbetaling van onbekende grootte",
    "negative_sum": "negatief bedrag",
    "linked_count": "gekoppeld aan een afgeschermde telling",
    "insider_cost": "een bijdrager kan de anderen terugrekenen",
    "p_percent": "p%-regel",
    "dominance": "één of twee bijdragers overheersen",
    "provider_aggregate": "aanbieders alleen per school",
    "overlap": "hulpgrootheid van de controle",
    "complementary": "aanvullend afgeschermd (anders terug te rekenen)",
    "audit_partner": "aanvullend afgeschermd (partner in de controle)",
    "earlier_hidden": "in een eerdere publicatie afgeschermd",
}


def suppression_reason(code: str | None) -> str:
    """A gate reason code in words, with the code itself for looking it up (docs/disclosure-control.md)."""
    if not code:
        return "afgeschermd"
    return f"{SUPPRESSION_REASONS.get(code, 'afgeschermd')} ({code})"


def _as_datetime(value) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:  # every stored time is UTC (SQLite hands them back naive)
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(AMSTERDAM)


def local_time(value, seconds: bool = False) -> str:
    """``2026-12-01T12:02:00+00:00`` → ``01-12-2026 13:02`` (Dutch local time); ``–`` for nothing."""
    dt = _as_datetime(value)
    if dt is None:
        return "–" if not value else str(value)
    return dt.strftime("%d-%m-%Y %H:%M:%S" if seconds else "%d-%m-%Y %H:%M")


def long_date(value) -> str:
    """``1 december 2026, 13:02`` (Dutch local time)."""
    dt = _as_datetime(value)
    if dt is None:
        return "–"
    return f"{dt.day} {MAANDEN[dt.month - 1]} {dt.year}, {dt:%H:%M}"


_SMALL_WORDS = {"aan", "de", "den", "der", "en", "het", "in", "op", "van", "bij", "ter", "ten", "over"}


def _word(word: str, first: bool) -> str:
    low = word.lower()
    if not first and low in _SMALL_WORDS:
        return low
    if low in ("'s", "'t"):
        return low
    if low.startswith("ij"):
        return "IJ" + low[2:]
    return low[:1].upper() + low[1:]


def place_name(name: str | None) -> str | None:
    """A name DUO writes in capitals, as people write it: ``NIEUWEGEIN`` → ``Nieuwegein``,
    ``'S-HERTOGENBOSCH`` → ``'s-Hertogenbosch``, ``IJSSELSTEIN`` → ``IJsselstein``, ``ALPHEN AAN DEN
    RIJN`` → ``Alphen aan den Rijn``. A name already in mixed case is left alone."""
    if not name or not isinstance(name, str):
        return name
    if name != name.upper():
        return name
    parts = re.split(r"([ \-/()])", name.strip())
    out, first = [], True
    for part in parts:
        if not part or part in " -/()":
            out.append(part)
            continue
        out.append(_word(part, first))
        first = False
    text = "".join(out)
    text = re.sub(r"\((\w{1,2})\)", lambda m: "(" + m.group(1).upper() + ")", text)  # Bergen (NH)
    return re.sub(r"^'s-(\w)", lambda m: "'s-" + m.group(1).upper(), text)


def publication_line(pub: dict | None, region: str, schooljaar: str | None = None) -> str:
    """The "Bron" line: which publication (id, version, date) and which municipalities and
    samenwerkingsverbanden take part."""
    if not pub:
        return f"Bron: jeugdhub {region}. Er is nog geen publicatie."
    gemeenten = ", ".join(pub.get("gemeenten") or []) or "onbekend"
    swvs = ", ".join(pub.get("samenwerkingsverbanden") or []) or "geen"
    jaar = schooljaar or pub.get("schooljaar")
    return (f"Bron: publicatie {pub['id']} (versie {pub['version']}, gepubliceerd {long_date(pub['created_at'])}) "
            f"van de jeugdhub {region}, schooljaar {jaar}. Deelnemende gemeenten: {gemeenten}. "
            f"Deelnemende samenwerkingsverbanden (ondersteuning): {swvs}. Leerlingaantallen: DUO.")

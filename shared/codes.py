"""Code lists shared by the agent and the hub: measures, care types, referrers, age bands, node kinds
and the SWV's support types (ondersteuningssoorten) with their counting priority.

The care-type grouping (JZ020 productcategorie → zorgtype) is the project's own: there is no
official one. It lives in exactly this table; a deployment overrides it through
:func:`zorgtype_table` (e.g. to split dyslexia care off by productcode).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Mapping

# --- measures a partial carries (data dictionary, "What a node sends") -----------------------

LEERLINGEN = "leerlingen"
CLIENTEN = "clienten"
CLIENTEN_ZORGTYPE = "clienten_zorgtype"
NIEUWE_CLIENTEN = "nieuwe_clienten"
NIEUWE_CLIENTEN_VERWIJZER = "nieuwe_clienten_verwijzer"
NIEUWE_CLIENTEN_LEEFTIJD = "nieuwe_clienten_leeftijd"
CLIENTEN_AANBIEDER = "clienten_aanbieder"
KOSTEN = "kosten"
JEUGDBESCHERMING = "jeugdbescherming"
JEUGDRECLASSERING = "jeugdreclassering"
#: Distinct clients per care-intensity group (shared/groupings.py).
CLIENTEN_ZORGINTENSITEIT = "clienten_zorgintensiteit"
#: Distinct clients per consortium (the round's provider → consortium table).
CLIENTEN_CONSORTIUM = "clienten_consortium"
#: The consortium category of clients served by a provider in no consortium of the table.
GEEN_CONSORTIUM = "andere aanbieders"
#: An SWV's distinct pupils with support at a school on the peildatum (no category).
LEERLINGEN_ONDERSTEUNING = "leerlingen_ondersteuning"
#: The same pupils, each under the one soort group it counts in (``ONDERSTEUNING_GROUPS``, by priority).
LEERLINGEN_ONDERSTEUNING_SOORT = "leerlingen_ondersteuning_soort"

MEASURES: tuple[str, ...] = (
    LEERLINGEN,
    CLIENTEN,
    CLIENTEN_ZORGTYPE,
    NIEUWE_CLIENTEN,
    NIEUWE_CLIENTEN_VERWIJZER,
    NIEUWE_CLIENTEN_LEEFTIJD,
    CLIENTEN_AANBIEDER,
    KOSTEN,
    JEUGDBESCHERMING,
    JEUGDRECLASSERING,
    CLIENTEN_ZORGINTENSITEIT,
    CLIENTEN_CONSORTIUM,
    LEERLINGEN_ONDERSTEUNING,
    LEERLINGEN_ONDERSTEUNING_SOORT,
)

#: Measures whose cells have no category (category is the empty string).
MEASURES_WITHOUT_CATEGORY = frozenset(
    {LEERLINGEN, CLIENTEN, NIEUWE_CLIENTEN, JEUGDBESCHERMING, JEUGDRECLASSERING, LEERLINGEN_ONDERSTEUNING}
)

#: Measures whose categories add up to a total measure (used by the disclosure gate's row lines).
#: ``kosten`` adds up to its own category ``totaal``.
ADDITIVE_BREAKDOWNS: Mapping[str, str] = {
    NIEUWE_CLIENTEN_VERWIJZER: NIEUWE_CLIENTEN,
    NIEUWE_CLIENTEN_LEEFTIJD: NIEUWE_CLIENTEN,
    LEERLINGEN_ONDERSTEUNING_SOORT: LEERLINGEN_ONDERSTEUNING,
}

#: The measures an SWV node sends, and the only ones: a municipality sends none of them.
SUPPORT_MEASURES = frozenset({LEERLINGEN_ONDERSTEUNING, LEERLINGEN_ONDERSTEUNING_SOORT})

# --- the overlap figures: the hub makes them from the overlap counts, no node sends them -----------

#: Pupils with support who are also youth-care clients of a compared municipality (the counted overlap).
ONDERSTEUNING_EN_JEUGDHULP = "ondersteuning_en_jeugdhulp"
#: Pupils with support who are no client of a compared municipality (support − both).
ONDERSTEUNING_ZONDER_JEUGDHULP = "ondersteuning_zonder_jeugdhulp"
#: Clients of the compared municipalities at the school without support (compared clients − both).
JEUGDHULP_ZONDER_ONDERSTEUNING = "jeugdhulp_zonder_ondersteuning"
#: The clients at the school of the municipalities whose overlap was counted (the coverage).
CLIENTEN_VERGELEKEN = "clienten_vergeleken"
#: The pupils with support at the schools whose overlap was counted ("both" + "support only"; at a
#: school, its ``leerlingen_ondersteuning``).
ONDERSTEUNING_VERGELEKEN = "ondersteuning_vergeleken"
#: The overlap figures, in the order the pages show them. Never in a partial (``MEASURES``).
OVERLAP_MEASURES: tuple[str, ...] = (
    ONDERSTEUNING_EN_JEUGDHULP, ONDERSTEUNING_ZONDER_JEUGDHULP, JEUGDHULP_ZONDER_ONDERSTEUNING, ONDERSTEUNING_VERGELEKEN,
    CLIENTEN_VERGELEKEN,
)

KOSTEN_TOTAAL = "totaal"

#: The bucket for pupils with no school on the peildatum (vrijstelling, thuiszitter).
GEEN_SCHOOL = "GEEN"

# --- node kinds -------------------------------------------------------------------------------------

#: A municipality's agent (named by its gemeentecode, ``0356``): enrolment, care and costs.
NODE_GEMEENTE = "gemeente"
#: A samenwerkingsverband passend onderwijs's agent (named by its SWV code, ``PO2607``): support per school.
NODE_SWV = "swv"
NODE_KINDS = (NODE_GEMEENTE, NODE_SWV)

# --- support at school (the SWV's extract ``ondersteuning``) ------------------------------------------


@dataclass(frozen=True)
class Ondersteuningssoort:
    slug: str  # as the extract may write it (with the spellings of ``SOORT_SPELLINGS``)
    label: str  # shown in the Dutch interface
    group: str  # the soort group it is counted under (``ONDERSTEUNING_GROUPS``)


#: Soort groups, highest priority first. A pupil with several kinds of support on the peildatum counts
#: once, under the highest of them, so the groups add up to ``leerlingen_ondersteuning``: a place in
#: special education (TLV SO, then TLV SBO) before a separate VO track (PrO, then LWOO), before extra
#: support at the pupil's own school (an arrangement, then an OPP alone), and a thuiszitter last: it is
#: a situation, not a provision, and a thuiszitter with a TLV counts under the TLV.
ONDERSTEUNING_GROUPS: tuple[tuple[str, str], ...] = (
    ("tlv-so", "TLV speciaal onderwijs (SO/VSO)"),
    ("tlv-sbo", "TLV speciaal basisonderwijs (SBO)"),
    ("pro", "Praktijkonderwijs (PrO)"),
    ("lwoo", "Leerwegondersteuning (LWOO)"),
    ("arrangement", "Arrangement"),
    ("opp", "Ontwikkelingsperspectiefplan (OPP)"),
    ("thuiszitter", "Thuiszitter"),
)
ONDERSTEUNING_GROUP_CODES: tuple[str, ...] = tuple(code for code, _ in ONDERSTEUNING_GROUPS)
#: group → rank (0 = the highest priority).
ONDERSTEUNING_PRIORITY: Mapping[str, int] = {code: i for i, code in enumerate(ONDERSTEUNING_GROUP_CODES)}

ONDERSTEUNINGSSOORTEN: tuple[Ondersteuningssoort, ...] = (
    Ondersteuningssoort("tlv-so-laag", "TLV SO categorie laag", "tlv-so"),
    Ondersteuningssoort("tlv-so-midden", "TLV SO categorie midden", "tlv-so"),
    Ondersteuningssoort("tlv-so-hoog", "TLV SO categorie hoog", "tlv-so"),
    Ondersteuningssoort("tlv-sbo", "TLV SBO", "tlv-sbo"),
    Ondersteuningssoort("pro", "Praktijkonderwijs (PrO)", "pro"),
    Ondersteuningssoort("lwoo", "Leerwegondersteuning (LWOO)", "lwoo"),
    Ondersteuningssoort("arrangement", "Arrangement", "arrangement"),
    Ondersteuningssoort("opp", "Ontwikkelingsperspectiefplan (OPP)", "opp"),
    Ondersteuningssoort("thuiszitter", "Thuiszitter", "thuiszitter"),
)
ONDERSTEUNINGSSOORT_BY_SLUG: Mapping[str, Ondersteuningssoort] = {s.slug: s for s in ONDERSTEUNINGSSOORTEN}


def ondersteuningssoort(text: str) -> str | None:
    """The soort slug of a ``soort`` value as an SWV's system writes it, or None when it is none.

    Case, spaces, ``-``, ``_`` and ``.`` do not matter, nor a word ``categorie`` or ``cat``:
    ``TLV SO categorie hoog``, ``tlv_so_hoog`` and ``TLV-SO hoog`` are all ``tlv-so-hoog``; ``PrO``,
    ``praktijkonderwijs``, ``LWOO``, ``leerwegondersteuning`` and ``ontwikkelingsperspectief(plan)`` too;
    a TLV SO's category may also be written 1, 2, 3 (laag, midden, hoog) and VSO for SO.
    """
    words = re.sub(r"[\s\-_.()/]+", " ", text.strip().lower()).split()
    key = "-".join(w for w in words if w not in ("categorie", "cat"))
    return _SOORT_SPELLINGS.get(key, key if key in ONDERSTEUNINGSSOORT_BY_SLUG else None)


_SOORT_SPELLINGS: Mapping[str, str] = {
    "praktijkonderwijs": "pro",
    "leerwegondersteuning": "lwoo",
    "leerwegondersteunend-onderwijs": "lwoo",
    "ontwikkelingsperspectief": "opp",
    "ontwikkelingsperspectiefplan": "opp",
    "arrangementen": "arrangement",
    "thuiszitters": "thuiszitter",
    **{f"tlv-{so}-{n}": f"tlv-so-{level}" for so in ("so", "vso") for n, level in
       (("1", "laag"), ("2", "midden"), ("3", "hoog"), ("laag", "laag"), ("midden", "midden"), ("hoog", "hoog"))},
}

# --- care types (zorgtype) ---------------------------------------------------------------------


@dataclass(frozen=True)
class Zorgtype:
    slug: str
    label: str  # shown in the Dutch interface
    counts_as_client: bool
    separate_measure: str | None = None  # jeugdbescherming / jeugdreclassering


ZORGTYPES: tuple[Zorgtype, ...] = (
    Zorgtype("wijkteam", "Wijkteam", True),
    Zorgtype("ambulant", "Ambulant", True),
    Zorgtype("daghulp", "Daghulp", True),
    Zorgtype("jeugd-ggz", "Jeugd-ggz", True),
    Zorgtype("verblijf", "Verblijf", True),
    Zorgtype("crisis", "Crisis", True),
    Zorgtype("persoonlijke-verzorging", "Persoonlijke verzorging", True),
    Zorgtype("kindergeneeskunde", "Kindergeneeskunde", True),
    Zorgtype("maatwerk", "Maatwerk", True),
    Zorgtype("onbekend", "Onbekend", True),
    Zorgtype("vervoer", "Vervoer", False),
    Zorgtype("jeugdbescherming", "Jeugdbescherming", False, JEUGDBESCHERMING),
    Zorgtype("jeugdreclassering", "Jeugdreclassering", False, JEUGDRECLASSERING),
)
ZORGTYPE_BY_SLUG: Mapping[str, Zorgtype] = {z.slug: z for z in ZORGTYPES}

#: JZ020 productcategorie → zorgtype slug. The empty category means a generic allocation.
DEFAULT_PRODUCTCATEGORIE: Mapping[str, str] = {
    "31": "wijkteam",
    "32": "ambulant",
    "34": "ambulant",
    "45": "ambulant",
    "33": "daghulp",
    "41": "daghulp",
    "51": "jeugd-ggz",
    "52": "jeugd-ggz",
    "54": "jeugd-ggz",
    "35": "verblijf",
    "36": "verblijf",
    "37": "verblijf",
    "38": "verblijf",
    "43": "verblijf",
    "44": "verblijf",
    "46": "crisis",
    "40": "persoonlijke-verzorging",
    "53": "kindergeneeskunde",
    "50": "maatwerk",
    "55": "maatwerk",
    "42": "vervoer",
    "48": "jeugdbescherming",
    "47": "jeugdreclassering",
    "49": "jeugdreclassering",
    "": "onbekend",
}

#: ``clienten_zorgtype`` categories: the care types that make a child a client.
CLIENT_ZORGTYPES: tuple[str, ...] = tuple(z.slug for z in ZORGTYPES if z.counts_as_client)
#: ``kosten`` categories, in display order; ``totaal`` is their sum.
KOSTEN_CATEGORIES: tuple[str, ...] = tuple(z.slug for z in ZORGTYPES) + (KOSTEN_TOTAAL,)


@dataclass(frozen=True)
class ZorgtypeTable:
    """Maps an allocation's productcategorie (and optionally productcode) to a care type."""

    by_categorie: Mapping[str, str]
    by_productcode: Mapping[str, str]

    def zorgtype(self, productcategorie: str, productcode: str = "") -> str | None:
        """The care type slug, or None when the productcategorie is not in JZ020."""
        if productcode and productcode in self.by_productcode:
            return self.by_productcode[productcode]
        return self.by_categorie.get(productcategorie)


def zorgtype_table(
    overrides: Mapping[str, str] | None = None, productcodes: Mapping[str, str] | None = None
) -> ZorgtypeTable:
    """The default table with a deployment's overrides applied (every target must be a known slug)."""
    from shared.errors import ConfigError

    by_categorie = dict(DEFAULT_PRODUCTCATEGORIE)
    by_categorie.update(overrides or {})
    by_code = dict(productcodes or {})
    for target in list(by_categorie.values()) + list(by_code.values()):
        if target not in ZORGTYPE_BY_SLUG:
            raise ConfigError(
                f"Onbekend zorgtype '{target}' in de zorgtype-tabel; kies uit: {', '.join(ZORGTYPE_BY_SLUG)}",
                code="unknown_zorgtype",
            )
    return ZorgtypeTable(by_categorie=by_categorie, by_productcode=by_code)


# --- referrers (COD327) ------------------------------------------------------------------------

VERWIJZER_ONBEKEND = "onbekend"
VERWIJZERS: Mapping[str, str] = {
    "01": "Gemeente",
    "02": "Huisarts",
    "03": "Jeugdarts",
    "04": "Gecertificeerde instelling",
    "05": "Medisch specialist",
    "06": "Zelfverwijzer / geen",
    "08": "Rechter / OvJ / JJI",
    VERWIJZER_ONBEKEND: "Onbekend",
}

# --- age at the start of a new allocation ------------------------------------------------------

#: (label, lowest age, highest age). ``0-3`` is ours: a child can be referred shortly before
#: starting school at four; the data dictionary's bands start at 4.
AGE_BANDS: tuple[tuple[str, int, int], ...] = (
    ("0-3", 0, 3),
    ("4-5", 4, 5),
    ("6-8", 6, 8),
    ("9-11", 9, 11),
    ("12-14", 12, 14),
    ("15-17", 15, 17),
    ("18+", 18, 200),
)


def age_band(age: int) -> str:
    for label, low, high in AGE_BANDS:
        if low <= age <= high:
            return label
    raise ValueError("age must be non-negative")


def age_on(birth: date, on: date) -> int:
    """Whole years of age on a date."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


# --- school years, locations, municipalities ---------------------------------------------------

ONDERWIJSSOORTEN = ("BO", "SBO", "SO", "VSO", "VO", "PRO", "MBO", "VAVO", "GEEN")

_SCHOOLJAAR = re.compile(r"^(\d{4})-(\d{4})$")
_VESTIGINGSCODE = re.compile(r"^\d\d[A-Z]{2}\d\d$")
_BRIN = re.compile(r"^\d\d[A-Z]{2}$")
_GEMEENTECODE = re.compile(r"^\d{4}$")
_SWV_CODE = re.compile(r"^(PO|VO)[\s.\-_]*(\d{2})[\s.\-_]*(\d{2})$")


def parse_schooljaar(text: str) -> tuple[date, date]:
    """``2024-2025`` → (1 Aug 2024, 31 Jul 2025). Raises ValueError on anything else."""
    m = _SCHOOLJAAR.match(text.strip())
    if not m or int(m.group(2)) != int(m.group(1)) + 1:
        raise ValueError(f"schooljaar '{text}' is niet van de vorm JJJJ-JJJJ (bijv. 2024-2025)")
    first = int(m.group(1))
    return date(first, 8, 1), date(first + 1, 7, 31)


def schooljaar_of(day: date) -> str:
    """The school year a date falls in."""
    first = day.year if day.month >= 8 else day.year - 1
    return f"{first}-{first + 1}"


def default_peildatum(schooljaar: str) -> date:
    """1 October of the school year's first calendar year (DUO's counting date)."""
    start, _ = parse_schooljaar(schooljaar)
    return date(start.year, 10, 1)


def is_vestigingscode(code: str) -> bool:
    return bool(_VESTIGINGSCODE.match(code))


def is_brin(code: str) -> bool:
    return bool(_BRIN.match(code))


def normalise_gemeentecode(code: str | int) -> str:
    """``285``, ``0285`` or ``GM0285`` → ``0285``. Raises ValueError when it is no gemeente code."""
    text = str(code).strip().upper()
    if text.startswith("GM"):
        text = text[2:]
    if not text.isdigit() or len(text) > 4:
        raise ValueError(f"'{code}' is geen gemeentecode (4 cijfers, bijv. 0356)")
    text = text.zfill(4)
    if not _GEMEENTECODE.match(text):
        raise ValueError(f"'{code}' is geen gemeentecode")
    return text


def is_swv_code(code: str) -> bool:
    """``PO2607`` or ``VO2607``: an SWV code in its canonical form."""
    return isinstance(code, str) and len(code) == 6 and bool(_SWV_CODE.match(code))


def normalise_swv_code(code: str) -> str:
    """``PO-26-07``, ``po 26.07`` or ``PO2607`` → ``PO2607``. Raises ValueError when it is no SWV code."""
    m = _SWV_CODE.match(str(code).strip().upper())
    if not m:
        raise ValueError(f"'{code}' is geen SWV-code (PO of VO en 4 cijfers, bijv. PO2607 of PO-26-07)")
    return f"{m.group(1)}{m.group(2)}{m.group(3)}"


def node_kind(code: str) -> str:
    """The kind of node a canonical node code names: ``0356`` a municipality, ``PO2607`` an SWV.
    Raises ValueError for anything else."""
    if isinstance(code, str) and _GEMEENTECODE.match(code):
        return NODE_GEMEENTE
    if is_swv_code(code):
        return NODE_SWV
    raise ValueError(f"'{code}' is geen gemeentecode (4 cijfers) en geen SWV-code (bijv. PO2607)")


def normalise_node_code(code: str | int) -> str:
    """A node's code as written by a person (``356``, ``GM0356``, ``PO-26-07``) → its canonical form."""
    text = str(code).strip().upper()
    if text[:2] in ("PO", "VO"):
        return normalise_swv_code(text)
    try:
        return normalise_gemeentecode(text)
    except ValueError:
        raise ValueError(f"'{code}' is geen gemeentecode (4 cijfers) en geen SWV-code (bijv. PO2607)") from None

"""The leerlingen extract: enrolment on the peildatum per school year — pseudonym, vestigingscode
(``GEEN`` when none) and onderwijssoort; one peildatum per school year and one row per pupil count."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from node_agent.columnar import by_unique
from node_agent.pseudonymise import check_bsn, pseudonymise
from node_agent.read.parse import check_date, is_empty, two_digits
from node_agent.read.report import Extract, FileReport, Flags, ReadOptions
from node_agent.read.sources import column, concat_parts, row_chunks
from shared.codes import GEEN_SCHOOL, ONDERWIJSSOORTEN, is_brin, is_vestigingscode, normalise_gemeentecode
from shared.pseudonym import Pseudonymiser


def _vestiging(value: str) -> str:
    v = value.upper()
    if v in ("", GEEN_SCHOOL):
        return GEEN_SCHOOL
    return v if is_vestigingscode(v) else ""


def read_leerlingen(
    opts: ReadOptions, pseudonymiser: Pseudonymiser, gemeentecode: str, allow_test_bsn: bool = False
) -> Extract:
    """Enrolment on the peildatum: pseudonym, school year, vestigingscode (``GEEN`` when none)."""
    report = FileReport.for_options(opts)
    parts: list[pd.DataFrame] = []
    bsn_parts: list[np.ndarray] = []
    for f, lines, flags in row_chunks(opts, report):
        ints, bsn_reason = check_bsn(column(f, "bsn"), allow_test_bsn)
        flags.flag_codes(bsn_reason)
        geboorte = check_date(flags, column(f, "geboortedatum"), "geboortedatum", True)
        peil = check_date(flags, column(f, "peildatum"), "peildatum", True)
        if "vestigingscode" in f.columns:
            vest = by_unique(f["vestigingscode"].to_numpy(dtype=object), _vestiging)
            flags.flag(vest == "", "vestigingscode_ongeldig")
        else:
            vest = _brin_vestiging(flags, column(f, "brin"), column(f, "vestigingsnummer"))
        soort = by_unique(column(f, "onderwijssoort"), lambda v: v.upper() if v == "" or v.upper() in ONDERWIJSSOORTEN else None)
        flags.flag(pd.isna(soort), "onderwijssoort_onbekend")
        woon_raw = column(f, "woongemeente")
        woon_code = np.where(woon_raw == gemeentecode, gemeentecode, "").astype(object)
        other = woon_raw != gemeentecode
        woon_empty = np.zeros(len(f), dtype=bool)
        if other.any():
            woon_code[other] = by_unique(woon_raw[other], _gemeente)
            woon_empty[other] = is_empty(woon_raw[other])
        flags.flag(woon_empty, "woongemeente_ontbreekt")
        flags.flag(woon_code == "", "woongemeente_ongeldig")
        flags.flag(woon_code != gemeentecode, "andere_woongemeente")
        flags.flag(~by_unique(column(f, "buurtcode"), lambda v: v == "" or re.fullmatch(r"BU\d{8}", v.upper()) is not None,
                              bool), "buurtcode_ongeldig")
        flags.report_into(report, lines)
        ok = flags.ok
        bsn_parts.append(ints[ok])
        parts.append(
            pd.DataFrame(
                {
                    "line": lines[ok],
                    "geboortedatum": geboorte[ok],
                    "peildatum": peil[ok],
                    "vestigingscode": vest[ok],
                    "onderwijssoort": soort[ok],
                }
            )
        )
    data = concat_parts(parts, {"line": np.int64, "geboortedatum": "datetime64[s]", "peildatum": "datetime64[s]",
                                "vestigingscode": object, "onderwijssoort": object})
    ints = np.concatenate(bsn_parts) if bsn_parts else np.empty(0, np.int64)
    peil_days = data["peildatum"].to_numpy("datetime64[D]")
    months = peil_days.astype("datetime64[M]").astype(np.int64)  # months since 1970-01
    first_year = 1970 + (months - 7) // 12  # August starts a school year
    data["schooljaar"] = by_unique(first_year.astype(str).astype(object), lambda y: f"{y}-{int(y) + 1}")
    keep = np.ones(len(data), dtype=bool)
    # One peildatum per school year: the most frequent one counts, other rows are rejected.
    if len(data):
        counts = data.groupby(["schooljaar", "peildatum"]).size().reset_index(name="n")
        counts = counts.sort_values(["schooljaar", "n", "peildatum"], ascending=[True, False, True])
        chosen = counts.drop_duplicates("schooljaar").set_index("schooljaar")["peildatum"]
        off = data["peildatum"].to_numpy() != data["schooljaar"].map(chosen).to_numpy()
        if off.any():
            report.add("peildatum_afwijkend", data["line"].to_numpy()[off])
            keep &= ~off
    # A pupil counts once per school year (first row wins), or partials would not add up.
    dup = pd.DataFrame({"b": ints, "j": data["schooljaar"].to_numpy(object)}).duplicated(keep="first").to_numpy(bool).copy()
    dup &= keep
    if dup.any():
        report.add("leerling_dubbel", data["line"].to_numpy()[dup])
        keep &= ~dup
    if not keep.all():
        data = data.loc[keep].reset_index(drop=True)
        ints = ints[keep]
    data.insert(0, "pseudonym", pseudonymise(ints, pseudonymiser))
    del ints
    report.rows_used = len(data)
    report.check_balance()
    return Extract("leerlingen", data, report)


def _gemeente(value: str) -> str:
    try:
        return normalise_gemeentecode(value)
    except ValueError:
        return ""


def _brin_vestiging(flags: Flags, brin: np.ndarray, nummer: np.ndarray) -> np.ndarray:
    both_empty = is_empty(brin) & is_empty(nummer)
    brin_u = by_unique(brin, lambda v: v.upper() if is_brin(v.upper()) else "")
    nr = by_unique(nummer, lambda v: two_digits(v) if v.isascii() and v.isdigit() and int(v) < 100 else "")
    flags.flag(~both_empty & (brin_u == ""), "brin_ongeldig")
    flags.flag(~both_empty & (nr == ""), "vestigingsnummer_ongeldig")
    code = np.where(both_empty, GEEN_SCHOOL, brin_u + nr)
    return code.astype(object)

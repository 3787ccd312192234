"""The leerlingen extract: enrolment on the peildatum per school year — pseudonym, vestigingscode
(``GEEN`` when none) and onderwijssoort; one peildatum per school year and one row per pupil count."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from node_agent.columnar import per_value, text_series
from node_agent.pseudonymise import check_bsn_values, pseudonym_column
from node_agent.read.parse import check_date, check_vestiging
from node_agent.read.report import Extract, FileReport, ReadOptions
from node_agent.read.sources import column, concat_parts, row_chunks
from shared.codes import ONDERWIJSSOORTEN, normalise_gemeentecode
from shared.pseudonym import Pseudonymiser


def read_leerlingen(
    opts: ReadOptions, pseudonymiser: Pseudonymiser, gemeentecode: str, allow_test_bsn: bool = False
) -> Extract:
    """Enrolment on the peildatum: pseudonym, school year, vestigingscode (``GEEN`` when none)."""
    report = FileReport.for_options(opts)
    parts: list[pd.DataFrame] = []
    bsn_parts: list[np.ndarray] = []
    for f, lines, flags in row_chunks(opts, report):
        bsn = column(f, "bsn")
        bsn_ints, bsn_reason = check_bsn_values(bsn.values, allow_test_bsn)
        flags.flag_value_codes(bsn, bsn_reason)
        geboorte = check_date(flags, column(f, "geboortedatum"), "geboortedatum", True)
        peil = check_date(flags, column(f, "peildatum"), "peildatum", True)
        vest = check_vestiging(flags, f)
        sc = column(f, "onderwijssoort")
        soort_v = per_value(sc, lambda v: v.upper() if v == "" or v.upper() in ONDERWIJSSOORTEN else None)
        flags.flag_values(sc, pd.isna(soort_v), "onderwijssoort_onbekend")
        woon = column(f, "woongemeente")
        # the municipality's own code as written needs no parsing; anything else is trimmed and normalised
        woon_code = np.array([gemeentecode if v == gemeentecode else _gemeente(v.strip()) for v in woon.values],
                             dtype=object)
        woon_empty = np.array([v != gemeentecode and v.strip() == "" for v in woon.values], dtype=bool)
        flags.flag_values(woon, woon_empty, "woongemeente_ontbreekt")
        flags.flag_values(woon, woon_code == "", "woongemeente_ongeldig")
        flags.flag_values(woon, woon_code != gemeentecode, "andere_woongemeente")
        buurt = column(f, "buurtcode")
        flags.flag_values(buurt, ~per_value(buurt, lambda v: v == "" or re.fullmatch(r"BU\d{8}", v.upper()) is not None,
                                            bool), "buurtcode_ongeldig")
        flags.report_into(report, lines)
        ok = flags.selection()
        bsn_parts.append(bsn_ints[bsn.codes[ok]])
        parts.append(
            pd.DataFrame(
                {
                    "line": lines[ok],
                    "geboortedatum": geboorte[ok],
                    "peildatum": peil[ok],
                    "vestigingscode": text_series(vest[ok]),
                    "onderwijssoort": text_series(soort_v[sc.codes[ok]]),
                },
                copy=False,
            )
        )
    data = concat_parts(parts, {"line": np.int64, "geboortedatum": "datetime64[s]", "peildatum": "datetime64[s]",
                                "vestigingscode": object, "onderwijssoort": object})
    ints = (bsn_parts[0] if len(bsn_parts) == 1 else np.concatenate(bsn_parts)) if bsn_parts else np.empty(0, np.int64)
    # The school year is the one the peildatum falls in; per distinct peildatum, not per row.
    day_codes, days = pd.factorize(data["peildatum"].to_numpy("datetime64[D]").astype(np.int64), sort=False)
    days = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    months = days.astype("datetime64[M]").astype(np.int64)  # months since 1970-01
    first_year = 1970 + (months - 7) // 12  # August starts a school year
    year_of_day = np.array([f"{y}-{y + 1}" for y in first_year.tolist()], dtype=object)
    data["schooljaar"] = text_series(year_of_day[day_codes])
    keep = np.ones(len(data), dtype=bool)
    # One peildatum per school year: the most frequent one counts, other rows are rejected.
    if len(data):
        counts = pd.DataFrame({"schooljaar": year_of_day, "peildatum": days,
                               "n": np.bincount(day_codes, minlength=len(days))})
        counts = counts.sort_values(["schooljaar", "n", "peildatum"], ascending=[True, False, True])
        chosen = counts.drop_duplicates("schooljaar").set_index("schooljaar")["peildatum"]
        off_day = days != pd.Series(year_of_day).map(chosen).to_numpy("datetime64[D]")
        if off_day.any():
            off = off_day[day_codes]
            report.add("peildatum_afwijkend", data["line"].to_numpy()[off])
            keep &= ~off
    # A pupil counts once per school year (first row wins), or partials would not add up.
    year_of_day_code, years = pd.factorize(first_year)
    dup = pd.Series(ints * max(len(years), 1) + year_of_day_code[day_codes]).duplicated(keep="first").to_numpy(bool)
    dup = dup.copy()
    dup &= keep
    if dup.any():
        report.add("leerling_dubbel", data["line"].to_numpy()[dup])
        keep &= ~dup
    if not keep.all():
        data = data.loc[keep].reset_index(drop=True)
        ints = ints[keep]
    data.insert(0, "pseudonym", pseudonym_column(ints, pseudonymiser))
    del ints
    report.rows_used = len(data)
    report.check_balance()
    return Extract("leerlingen", data, report)


def _gemeente(value: str) -> str:
    try:
        return normalise_gemeentecode(value)
    except ValueError:
        return ""


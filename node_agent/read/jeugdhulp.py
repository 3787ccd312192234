"""The jeugdhulp extract: allocations (toewijzingen) with pseudonym, dates, zorgtype, verwijzer, AGB and
provider name; deleted allocations (reden_wijziging 13) are excluded, a repeated toewijzingnummer
counts once."""

from __future__ import annotations

import numpy as np
import pandas as pd

from node_agent.columnar import Distinct, by_unique, per_value, text_series
from node_agent.pseudonymise import check_bsn_values, pseudonym_column
from node_agent.read.parse import check_date, two_digits
from node_agent.read.report import Extract, FileReport, ReadOptions
from node_agent.read.sources import column, concat_parts, row_chunks
from shared.codes import VERWIJZER_ONBEKEND, VERWIJZERS, ZorgtypeTable
from shared.partial import provider_name_problem
from shared.pseudonym import Pseudonymiser

#: Open-ended allocations end on this day in the frames (numpy datetimes have no "infinity").
OPEN_END = np.datetime64("9999-12-31", "D")


def read_jeugdhulp(
    opts: ReadOptions, pseudonymiser: Pseudonymiser, zorgtypes: ZorgtypeTable, allow_test_bsn: bool = False
) -> Extract:
    """Allocations: pseudonym, dates, zorgtype, verwijzer, AGB, provider name ("" when absent or
    unusable, :func:`provider_name`); reden_wijziging 13 excluded."""
    report = FileReport.for_options(opts)
    parts: list[pd.DataFrame] = []
    bsn_parts: list[np.ndarray] = []
    rejected_nrs: list[np.ndarray] = []
    excluded_nrs: list[np.ndarray] = []
    for f, lines, flags in row_chunks(opts, report):
        reden = column(f, "reden_wijziging")
        flags.flag_values(reden, per_value(reden, lambda v: v == "13", bool), "reden_wijziging_13")
        bsn = column(f, "bsn")
        bsn_ints, bsn_reason = check_bsn_values(bsn.values, allow_test_bsn)
        flags.flag_value_codes(bsn, bsn_reason)
        geboorte = check_date(flags, column(f, "geboortedatum"), "geboortedatum", True)
        nr = column(f, "toewijzingnummer")
        nr_v = nr.trimmed()
        flags.flag_values(nr, nr_v == "", "toewijzingnummer_ontbreekt")
        nrs = nr.spread(nr_v)
        code = column(f, "productcode")
        zorgtype = _zorgtypes(column(f, "productcategorie"), code, zorgtypes)
        flags.flag(zorgtype == "", "productcategorie_onbekend")
        flags.flag_values(code, per_value(code, lambda v: len(v) > 5, bool), "productcode_te_lang")
        agb_col = column(f, "aanbieder_agb")
        agb_v = agb_col.trimmed()
        flags.flag_values(agb_col, agb_v == "", "aanbieder_agb_ontbreekt")
        agb_ok = per_value(agb_col, lambda v: v == "" or (len(v) == 8 and v.isascii() and v.isdigit()), bool)
        flags.flag_values(agb_col, ~agb_ok, "aanbieder_agb_ongeldig")
        agb = agb_col.spread(agb_v)
        naam_col = column(f, "aanbieder_naam")
        naam = naam_col.spread(per_value(naam_col, provider_name))
        verwijzer_col = column(f, "verwijzer")
        verwijzer_v = per_value(verwijzer_col, _verwijzer)
        flags.flag_values(verwijzer_col, verwijzer_v == "", "verwijzer_onbekend")
        verwijzer = verwijzer_col.spread(verwijzer_v)
        start = check_date(flags, column(f, "ingangsdatum"), "ingangsdatum", True)
        end = check_date(flags, column(f, "einddatum"), "einddatum", False)
        flags.flag(~np.isnat(end) & ~np.isnat(start) & (end < start), "einddatum_voor_ingangsdatum")
        flags.flag(~np.isnat(geboorte) & ~np.isnat(start) & (start < geboorte), "ingangsdatum_voor_geboorte")
        flags.report_into(report, lines)
        deleted = flags.failed("reden_wijziging_13")
        excluded_nrs.append(nrs[deleted])
        rejected_nrs.append(nrs[~flags.ok & ~deleted])
        ok = flags.selection()
        bsn_parts.append(bsn_ints[bsn.codes[ok]])
        parts.append(
            pd.DataFrame(
                {
                    "line": lines[ok],
                    "toewijzingnummer": text_series(nrs[ok]),
                    "geboortedatum": geboorte[ok],
                    "zorgtype": text_series(zorgtype[ok]),
                    "verwijzer": text_series(verwijzer[ok]),
                    "aanbieder_agb": text_series(agb[ok]),
                    "aanbieder_naam": text_series(naam[ok]),
                    "ingangsdatum": start[ok],
                    "einddatum": np.where(np.isnat(end[ok]), OPEN_END, end[ok]),
                },
                copy=False,
            )
        )
    data = concat_parts(
        parts,
        {"line": np.int64, "toewijzingnummer": object, "geboortedatum": "datetime64[s]", "zorgtype": object,
         "verwijzer": object, "aanbieder_agb": object, "aanbieder_naam": object, "ingangsdatum": "datetime64[s]",
         "einddatum": "datetime64[s]"},
    )
    ints = np.concatenate(bsn_parts) if bsn_parts else np.empty(0, np.int64)
    # Duplicate toewijzingnummer: the first occurrence counts, later ones are rejected.
    dup = data["toewijzingnummer"].duplicated(keep="first").to_numpy(bool)
    if dup.any():
        report.add("toewijzingnummer_dubbel", data["line"].to_numpy()[dup])
        data = data.loc[~dup].reset_index(drop=True)
        ints = ints[~dup]
    data.insert(0, "pseudonym", pseudonym_column(ints, pseudonymiser))
    del ints
    report.rows_used = len(data)
    report.check_balance()
    return Extract("jeugdhulp", data, report, _unique_nonempty(excluded_nrs), _unique_nonempty(rejected_nrs))


def _unique_nonempty(parts: list[np.ndarray]) -> pd.Index:
    if not parts:
        return pd.Index([], dtype=object)
    values = pd.unique(np.concatenate(parts))
    return pd.Index([v for v in values if v], dtype=object)


def _zorgtypes(cat: Distinct, code: Distinct, table: ZorgtypeTable) -> np.ndarray:
    """Zorgtype slug per row, "" when the productcategorie is unknown (productcode overrides first)."""
    by_cat = by_unique(cat, lambda c: table.by_categorie.get(two_digits(c), ""))
    if table.by_productcode:
        by_code = by_unique(code, lambda c: table.by_productcode.get(c, ""))
        by_cat = np.where(by_code != "", by_code, by_cat)
    return by_cat


def provider_name(value: str) -> str:
    """The provider name as it may be sent: runs of white space (a tab, a non-breaking space) become
    one space; "" when the name is empty or unusable (shared.partial's ``provider_name_problem``:
    too long, a formula, a bare code). Never a reason to reject the row: the name is optional."""
    name = " ".join(value.split())
    return name if name and provider_name_problem(name) is None else ""


def _verwijzer(value: str) -> str:
    if value == "":
        return VERWIJZER_ONBEKEND
    value = two_digits(value)
    return value if value in VERWIJZERS and value != VERWIJZER_ONBEKEND else ""

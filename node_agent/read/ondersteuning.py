"""The ondersteuning extract (an SWV's): one row per support of a pupil at a school — pseudonym,
vestigingscode, soort (and its soort group) and dates; rows without a school, or at a school outside
the SWV, are excluded by rule."""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd

from node_agent.columnar import per_value, text_series
from node_agent.pseudonymise import check_bsn_values, pseudonym_column
from node_agent.read.jeugdhulp import OPEN_END
from node_agent.read.parse import check_date, check_vestiging
from node_agent.read.report import Extract, FileReport, ReadOptions
from node_agent.read.sources import column, concat_parts, row_chunks
from shared.codes import GEEN_SCHOOL, ONDERSTEUNINGSSOORT_BY_SLUG, ondersteuningssoort
from shared.pseudonym import Pseudonymiser


def read_ondersteuning(opts: ReadOptions, pseudonymiser: Pseudonymiser, allow_test_bsn: bool = False,
                       schools: Collection[str] | None = None) -> Extract:
    """Support rows: pseudonym, vestigingscode, soort and its group, ingangsdatum, einddatum (open-ended:
    :data:`~node_agent.read.jeugdhulp.OPEN_END`). ``schools`` (the SWV's schools, from the hub's round):
    a row at any other school is excluded (``vestiging_buiten_swv``); None: every school counts."""
    report = FileReport.for_options(opts)
    own = None if schools is None else frozenset(schools)
    parts: list[pd.DataFrame] = []
    bsn_parts: list[np.ndarray] = []
    for f, lines, flags in row_chunks(opts, report):
        # The school first: a row that is not about one of the SWV's schools is none of its business.
        vest = check_vestiging(flags, f)
        flags.flag(vest == GEEN_SCHOOL, "zonder_vestiging")
        if own is not None:
            flags.flag(~np.isin(vest, list(own)) & (vest != "") & (vest != GEEN_SCHOOL), "vestiging_buiten_swv")
        bsn = column(f, "bsn")
        bsn_ints, bsn_reason = check_bsn_values(bsn.values, allow_test_bsn)
        flags.flag_value_codes(bsn, bsn_reason)
        sc = column(f, "soort")
        soort_v = per_value(sc, lambda v: ondersteuningssoort(v) or ("" if v.strip() == "" else None))
        flags.flag_values(sc, soort_v == "", "soort_ontbreekt")
        flags.flag_values(sc, pd.isna(soort_v), "soort_onbekend")
        start = check_date(flags, column(f, "ingangsdatum"), "ingangsdatum", True)
        end = check_date(flags, column(f, "einddatum"), "einddatum", False)
        flags.flag(~np.isnat(end) & ~np.isnat(start) & (end < start), "einddatum_voor_ingangsdatum")
        flags.report_into(report, lines)
        ok = flags.selection()
        bsn_parts.append(bsn_ints[bsn.codes[ok]])
        soort = soort_v[sc.codes[ok]]
        parts.append(
            pd.DataFrame(
                {
                    "line": lines[ok],
                    "vestigingscode": text_series(vest[ok]),
                    "soort": text_series(soort),
                    "groep": text_series(np.array([ONDERSTEUNINGSSOORT_BY_SLUG[s].group for s in soort], dtype=object)),
                    "ingangsdatum": start[ok],
                    "einddatum": np.where(np.isnat(end[ok]), OPEN_END, end[ok]),
                },
                copy=False,
            )
        )
    data = concat_parts(parts, {"line": np.int64, "vestigingscode": object, "soort": object, "groep": object,
                                "ingangsdatum": "datetime64[s]", "einddatum": "datetime64[s]"})
    ints = np.concatenate(bsn_parts) if bsn_parts else np.empty(0, np.int64)
    data.insert(0, "pseudonym", pseudonym_column(ints, pseudonymiser))
    del ints
    report.rows_used = len(data)
    report.check_balance()
    return Extract("ondersteuning", data, report)

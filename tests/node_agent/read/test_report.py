"""The accounting identity: every line of a file is used, rejected or excluded, exactly once."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from node_agent.read import ReadOptions, read_declaraties
from node_agent.read.report import EXCLUSION_RULES, REASONS, FileReport, Flags
from tests.node_agent.helpers import B, invalid_bsn, jeugdhulp_row, jh, write_csv


row_strategy = st.fixed_dictionaries(
    {
        "bsn": st.sampled_from(B[:6] + [invalid_bsn(B[0]), "", "999999999"]),
        "nr": st.sampled_from(["T1", "T2", "T3", ""]),
        "cat": st.sampled_from(["45", "51", "99", "", "48"]),
        "start": st.sampled_from(["2024-09-01", "01-10-2024", "2024-02-30", ""]),
        "end": st.sampled_from(["", "2025-01-01", "2024-01-01"]),
        "reden": st.sampled_from(["", "", "13"]),
        "agb": st.sampled_from(["98000001", "123"]),
    }
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(row_strategy, max_size=25), st.lists(st.tuples(st.sampled_from(["T1", "T2", "T3", "T9", ""]),
                                                         st.sampled_from(["2024-09-01", "x"]),
                                                         st.sampled_from(["100", "-5", "1,5"]),
                                                         st.sampled_from(["D", "C", "", "?"])), max_size=25))
def test_accounting_identity_for_random_rows(tmp_path, rows, claims):
    jrows = [jeugdhulp_row(r["bsn"], r["nr"], r["cat"], r["start"], r["end"], agb=r["agb"], reden=r["reden"]) for r in rows]
    e = jh(tmp_path / "jh.csv", jrows)
    r = e.report
    assert r.rows_read == len(rows) == r.rows_used + r.rows_rejected + r.rows_excluded
    assert len(e.data) == r.rows_used
    all_lines = sorted(np.concatenate([i.all_lines() for i in list(r.rejected.values()) + list(r.excluded.values())]
                                      + [e.data["line"].to_numpy()]).tolist())
    assert all_lines == list(range(2, len(rows) + 2))  # every line exactly once
    path = write_csv(tmp_path / "d.csv", ["toewijzingnummer", "periode_begin", "bedrag_eurocent", "debet_credit"],
                     [list(c) for c in claims])
    d = read_declaraties(ReadOptions(path, "declaraties"), e)
    q = d.report.to_quality()
    assert q.rows_read == len(claims) and q.balanced


def test_a_report_sorts_reasons_into_rejected_and_excluded_and_checks_its_balance():
    report = FileReport("jeugdhulp", "jh.csv", rows_read=5, rows_used=1)
    report.add("bsn_elfproef", np.array([4, 2]))
    report.add("reden_wijziging_13", np.array([3]))
    report.add("lege_regel", np.array([], dtype=np.int64))  # nothing to add: no entry
    with pytest.raises(AssertionError, match="accounting broken for jh.csv"):
        report.check_balance()
    report.add("bsn_elfproef", np.array([6]))
    report.check_balance()
    assert (report.rows_rejected, report.rows_excluded) == (3, 1)
    d = report.to_dict(max_lines=2)
    assert d["rejected"] == [{"reason": "bsn_elfproef", "column": "bsn", "message": REASONS["bsn_elfproef"][1],
                              "rows": 3, "lines": [2, 4]}]
    assert [i["reason"] for i in d["excluded"]] == ["reden_wijziging_13"]
    assert report.to_quality().balanced


def test_the_first_failing_rule_of_a_row_counts():
    flags = Flags(4)
    flags.flag(np.array([True, False, False, False]), "lege_regel")
    flags.flag(np.array([True, True, False, False]), "bsn_missing")
    flags.flag_codes(np.array(["", "bsn_format", "bsn_elfproef", ""], dtype=object))
    assert list(flags.ok) == [False, False, False, True]
    assert list(flags.failed("bsn_missing")) == [False, True, False, False]
    report = FileReport("jeugdhulp", "jh.csv")
    flags.report_into(report, np.array([2, 3, 4, 5]))
    assert {k: list(v.all_lines()) for k, v in report.rejected.items()} == {"bsn_missing": [3], "bsn_elfproef": [4]}
    assert list(report.excluded) == ["lege_regel"] and "lege_regel" in EXCLUSION_RULES

"""The privacy boundary: BSN text is checked here and turned into keyed-hash pseudonyms here.

Readers pass the raw ``bsn`` column to :func:`check_bsn`, keep the int64 column it returns only to
select rows, and hand it to :func:`pseudonym_column`; frames leaving the readers hold pseudonyms only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from node_agent.columnar import Distinct, fast_digits
from shared.pseudonym import ELFPROEF_WEIGHTS, PLACEHOLDERS, TEST_RANGE, BsnRejected, Pseudonymiser, canonical_bsn

# shared.pseudonym's rules as arrays, so the fast path cannot drift from canonical_bsn.
_WEIGHTS = np.array(ELFPROEF_WEIGHTS, dtype=np.int64)
_PLACEHOLDERS = np.array(sorted(int(p) for p in PLACEHOLDERS), dtype=np.int64)


def check_bsn_values(values: np.ndarray, allow_test_range: bool) -> tuple[np.ndarray, np.ndarray]:
    """:func:`check_bsn` for distinct raw values: (BSN as int64, reason code or "") per value."""
    values = np.asarray(values, dtype=object)
    ints, ok = fast_digits(values, 9)
    reason = np.full(len(values), "", dtype=object)
    # Anything unusual (spaces, "12345672.0", letters, too long) goes through shared's own rules.
    for i in np.flatnonzero(~ok):
        try:
            ints[i] = int(canonical_bsn(values[i], allow_test_range=True))
        except BsnRejected as exc:
            reason[i] = exc.reason
    checked = reason == ""
    placeholder = checked & np.isin(ints, _PLACEHOLDERS)
    reason[placeholder] = "bsn_placeholder"
    total = _elfproef_sums(ints)
    elf_ok = (total % 11 == 0) & (total != 0)
    reason[checked & ~placeholder & ~elf_ok] = "bsn_elfproef"
    if not allow_test_range:
        test = checked & ~placeholder & elf_ok & (ints >= TEST_RANGE[0]) & (ints <= TEST_RANGE[1])
        reason[test] = "bsn_test_range"
    return ints, reason


def _elfproef_sums(ints: np.ndarray) -> np.ndarray:
    """9·d1 + 8·d2 + … + 2·d8 − 1·d9 for nine-digit numbers (larger ones give a sum that is not used)."""
    rest = np.where((ints >= 0) & (ints < 10**9), ints, 0).astype(np.int32)  # int32 division is the fast kind
    total = np.zeros(len(ints), dtype=np.int32)
    for weight in _WEIGHTS[::-1].tolist():  # last digit first
        total += (rest % 10) * np.int32(weight)
        rest //= 10
    return total.astype(np.int64)


def check_bsn(values: Any, allow_test_range: bool) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised ``shared.pseudonym.canonical_bsn``: (BSN as int64, reason code per row or "")."""
    d = Distinct.of(values)
    ints, reason = check_bsn_values(d.values, allow_test_range)
    return d.spread(ints), d.spread(reason)


def _digests(uniques: np.ndarray, pseudonymiser: Pseudonymiser, batch: int) -> np.ndarray:
    """The pseudonym of each distinct BSN, in order; the canonical text exists one batch at a time."""
    out = np.empty(len(uniques), dtype=object)
    for start in range(0, len(uniques), batch):
        part = [f"{v:09d}" for v in uniques[start : start + batch].tolist()]
        out[start : start + len(part)] = pseudonymiser.pseudonyms(part)
        del part
    return out


def pseudonymise(ints: np.ndarray, pseudonymiser: Pseudonymiser, batch: int = 200_000) -> np.ndarray:
    """Pseudonym (32 bytes, object array of ``bytes``) per row; each distinct BSN is hashed once."""
    codes, uniques = pd.factorize(np.asarray(ints, dtype=np.int64), sort=False)
    return _digests(uniques, pseudonymiser, batch)[codes]


def pseudonym_column(ints: np.ndarray, pseudonymiser: Pseudonymiser, batch: int = 200_000) -> pd.Categorical:
    """:func:`pseudonymise` as a categorical: a code per row, each distinct pseudonym held once."""
    codes, uniques = pd.factorize(np.asarray(ints, dtype=np.int64), sort=False)
    categories = pd.Index(_digests(uniques, pseudonymiser, batch), dtype=object)
    return pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(categories))

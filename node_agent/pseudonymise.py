"""The privacy boundary: BSN text is checked here and turned into keyed-hash pseudonyms here.

Readers pass the raw ``bsn`` column to :func:`check_bsn`, keep the int64 column it returns only to
select rows, and hand it to :func:`pseudonymise`; frames leaving the readers hold pseudonyms only.
"""

from __future__ import annotations

import numpy as np

from node_agent.columnar import Distinct, fast_digits
from shared.pseudonym import ELFPROEF_WEIGHTS, PLACEHOLDERS, TEST_RANGE, BsnRejected, Pseudonymiser, canonical_bsn

# shared.pseudonym's rules as arrays, so the fast path cannot drift from canonical_bsn.
_WEIGHTS = np.array(ELFPROEF_WEIGHTS, dtype=np.int64)
_POWERS = 10 ** np.arange(8, -1, -1, dtype=np.int64)
_PLACEHOLDERS = np.array(sorted(int(p) for p in PLACEHOLDERS), dtype=np.int64)


def check_bsn(values: np.ndarray, allow_test_range: bool) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised ``shared.pseudonym.canonical_bsn``: (BSN as int64, reason code per row or "")."""
    d = Distinct(np.asarray(values, dtype=object))
    ints, ok = fast_digits(d.values, 9)
    reason = np.full(len(d.values), "", dtype=object)
    # Anything unusual (spaces, "12345672.0", letters, too long) goes through shared's own rules.
    for i in np.flatnonzero(~ok):
        try:
            ints[i] = int(canonical_bsn(d.values[i], allow_test_range=True))
        except BsnRejected as exc:
            reason[i] = exc.reason
    checked = reason == ""
    placeholder = checked & np.isin(ints, _PLACEHOLDERS)
    reason[placeholder] = "bsn_placeholder"
    total = ((ints[:, None] // _POWERS[None, :]) % 10) @ _WEIGHTS
    elf_ok = (total % 11 == 0) & (total != 0)
    reason[checked & ~placeholder & ~elf_ok] = "bsn_elfproef"
    if not allow_test_range:
        test = checked & ~placeholder & elf_ok & (ints >= TEST_RANGE[0]) & (ints <= TEST_RANGE[1])
        reason[test] = "bsn_test_range"
    return d.spread(ints), d.spread(reason)


def pseudonymise(ints: np.ndarray, pseudonymiser: Pseudonymiser, batch: int = 200_000) -> np.ndarray:
    """Pseudonym (32 bytes, object array of ``bytes``) per row; each distinct BSN is hashed once.

    The canonical string form exists only inside this function, one batch of distinct BSNs at a time.
    """
    uniques, inverse = np.unique(ints, return_inverse=True)
    out = np.empty(len(uniques), dtype=object)
    for start in range(0, len(uniques), batch):
        part = [f"{v:09d}" for v in uniques[start : start + batch].tolist()]
        digests = pseudonymiser.pseudonymise_many(part)
        out[start : start + len(part)] = [digests[b] for b in part]
        del part, digests
    return out[inverse.reshape(-1)]

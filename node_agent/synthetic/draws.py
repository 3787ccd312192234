"""Random draws the synthetic extracts share (municipalities and SWVs): valid BSNs, a typo that breaks
the elfproef, and faults scattered through an export."""

from __future__ import annotations

import numpy as np

_WEIGHTS = np.array([9, 8, 7, 6, 5, 4, 3, 2], dtype=np.int64)


def draw_bsns(rng: np.random.Generator, n: int, taken: set[str] | None = None,
              leading_zero_share: float = 0.08) -> list[str]:
    """``n`` distinct valid BSNs (elfproef) outside the test range, none in ``taken`` (updated in place).

    About ``leading_zero_share`` start with a 0 (real BSNs do; spreadsheets strip that zero).
    """
    taken = taken if taken is not None else set()
    out: list[str] = []
    while len(out) < n:
        m = max(64, int((n - len(out)) * 1.25))
        first = np.where(rng.random(m) < leading_zero_share, 0, rng.integers(1, 7, m))  # 1..6: never the 9999 test range
        rest = rng.integers(0, 10, (m, 7))
        digits = np.column_stack([first, rest])
        check = (digits @ _WEIGHTS) % 11
        ok = check <= 9
        digits, check = digits[ok], check[ok]
        nums = digits @ (10 ** np.arange(8, 0, -1, dtype=np.int64)) + check
        for v in nums:
            s = f"{v:09d}"
            if s in taken or s == "000000000":
                continue
            taken.add(s)
            out.append(s)
            if len(out) == n:
                break
    return out


def break_elfproef(bsn: str) -> str:
    """A 9-digit number one digit away from ``bsn`` that fails the elfproef (a typing error)."""
    last = int(bsn[-1])
    return bsn[:-1] + str((last + 1) % 10)


def interleave(rng: np.random.Generator, rows: list, extra: list) -> list:
    """Insert ``extra`` rows at random positions (faults are scattered through a real export)."""
    out = list(rows)
    for item in extra:
        out.insert(int(rng.integers(0, len(out) + 1)), item)
    return out

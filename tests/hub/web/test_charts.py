"""hub/web/charts.py: charts drawn on several threads at once are the charts drawn one after the other."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from hub.indicators.figures import Funnel, FunnelPoint, Rate
from hub.indicators.stats import funnel_limits
from hub.web import charts


def _series(k: int) -> dict:
    return {f"School {k}": [("2022-2023", 10.0 + k, 8.0 + k, 12.5 + k), ("2023-2024", None, None, None),
                            ("2024-2025", 12.0 + k / 2, 9.5, 15.0 + k)],
            "alle BO-scholen": [("2022-2023", 11.0, None, None), ("2023-2024", 11.4, None, None),
                                ("2024-2025", 11.9, None, None)]}


def _funnel(k: int) -> Funnel:
    pooled = Rate(clienten=None, leerlingen=None, status="published", per_100=12.0)
    points = tuple(FunnelPoint(f"{i:02d}AB", 40 + 25 * i + k, 7.0 + i * 0.8, "binnen") for i in range(8))
    anonymous = tuple(FunnelPoint(None, None, 9.0 + i, None) for i in range(k % 3))
    return Funnel("BO", "2024-2025", pooled, points + anonymous, tuple(funnel_limits(0.12, n) for n in range(20, 300, 10)))


def _draw(k: int) -> tuple[str, str]:
    narrow = bool(k % 2)
    return (charts.trend_chart(_series(k), f"Trend {k}", show_intervals=True, narrow=narrow),
            charts.funnel_chart(_funnel(k), f"Funnel {k}", highlight=f"{k % 8:02d}AB", narrow=narrow))


def test_charts_drawn_on_threads_at_once_equal_those_drawn_one_by_one():
    # Arrange
    jobs = list(range(8))
    one_by_one = [_draw(k) for k in jobs]
    # Act: every chart at the same time (pyplot's shared figure list and current axes would mix them up)
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        at_once = list(pool.map(_draw, jobs * 2))
    # Assert
    assert at_once == one_by_one * 2
    assert all('role="img"' in svg and 'aria-label="' in svg for pair in at_once for svg in pair)


def test_charts_do_not_use_pyplot():
    # A fresh interpreter: another test may have imported pyplot in this one.
    code = ("import sys; from hub.web import charts; "
            "charts.trend_chart({'a': [('2024-2025', 1.0, None, None)]}, 't'); "
            "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr

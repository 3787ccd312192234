"""Indicators computed from releases: rates with Wilson intervals, coverage, distributions, providers,
costs, trends and funnel data. Pure functions over release and reference frames; no database.

Every figure here is derived only from PUBLISHED release values, applying the propagation rules of
docs/disclosure-control.md (a rate needs a published numerator and a denominator ≥ the minimum; a mean
needs a published count and a published sum). A suppressed input never reaches an output, not even as a
sort key.
"""

from hub.indicators.cells import Count, ReleaseCells  # noqa: F401
from hub.indicators.stats import funnel_limits, wilson_interval  # noqa: F401

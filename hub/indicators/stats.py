"""Small statistics used by the indicators: the Wilson score interval and funnel-plot control limits."""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Two-sided normal quantiles: 95 % (z = 1.959964) and 99.8 % (z = 3.090232), the usual funnel-plot
#: "2 and 3 sigma" limits (Spiegelhalter 2005).
Z_95 = 1.959963984540054
Z_998 = 3.090232306167813


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for a proportion ``successes / trials`` (as fractions, not per 100).

    Chosen over the Wald interval because school rates are small proportions on small denominators,
    where Wald collapses to zero width at 0 and overshoots below 0.
    """
    if trials <= 0:
        raise ValueError("trials must be positive")
    if not 0 <= successes <= trials:
        raise ValueError("successes must lie between 0 and trials")
    p = successes / trials
    z2 = z * z
    denom = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class FunnelLimits:
    """Control limits around a pooled proportion ``p0`` at denominator ``n`` (fractions)."""

    n: int
    lower_95: float
    upper_95: float
    lower_998: float
    upper_998: float

    def to_dict(self) -> dict:
        return {
            "leerlingen": self.n,
            "ondergrens_95": round(100 * self.lower_95, 3),
            "bovengrens_95": round(100 * self.upper_95, 3),
            "ondergrens_998": round(100 * self.lower_998, 3),
            "bovengrens_998": round(100 * self.upper_998, 3),
        }


def funnel_limits(p0: float, n: int) -> FunnelLimits:
    """Binomial control limits by the normal approximation: ``p0 ± z·sqrt(p0(1−p0)/n)``, clipped to [0, 1].

    The normal approximation is what funnel plots for institutional comparison conventionally use;
    at the denominators shown (n ≥ the minimum denominator, 20) it is close to the exact binomial
    limits for the rates seen in youth care (5–25 %).
    """
    if n <= 0:
        raise ValueError("n must be positive")
    if not 0.0 <= p0 <= 1.0:
        raise ValueError("p0 must be a proportion")
    se = math.sqrt(p0 * (1 - p0) / n)
    return FunnelLimits(
        n=n,
        lower_95=max(0.0, p0 - Z_95 * se),
        upper_95=min(1.0, p0 + Z_95 * se),
        lower_998=max(0.0, p0 - Z_998 * se),
        upper_998=min(1.0, p0 + Z_998 * se),
    )

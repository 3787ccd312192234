"""Gate settings (``GateConfig``) read from the hub's ``DISCLOSURE_*`` keys; looser than the floors is refused.

docs/disclosure-control.md notes floors for the threshold (5) and the rounding base (5). For the other
rules it gives defaults only; a deployment may make them stricter but not looser, so their default *is*
their floor: p ≥ 10, k ≤ 85 with n = 2 (nodes send the two largest amounts; n = 1 would be looser), the cost
insider rule on, costs rounded to at least €1, a minimum rate denominator of at least 20.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Mapping

from shared.errors import ConfigError

_KEYS = {
    "threshold": "DISCLOSURE_THRESHOLD",
    "rounding_base": "DISCLOSURE_ROUNDING_BASE",
    "p_percent": "DISCLOSURE_P_PERCENT",
    "dominance_n": "DISCLOSURE_DOMINANCE_N",
    "dominance_k": "DISCLOSURE_DOMINANCE_K",
    "cost_insider_rule": "DISCLOSURE_COST_INSIDER_RULE",
    "count_insider_rule": "DISCLOSURE_COUNT_INSIDER_RULE",
    "min_denominator": "DISCLOSURE_MIN_DENOMINATOR",
    "cost_rounding_eurocent": "DISCLOSURE_COST_ROUNDING_EUROCENT",
    "group_disclosure_percent": "DISCLOSURE_GROUP_DISCLOSURE_PERCENT",
}


def _as_bool(value: Any) -> bool:
    # Environment variables arrive as strings; "false" must not be truthy.
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in {"1", "true", "yes", "on", "ja"}:
            return True
        if lowered in {"0", "false", "no", "off", "nee", ""}:
            return False
        raise ConfigError(f"'{value}' is geen geldige ja/nee-waarde", code="unsafe_config")
    return bool(value)


@dataclass(frozen=True)
class GateConfig:
    """The disclosure rules' parameters (docs/disclosure-control.md, "Primary rules")."""

    threshold: int = 10
    rounding_base: int = 5
    p_percent: int = 10
    dominance_n: int = 2
    dominance_k: int = 85
    cost_insider_rule: bool = True
    count_insider_rule: bool = False
    min_denominator: int = 20
    cost_rounding_eurocent: int = 100_00
    group_disclosure_percent: int = 90

    def __post_init__(self) -> None:
        problems = []
        if self.threshold < 5:
            problems.append(f"DISCLOSURE_THRESHOLD={self.threshold} ligt onder de ondergrens 5")
        if self.rounding_base < 5:
            problems.append(f"DISCLOSURE_ROUNDING_BASE={self.rounding_base} ligt onder de ondergrens 5")
        if self.p_percent < 10:
            problems.append(f"DISCLOSURE_P_PERCENT={self.p_percent} ligt onder de ondergrens 10")
        if self.dominance_n != 2:
            problems.append(f"DISCLOSURE_DOMINANCE_N={self.dominance_n} moet 2 zijn (knooppunten sturen de twee grootste "
                            "bedragen; met 1 zou de regel losser zijn)")
        if not 0 < self.dominance_k <= 85:
            problems.append(f"DISCLOSURE_DOMINANCE_K={self.dominance_k} moet tussen 1 en 85 liggen")
        if not self.cost_insider_rule:
            problems.append("DISCLOSURE_COST_INSIDER_RULE mag niet uit staan")
        if self.min_denominator < 20:
            problems.append(f"DISCLOSURE_MIN_DENOMINATOR={self.min_denominator} ligt onder de ondergrens 20")
        if self.cost_rounding_eurocent < 100:
            problems.append(f"DISCLOSURE_COST_ROUNDING_EUROCENT={self.cost_rounding_eurocent} ligt onder de ondergrens 100")
        if not 50 < self.group_disclosure_percent <= 90:
            problems.append(f"DISCLOSURE_GROUP_DISCLOSURE_PERCENT={self.group_disclosure_percent} moet tussen 51 en 90 liggen")
        if problems:
            raise ConfigError("Onveilige instellingen voor de openbaarmakingscontrole: " + "; ".join(problems),
                              code="unsafe_config")

    @classmethod
    def from_app_config(cls, mapping: Mapping[str, Any]) -> "GateConfig":
        """Build from a Flask config (or any mapping); missing keys keep their defaults."""
        kwargs: dict[str, Any] = {}
        for attr, key in _KEYS.items():
            if key not in mapping or mapping[key] is None:
                continue
            raw = mapping[key]
            if attr.endswith("_rule"):
                kwargs[attr] = _as_bool(raw)
            else:
                try:
                    kwargs[attr] = int(raw)
                except (TypeError, ValueError):
                    raise ConfigError(f"{key}='{raw}' is geen geheel getal", code="unsafe_config") from None
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "GateConfig":
        return cls(**{k: d[k] for k in _KEYS if k in d})

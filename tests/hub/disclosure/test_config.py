"""GateConfig: the hub's DISCLOSURE_* keys, and refusal of anything looser than the floors."""

from __future__ import annotations

import pytest

from hub.config import DEFAULTS
from hub.disclosure import GateConfig
from shared.errors import ConfigError


def test_defaults_match_hub_config():
    cfg = GateConfig.from_app_config(DEFAULTS)
    assert cfg == GateConfig()
    assert cfg.threshold == 10 and cfg.rounding_base == 5 and cfg.cost_rounding_eurocent == 100_00


def test_stricter_settings_are_accepted_and_strings_parsed():
    cfg = GateConfig.from_app_config({"DISCLOSURE_THRESHOLD": "15", "DISCLOSURE_COUNT_INSIDER_RULE": "true",
                                      "DISCLOSURE_DOMINANCE_K": 75, "DISCLOSURE_P_PERCENT": "20"})
    assert (cfg.threshold, cfg.count_insider_rule, cfg.dominance_k, cfg.p_percent) == (15, True, 75, 20)
    assert GateConfig.from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize("key,value", [
    ("DISCLOSURE_THRESHOLD", 4),
    ("DISCLOSURE_ROUNDING_BASE", 1),
    ("DISCLOSURE_P_PERCENT", 5),
    ("DISCLOSURE_DOMINANCE_K", 95),
    ("DISCLOSURE_DOMINANCE_N", 3),
    ("DISCLOSURE_COST_INSIDER_RULE", "false"),
    ("DISCLOSURE_MIN_DENOMINATOR", 10),
    ("DISCLOSURE_COST_ROUNDING_EUROCENT", 1),
])
def test_looser_than_floor_is_refused(key, value):
    with pytest.raises(ConfigError) as err:
        GateConfig.from_app_config({key: value})
    assert err.value.code == "unsafe_config"


def test_garbage_is_refused_with_a_clear_message():
    with pytest.raises(ConfigError, match="DISCLOSURE_THRESHOLD"):
        GateConfig.from_app_config({"DISCLOSURE_THRESHOLD": "tien"})
    with pytest.raises(ConfigError):
        GateConfig.from_app_config({"DISCLOSURE_COUNT_INSIDER_RULE": "misschien"})


def test_dominance_over_one_amount_is_refused_as_looser():
    with pytest.raises(ConfigError, match="DOMINANCE_N"):
        GateConfig(dominance_n=1)


def test_group_disclosure_percent_is_a_floor():
    assert GateConfig(group_disclosure_percent=80).group_disclosure_percent == 80
    with pytest.raises(Exception, match="GROUP_DISCLOSURE"):
        GateConfig(group_disclosure_percent=95)

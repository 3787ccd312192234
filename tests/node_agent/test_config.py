"""The agent's TOML config: round trip, the commented template, and a clear error for every mistake."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from node_agent.config import AgentConfig, load_config, render_config
from shared.errors import ConfigError


def test_template_loads_and_round_trips(tmp_path):
    text = render_config("356", hub_url="https://hub.example.nl/", jeugdhulp="in/jh.xlsx")
    path = tmp_path / "node-agent.toml"
    path.write_text(text)
    cfg = load_config(path)
    assert cfg.gemeentecode == "0356"
    assert cfg.hub_url == "https://hub.example.nl"
    assert cfg.extracts["jeugdhulp"].path == tmp_path / "in/jh.xlsx"
    assert cfg.signing_key == tmp_path / "keys/signing.pem"
    assert not cfg.require_approval and not cfg.allow_test_bsn
    again = AgentConfig.from_dict(tomllib.loads(cfg.to_toml()), tmp_path, str(path))
    assert again == cfg


def test_every_setting_is_explained_in_the_template():
    text = render_config("0356")
    for setting in ("gemeentecode", "require_approval", "allow_test_bsn", "url", "signing_key", "pseudonym_key",
                    "spool_dir", "log", "location_registry", "format", "delimiter", "encoding", "sheet",
                    "productcategorie", "productcode"):
        assert f"\n{setting} = " in text
    assert text.count("#") > 40


def test_shipped_example_is_valid():
    example = Path(__file__).resolve().parents[2] / "node_agent" / "agent.example.toml"
    cfg = load_config(example)
    assert cfg.gemeentecode == "0356"


def test_column_mapping_and_overrides(tmp_path):
    d = tomllib.loads(render_config("0356"))
    d["extracts"]["jeugdhulp"]["columns"] = {"BSN_kind": "bsn", "AGB-code": "aanbieder_agb"}
    d["zorgtype"] = {"productcategorie": {"45": "maatwerk"}, "productcode": {"54001": "jeugd-ggz"}}
    cfg = AgentConfig.from_dict(d, tmp_path)
    assert cfg.extracts["jeugdhulp"].columns == {"BSN_kind": "bsn", "AGB-code": "aanbieder_agb"}
    table = cfg.zorgtypes()
    assert table.zorgtype("45") == "maatwerk" and table.zorgtype("54", "54001") == "jeugd-ggz"


def _mutate(fn):
    d = tomllib.loads(render_config("0356"))
    fn(d)
    return d


@pytest.mark.parametrize(
    "change,key,fragment",
    [
        (lambda d: d.pop("gemeentecode"), "gemeentecode", "gemeentecode ontbreekt"),
        (lambda d: d.update(gemeentecode="Nieuwegein"), "gemeentecode", "geen gemeentecode"),
        (lambda d: d.update(onbekend=1), "onbekend", "onbekende instelling"),
        (lambda d: d.update(require_approval="ja"), "require_approval", "true of false"),
        (lambda d: d["hub"].update(url="ftp://x"), "hub.url", "https://"),
        (lambda d: d["extracts"]["jeugdhulp"].update(delimiter=":"), "delimiter", "niet toegestaan"),
        (lambda d: d["extracts"]["leerlingen"].update(encoding="latin-9"), "encoding", "niet toegestaan"),
        (lambda d: d["extracts"]["leerlingen"].update(path=3), "path", "tekst"),
        (lambda d: d["extracts"]["jeugdhulp"]["columns"].update({"X": "bsn_kind"}), "extracts.jeugdhulp.columns",
         "geen kolom"),
        (lambda d: d["zorgtype"]["productcategorie"].update({"45": "therapie"}), "zorgtype", "geen bekend zorgtype"),
    ],
)
def test_mistakes_name_file_and_key(tmp_path, change, key, fragment):
    with pytest.raises(ConfigError) as err:
        AgentConfig.from_dict(_mutate(change), tmp_path, "mijn.toml")
    assert fragment in err.value.message
    assert "mijn.toml" in err.value.message
    assert err.value.details["key"] == key
    assert err.value.exit_code == 78


def test_missing_and_invalid_files(tmp_path):
    with pytest.raises(ConfigError, match="bestaat niet"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("gemeentecode = \n")
    with pytest.raises(ConfigError, match="geen geldige TOML"):
        load_config(bad)


def test_an_swv_template_loads_and_round_trips(tmp_path):
    from node_agent.config import render_swv_config

    path = tmp_path / "node-agent.toml"
    path.write_text(render_swv_config("PO2607", ondersteuning="in/o.xlsx"))
    cfg = load_config(path)
    assert (cfg.kind, cfg.node, cfg.swv_code) == ("swv", "PO2607", "PO2607")
    assert cfg.extracts["ondersteuning"].path == tmp_path / "in/o.xlsx" and set(cfg.extracts) == {"ondersteuning"}
    assert AgentConfig.from_dict(tomllib.loads(cfg.to_toml()), tmp_path, str(path)) == cfg
    d = tomllib.loads(render_swv_config("PO2607"))
    d["gemeentecode"] = "0356"
    with pytest.raises(ConfigError, match="allebei"):
        AgentConfig.from_dict(d, tmp_path)
    d = tomllib.loads(render_swv_config("PO2607"))
    d["swv_code"] = "PO26"
    with pytest.raises(ConfigError, match="geen SWV-code"):
        AgentConfig.from_dict(d, tmp_path)

"""The agent's TOML configuration as a typed object; read once by the CLI and passed down.

Relative paths in the file are relative to the directory the config file sits in, so a
municipality can move the whole agent folder without editing it. The same agent runs at a
municipality (``gemeentecode = "0356"``: extracts jeugdhulp, declaraties, leerlingen) or at a
samenwerkingsverband passend onderwijs (``swv_code = "PO2607"``: the extract ondersteuning).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import tomli_w

from shared.codes import (
    NODE_GEMEENTE, NODE_SWV, ZORGTYPE_BY_SLUG, ZorgtypeTable, normalise_gemeentecode, normalise_swv_code, zorgtype_table,
)
from shared.errors import ConfigError

#: The extracts a node of each kind reads.
EXTRACTS_BY_KIND: Mapping[str, tuple[str, ...]] = {
    NODE_GEMEENTE: ("jeugdhulp", "declaraties", "leerlingen"),
    NODE_SWV: ("ondersteuning",),
}
EXTRACT_KINDS = tuple(k for kinds in EXTRACTS_BY_KIND.values() for k in kinds)
#: The extracts a node of each kind needs (declaraties may be left out: no costs).
REQUIRED_EXTRACTS: Mapping[str, tuple[str, ...]] = {NODE_GEMEENTE: ("jeugdhulp", "leerlingen"), NODE_SWV: ("ondersteuning",)}
FORMATS = ("auto", "csv", "xlsx")
DELIMITERS = ("auto", ",", ";", "\t", "|")
ENCODINGS = ("auto", "utf-8", "utf-8-sig", "cp1252")

DEFAULT_CONFIG_NAME = "node-agent.toml"


@dataclass(frozen=True)
class ExtractConfig:
    """Where one extract is and how to read it; ``columns`` maps source names to dictionary names."""

    kind: str
    path: Path | None
    format: str = "auto"
    delimiter: str = "auto"
    encoding: str = "auto"
    sheet: str = ""
    columns: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self, base: Path) -> dict[str, Any]:
        return {
            "path": _rel(self.path, base) if self.path else "",
            "format": self.format,
            "delimiter": self.delimiter,
            "encoding": self.encoding,
            "sheet": self.sheet,
            "columns": dict(self.columns),
        }

    @classmethod
    def from_dict(cls, kind: str, d: Mapping[str, Any], base: Path, source: str) -> "ExtractConfig":
        where = f"[extracts.{kind}]"
        _only_keys(d, {"path", "format", "delimiter", "encoding", "sheet", "columns"}, source, where)
        path = _str(d, "path", source, where, "")
        fmt = _choice(d, "format", FORMATS, source, where)
        delimiter = _choice(d, "delimiter", DELIMITERS, source, where)
        encoding = _choice(d, "encoding", ENCODINGS, source, where)
        columns = d.get("columns", {})
        if not isinstance(columns, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in columns.items()
        ):
            raise ConfigError(
                f"{source}: {where} columns moet een tabel zijn van bronkolom = \"naam uit het datadictionary\"",
                code="config_invalid",
                details={"file": source, "key": f"extracts.{kind}.columns"},
            )
        from node_agent.read.columns import COLUMNS  # the dictionary names per extract

        known = COLUMNS[kind]
        for src, target in columns.items():
            if target not in known:
                raise ConfigError(
                    f"{source}: extracts.{kind}.columns.\"{src}\" verwijst naar '{target}', maar dat is geen kolom "
                    f"van {kind}; kies uit: {', '.join(known)}",
                    code="config_invalid",
                    details={"file": source, "key": f"extracts.{kind}.columns"},
                )
        return cls(
            kind=kind,
            path=_abs(path, base) if path else None,
            format=fmt,
            delimiter=delimiter,
            encoding=encoding,
            sheet=_str(d, "sheet", source, where, ""),
            columns=dict(columns),
        )


@dataclass(frozen=True)
class AgentConfig:
    """Everything the agent needs to know about its node (municipality or SWV), files, keys and hub."""

    gemeentecode: str  # "" at an SWV
    base_dir: Path
    extracts: Mapping[str, ExtractConfig]
    signing_key: Path
    pseudonym_key: Path
    spool_dir: Path
    log_path: Path
    hub_url: str = ""
    location_registry: Path | None = None
    require_approval: bool = False
    allow_test_bsn: bool = False
    zorgtype_productcategorie: Mapping[str, str] = field(default_factory=dict)
    zorgtype_productcode: Mapping[str, str] = field(default_factory=dict)
    source: str = DEFAULT_CONFIG_NAME  # the file it was read from, for messages
    swv_code: str = ""  # the SWV's code at an SWV node ("" at a municipality)
    # The overlap exchange (docs/overlap.md): sealed sets and blinding states, and the key sealing them.
    state_dir: Path | None = None  # None: "state" next to the config
    state_key: Path | None = None  # None: keys/psi-state.key next to the config

    @property
    def psi_dir(self) -> Path:
        return (self.state_dir or self.base_dir / "state") / "psi"

    @property
    def psi_state_key(self) -> Path:
        return self.state_key or self.base_dir / "keys" / "psi-state.key"

    @property
    def kind(self) -> str:
        return NODE_SWV if self.swv_code else NODE_GEMEENTE

    @property
    def node(self) -> str:
        """The node's code: the gemeentecode, or the SWV code."""
        return self.swv_code or self.gemeentecode

    @property
    def node_label(self) -> str:
        """How messages name the node: "gemeente 0356" or "samenwerkingsverband PO2607"."""
        return f"samenwerkingsverband {self.swv_code}" if self.swv_code else f"gemeente {self.gemeentecode}"

    def zorgtypes(self) -> ZorgtypeTable:
        return zorgtype_table(self.zorgtype_productcategorie, self.zorgtype_productcode)

    def extract(self, kind: str) -> ExtractConfig | None:
        cfg = self.extracts.get(kind)
        return cfg if cfg is not None and cfg.path is not None else None

    def to_dict(self) -> dict[str, Any]:
        base = self.base_dir
        return {
            ("swv_code" if self.swv_code else "gemeentecode"): self.node,
            "require_approval": self.require_approval,
            "allow_test_bsn": self.allow_test_bsn,
            "hub": {"url": self.hub_url},
            "keys": {"signing_key": _rel(self.signing_key, base), "pseudonym_key": _rel(self.pseudonym_key, base),
                     "state_key": _rel(self.psi_state_key, base)},
            "paths": {
                "spool_dir": _rel(self.spool_dir, base),
                "state_dir": _rel(self.psi_dir.parent, base),
                "log": _rel(self.log_path, base),
                "location_registry": _rel(self.location_registry, base) if self.location_registry else "",
            },
            "extracts": {kind: cfg.to_dict(base) for kind, cfg in self.extracts.items()},
            "zorgtype": {
                "productcategorie": dict(self.zorgtype_productcategorie),
                "productcode": dict(self.zorgtype_productcode),
            },
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], base_dir: Path, source: str = DEFAULT_CONFIG_NAME) -> "AgentConfig":
        _only_keys(
            d,
            {"gemeentecode", "swv_code", "require_approval", "allow_test_bsn", "hub", "keys", "paths", "extracts",
             "zorgtype"},
            source,
            "het hoofdniveau",
        )
        if "gemeentecode" not in d and "swv_code" not in d:
            raise ConfigError(
                f"{source}: gemeentecode ontbreekt (4 cijfers, bijv. \"0356\"; de agent van een samenwerkingsverband "
                f"heeft in plaats daarvan swv_code, bijv. \"PO2607\")",
                code="config_missing",
                details={"file": source, "key": "gemeentecode"},
            )
        if "gemeentecode" in d and "swv_code" in d:
            raise ConfigError(
                f"{source}: gemeentecode en swv_code staan er allebei; een node is een gemeente of een samenwerkingsverband",
                code="config_invalid",
                details={"file": source, "key": "swv_code"},
            )
        key = "gemeentecode" if "gemeentecode" in d else "swv_code"
        try:
            code = (normalise_gemeentecode if key == "gemeentecode" else normalise_swv_code)(d[key])
        except ValueError as exc:
            raise ConfigError(f"{source}: {key}: {exc}", code="config_invalid", details={"file": source, "key": key}) from None
        kind = NODE_GEMEENTE if key == "gemeentecode" else NODE_SWV
        hub = _table(d, "hub", source)
        keys = _table(d, "keys", source)
        paths = _table(d, "paths", source)
        _only_keys(hub, {"url"}, source, "[hub]")
        _only_keys(keys, {"signing_key", "pseudonym_key", "state_key"}, source, "[keys]")
        _only_keys(paths, {"spool_dir", "log", "location_registry", "state_dir"}, source, "[paths]")
        hub_url = _str(hub, "url", source, "[hub]", "").rstrip("/")
        if hub_url and not hub_url.startswith(("https://", "http://")):
            raise ConfigError(
                f"{source}: [hub] url moet beginnen met https:// (of http:// voor een test)",
                code="config_invalid",
                details={"file": source, "key": "hub.url"},
            )
        extracts_in = _table(d, "extracts", source)
        _only_keys(extracts_in, set(EXTRACTS_BY_KIND[kind]), source, "[extracts] van een " + ("gemeente" if kind == NODE_GEMEENTE else "samenwerkingsverband"))
        extracts: dict[str, ExtractConfig] = {}
        for extract in EXTRACTS_BY_KIND[kind]:
            sub = extracts_in.get(extract, {})
            if not isinstance(sub, Mapping):
                raise ConfigError(
                    f"{source}: [extracts.{extract}] moet een tabel zijn",
                    code="config_invalid",
                    details={"file": source, "key": f"extracts.{extract}"},
                )
            extracts[extract] = ExtractConfig.from_dict(extract, sub, base_dir, source)
        zorgtype = _table(d, "zorgtype", source)
        _only_keys(zorgtype, {"productcategorie", "productcode"}, source, "[zorgtype]")
        by_cat = _str_table(zorgtype, "productcategorie", source)
        by_code = _str_table(zorgtype, "productcode", source)
        for key, target in list(by_cat.items()) + list(by_code.items()):
            if target not in ZORGTYPE_BY_SLUG:
                raise ConfigError(
                    f"{source}: [zorgtype] '{key}' = '{target}' is geen bekend zorgtype; kies uit: "
                    f"{', '.join(ZORGTYPE_BY_SLUG)}",
                    code="unknown_zorgtype",
                    details={"file": source, "key": "zorgtype"},
                )
        registry = _str(paths, "location_registry", source, "[paths]", "")
        return cls(
            gemeentecode=code if kind == NODE_GEMEENTE else "",
            swv_code=code if kind == NODE_SWV else "",
            base_dir=base_dir,
            extracts=extracts,
            signing_key=_abs(_str(keys, "signing_key", source, "[keys]", "keys/signing.pem"), base_dir),
            pseudonym_key=_abs(_str(keys, "pseudonym_key", source, "[keys]", "keys/pseudonym.key"), base_dir),
            spool_dir=_abs(_str(paths, "spool_dir", source, "[paths]", "spool"), base_dir),
            log_path=_abs(_str(paths, "log", source, "[paths]", "node-agent-log.jsonl"), base_dir),
            state_dir=_abs(_str(paths, "state_dir", source, "[paths]", "state"), base_dir),
            state_key=_abs(_str(keys, "state_key", source, "[keys]", "keys/psi-state.key"), base_dir),
            hub_url=hub_url,
            location_registry=_abs(registry, base_dir) if registry else None,
            require_approval=_bool(d, "require_approval", source),
            allow_test_bsn=_bool(d, "allow_test_bsn", source),
            zorgtype_productcategorie=by_cat,
            zorgtype_productcode=by_code,
            source=source,
        )

    def to_toml(self) -> str:
        return tomli_w.dumps(self.to_dict())


def load_config(path: Path | str) -> AgentConfig:
    """Read and check the config file; every mistake is a ConfigError naming the file and key."""
    path = Path(path)
    source = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"Configuratiebestand {source} bestaat niet. Maak het met 'node-agent init', of geef het pad vóór de opdracht op: node-agent --config PAD <opdracht>.",
            code="config_missing",
            details={"file": source},
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"Configuratiebestand {source} is niet leesbaar ({exc.strerror})",
            code="config_unreadable",
            details={"file": source},
        ) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{source}: het bestand is geen UTF-8", code="config_invalid", details={"file": source}) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{source}: geen geldige TOML ({exc})", code="config_invalid", details={"file": source}
        ) from None
    return AgentConfig.from_dict(data, path.resolve().parent, source)


# --- helpers ----------------------------------------------------------------------------------


def _abs(value: str, base: Path) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else base / p


def _rel(path: Path, base: Path) -> str:
    try:
        return str(Path(path).relative_to(base))
    except ValueError:
        return str(path)


def _only_keys(d: Mapping[str, Any], allowed: set[str], source: str, where: str) -> None:
    unknown = sorted(set(d) - allowed)
    if unknown:
        raise ConfigError(
            f"{source}: onbekende instelling(en) in {where}: {', '.join(unknown)}; toegestaan: {', '.join(sorted(allowed))}",
            code="config_unknown_key",
            details={"file": source, "key": unknown[0]},
        )


def _table(d: Mapping[str, Any], key: str, source: str) -> Mapping[str, Any]:
    value = d.get(key, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"{source}: [{key}] moet een tabel zijn", code="config_invalid", details={"file": source, "key": key})
    return value


def _str(d: Mapping[str, Any], key: str, source: str, where: str, default: str) -> str:
    value = d.get(key, default)
    if not isinstance(value, str):
        raise ConfigError(
            f"{source}: {where} {key} moet tekst zijn (tussen aanhalingstekens)",
            code="config_invalid",
            details={"file": source, "key": key},
        )
    return value


def _str_table(d: Mapping[str, Any], key: str, source: str) -> dict[str, str]:
    value = d.get(key, {})
    if not isinstance(value, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ConfigError(
            f"{source}: [zorgtype] {key} moet een tabel van tekst = tekst zijn",
            code="config_invalid",
            details={"file": source, "key": f"zorgtype.{key}"},
        )
    return dict(value)


def _choice(d: Mapping[str, Any], key: str, choices: tuple[str, ...], source: str, where: str) -> str:
    value = _str(d, key, source, where, choices[0])
    if value not in choices:
        shown = ", ".join(repr(c) for c in choices)
        raise ConfigError(
            f"{source}: {where} {key} = {value!r} is niet toegestaan; kies uit {shown}",
            code="config_invalid",
            details={"file": source, "key": key},
        )
    return value


def _bool(d: Mapping[str, Any], key: str, source: str) -> bool:
    value = d.get(key, False)
    if not isinstance(value, bool):
        raise ConfigError(
            f"{source}: {key} moet true of false zijn", code="config_invalid", details={"file": source, "key": key}
        )
    return value


def _q(value: str) -> str:
    """A TOML string literal (escaped by tomli-w, so paths with quotes or backslashes stay valid)."""
    return tomli_w.dumps({"x": value})[4:].strip()


def _approval_and_hub(hub_url: str) -> str:
    """The settings every kind of node's config starts with: approval, test BSNs and the hub."""
    return f"""\
# true: an upload waits until a named person ran  node-agent approve PARTIAL --by "Naam"
require_approval = false

# true: accept BSNs from the reserved test range (9999xxxxx, issued for software tests); demo data only.
allow_test_bsn = false

[hub]
# The regional hub (https). Empty: the agent never connects anywhere; use  run --offline  and hand
# the file in the spool directory to the hub's upload page.
url = {_q(hub_url)}
"""


def _file_settings(path: str) -> str:
    """An extract's file settings, the same for every extract (explained once above them)."""
    return f"""\
path = {_q(path)}
format = "auto"
delimiter = "auto"
encoding = "auto"
sheet = ""
"""


def render_config(
    gemeentecode: str,
    *,
    hub_url: str = "",
    jeugdhulp: str = "data/jeugdhulp.csv",
    declaraties: str = "data/declaraties.csv",
    leerlingen: str = "data/leerlingen.csv",
    signing_key: str = "keys/signing.pem",
    pseudonym_key: str = "keys/pseudonym.key",
) -> str:
    """The config file ``init`` writes: every setting present and explained."""
    return f"""\
# Configuration of the jeugdhub node agent (node-agent). Relative paths are relative to this file.
# Check it with:  node-agent check      Build a partial with:  node-agent run --school-year 2024-2025

# Your municipality's CBS code (4 digits). Only pupils living here are counted; rows of another
# woongemeente are rejected (that municipality reports them itself).
gemeentecode = {_q(gemeentecode)}

{_approval_and_hub(hub_url)}
[keys]
# Ed25519 key that signs every partial (created by init, mode 0600; the hub gets the public key).
signing_key = {_q(signing_key)}
# Pseudonymisation key (HMAC-SHA-256, 256 bits, mode 0600). Never leaves this machine; a region may
# share one key among its nodes (init --import-pseudonym-key FILE).
pseudonym_key = {_q(pseudonym_key)}

[paths]
# Where signed partials are written (the only files meant to leave the municipality).
spool_dir = "spool"
# Append-only log of what was built, approved and uploaded (node-agent log shows and verifies it).
log = "node-agent-log.jsonl"
# Optional: CSV with a column vestigingscode (e.g. DUO's vestigingen file); locations not in it are
# reported in the data-quality block. Empty: no check.
location_registry = ""

# The three extracts. For each:
#   path       the file (.csv or .xlsx); declaraties may be left empty ("") when there are no costs
#   format     "auto" (by extension), "csv" or "xlsx"
#   delimiter  "auto" (sniffed from the header line), ",", ";", "\\t" or "|"
#   encoding   "auto" (UTF-8 with or without BOM, else Windows-1252), "utf-8", "utf-8-sig", "cp1252"
#   sheet      XLSX only: the sheet name; empty = the first sheet
#   [extracts.<kind>.columns]  source column name = data-dictionary name, for exports whose column
#              names differ. Columns already named as in the data dictionary need no line here.

[extracts.jeugdhulp]
# Youth-care allocations (iJw JW301). Required: bsn, geboortedatum, toewijzingnummer,
# aanbieder_agb, ingangsdatum. Optional: productcategorie, productcode, aanbieder_naam (sent per
# AGB code, the most frequent name), verwijzer, einddatum, reden_wijziging.
{_file_settings(jeugdhulp)}
[extracts.jeugdhulp.columns]
# "BSN_kind" = "bsn"
# "Begindatum" = "ingangsdatum"
# "AGB-code" = "aanbieder_agb"

[extracts.declaraties]
# Claim lines (iJw JW323/JW325). Required: toewijzingnummer, periode_begin, and bedrag_eurocent
# (integer eurocent) or bedrag (euros, decimal comma or point). Optional: periode_einde, debet_credit.
{_file_settings(declaraties)}
[extracts.declaraties.columns]
# "Bedrag" = "bedrag"

[extracts.leerlingen]
# Enrolment on the peildatum (leerplicht administration). Required: bsn, geboortedatum,
# peildatum, woongemeente, and vestigingscode (e.g. 04DA00) or brin + vestigingsnummer.
# Optional: onderwijssoort, buurtcode. An empty vestigingscode = no school (counted as GEEN).
{_file_settings(leerlingen)}
[extracts.leerlingen.columns]
# "BSN_leerling" = "bsn"

[zorgtype]
# Override the grouping of JZ020 productcategorie into care types (shared/codes.py), e.g.
#   productcategorie = {{ "45" = "ambulant" }}
# or map specific productcodes to a care type, e.g. dyslexia care:
#   productcode = {{ "54001" = "maatwerk" }}
# Care types: {", ".join(ZORGTYPE_BY_SLUG)}
productcategorie = {{}}
productcode = {{}}
"""


def render_swv_config(
    swv_code: str,
    *,
    hub_url: str = "",
    ondersteuning: str = "data/ondersteuning.csv",
    signing_key: str = "keys/signing.pem",
    pseudonym_key: str = "keys/pseudonym.key",
) -> str:
    """The config file ``init --swv-code`` writes for a samenwerkingsverband: every setting present and explained."""
    return f"""\
# Configuration of the jeugdhub node agent (node-agent) at a samenwerkingsverband passend onderwijs.
# Relative paths are relative to this file.
# Check it with:  node-agent check      Build a partial with:  node-agent run --school-year 2024-2025

# Your samenwerkingsverband's code (PO or VO and 4 digits, as DUO writes it: PO-26-07 or PO2607). The
# agent counts pupils with support at your own schools only; the hub sends the list with each round.
swv_code = {_q(swv_code)}

{_approval_and_hub(hub_url)}
[keys]
# Ed25519 key that signs every partial (created by init, mode 0600; the hub gets the public key).
signing_key = {_q(signing_key)}
# Pseudonymisation key (HMAC-SHA-256, 256 bits, mode 0600). Never leaves this machine. Use the key the
# region's municipalities share (init --import-pseudonym-key FILE), so a pupil has the same pseudonym here.
pseudonym_key = {_q(pseudonym_key)}

[paths]
# Where signed partials are written (the only files meant to leave the samenwerkingsverband).
spool_dir = "spool"
# Append-only log of what was built, approved and uploaded (node-agent log shows and verifies it).
log = "node-agent-log.jsonl"

# The one extract of a samenwerkingsverband:
#   path       the file (.csv or .xlsx)
#   format     "auto" (by extension), "csv" or "xlsx"
#   delimiter  "auto" (sniffed from the header line), ",", ";", "\\t" or "|"
#   encoding   "auto" (UTF-8 with or without BOM, else Windows-1252), "utf-8", "utf-8-sig", "cp1252"
#   sheet      XLSX only: the sheet name; empty = the first sheet
#   [extracts.ondersteuning.columns]  source column name = data-dictionary name

[extracts.ondersteuning]
# Support per pupil (arrangement, TLV SBO, TLV SO laag/midden/hoog, LWOO, PrO, OPP, thuiszitter).
# Required: bsn, vestigingscode (or brin + vestigingsnummer), soort, ingangsdatum. Optional: einddatum.
{_file_settings(ondersteuning)}
[extracts.ondersteuning.columns]
# "BSN_leerling" = "bsn"
# "Voorziening" = "soort"
"""

"""``node-agent``: the node's command line (init, check, run, exchange, inspect, approve, enrol, upload, rounds, log), at a
municipality or at a samenwerkingsverband (``init --swv-code``).

Messages for people are Dutch. A user's mistake prints one clear message and exits with the
error's exit code; tracebacks are for bugs only.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

import shared
from node_agent.config import DEFAULT_CONFIG_NAME, AgentConfig, load_config, render_config, render_swv_config
from shared.codes import NODE_SWV
from shared.errors import ConfigError, InputError, JeugdhubError, NotFoundError

MAX_LINES_SHOWN = 20


@dataclass
class AgentContext:
    """What every command gets: the config (loaded once, on first use) and an optional transport."""

    config_path: Path
    transport: Any = None  # httpx transport for tests; None = the network
    _config: AgentConfig | None = field(default=None, repr=False)

    @property
    def config(self) -> AgentConfig:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config


class _Group(click.Group):
    """Catches the project's errors at the edge: message on stderr, the error's exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except JeugdhubError as exc:
            click.echo(f"Fout: {exc.message}", err=True)
            ctx.exit(exc.exit_code)
        except BrokenPipeError:
            # the reader of our output went away (e.g. `| head`): nothing left to tell anyone
            sys.stdout = open(os.devnull, "w")
            ctx.exit(0)
        except PermissionError as exc:
            click.echo(f"Fout: geen toegang tot {exc.filename}; controleer de bestandsrechten.", err=True)
            ctx.exit(77)
        except OSError as exc:
            what = f"bestand {exc.filename}" if exc.filename else "een bestand"
            click.echo(f"Fout: {what} is niet te lezen of te schrijven ({exc.strerror or exc}).", err=True)
            ctx.exit(74)  # EX_IOERR


@click.group(cls=_Group)
@click.option(
    "--config",
    "-c",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_CONFIG_NAME,
    show_default=True,
    envvar="NODE_AGENT_CONFIG",
    help="Configuratiebestand (TOML).",
)
@click.version_option(shared.__version__, prog_name="node-agent")
@click.pass_context
def main(ctx: click.Context, config_path: Path) -> None:
    """Jeugdhub-agent van de gemeente of het samenwerkingsverband: controleert de extracten,
    pseudonimiseert, telt per schoolvestiging en ondertekent het deelresultaat dat naar de hub gaat."""
    if ctx.obj is None:
        ctx.obj = AgentContext(config_path=config_path)
    elif isinstance(ctx.obj, AgentContext) and ctx.obj._config is None:
        ctx.obj.config_path = config_path


# --- init ---------------------------------------------------------------------------------------


@main.command()
@click.option("--gemeentecode", help="CBS-code van de gemeente, bijv. 0356 (nodig voor een nieuwe configuratie van een gemeente).")
@click.option("--swv-code", help="Code van het samenwerkingsverband passend onderwijs, bijv. PO2607 of PO-26-07 "
                                 "(in plaats van --gemeentecode, voor de agent van een SWV).")
@click.option("--hub-url", default="", help="Adres van de regionale hub (https://…); leeg = alleen offline.")
@click.option("--jeugdhulp", default="data/jeugdhulp.csv", show_default=True, help="Pad naar het jeugdhulpbestand.")
@click.option("--declaraties", default="data/declaraties.csv", show_default=True, help="Pad naar de declaraties; \"\" = geen.")
@click.option("--leerlingen", default="data/leerlingen.csv", show_default=True, help="Pad naar het leerlingenbestand.")
@click.option("--ondersteuning", default="data/ondersteuning.csv", show_default=True,
              help="Pad naar het ondersteuningsbestand (alleen bij --swv-code).")
@click.option(
    "--import-pseudonym-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Gebruik de gedeelde pseudonimiseringssleutel van de regio in plaats van een nieuwe.",
)
@click.pass_obj
def init(obj: AgentContext, gemeentecode: str | None, swv_code: str | None, hub_url: str, jeugdhulp: str,
         declaraties: str, leerlingen: str, ondersteuning: str, import_pseudonym_key: Path | None) -> None:
    """Maak de sleutels en het configuratiebestand. Overschrijft nooit iets: bij een bestaande
    configuratie worden alleen ontbrekende sleutels aangemaakt."""
    import tomllib

    from node_agent.keys import create_pseudonym_key, create_signing_key, load_signing_key, parse_pseudonym_key
    from shared.codes import normalise_gemeentecode, normalise_swv_code
    from shared.signing import key_id

    path = obj.config_path
    if gemeentecode is not None and swv_code is not None:
        raise ConfigError("Geef --gemeentecode (een gemeente) of --swv-code (een samenwerkingsverband), niet allebei",
                          code="config_invalid")
    code = None
    try:
        if gemeentecode is not None:
            code = normalise_gemeentecode(gemeentecode)
        elif swv_code is not None:
            code = normalise_swv_code(swv_code)
    except ValueError as exc:
        raise ConfigError(str(exc), code="config_invalid") from None
    text = None
    if path.exists():
        cfg = obj.config
        if code is not None and code != cfg.node:
            raise ConfigError(
                f"{path} hoort bij {cfg.node_label}, niet bij {code}; init overschrijft niets.",
                code="config_exists",
            )
        click.echo(f"Configuratie {path} bestaat al en blijft ongewijzigd.")
    else:
        if code is None:
            raise ConfigError("Geef de gemeentecode op: node-agent init --gemeentecode 0356 (of voor een "
                              "samenwerkingsverband: node-agent init --swv-code PO2607)", code="config_missing")
        if swv_code is not None:
            text = render_swv_config(code, hub_url=hub_url, ondersteuning=ondersteuning)
        else:
            text = render_config(code, hub_url=hub_url, jeugdhulp=jeugdhulp, declaraties=declaraties,
                                 leerlingen=leerlingen)
        # Validate before creating anything, so a bad option leaves no half-made node behind.
        cfg = AgentConfig.from_dict(tomllib.loads(text), path.resolve().parent, str(path))
    imported = None
    if import_pseudonym_key is not None:
        imported = parse_pseudonym_key(import_pseudonym_key.read_bytes(), str(import_pseudonym_key))
    created = False
    if cfg.pseudonym_key.exists():
        if imported is not None:
            raise ConfigError(
                f"{cfg.pseudonym_key} bestaat al; een sleutel wordt nooit overschreven.", code="key_exists"
            )
        click.echo(f"Bestaande pseudonimiseringssleutel blijft in gebruik: {cfg.pseudonym_key}")
    else:
        create_pseudonym_key(cfg.pseudonym_key, imported)
        created = True
        how = "geïmporteerd" if imported is not None else "aangemaakt (256 bits)"
        click.echo(f"Pseudonimiseringssleutel {how}: {cfg.pseudonym_key} (alleen leesbaar voor de eigenaar)")
    if cfg.signing_key.exists():
        key = load_signing_key(cfg.signing_key)
        click.echo(f"Bestaande ondertekensleutel blijft in gebruik: {cfg.signing_key}")
    else:
        key = create_signing_key(cfg.signing_key)
        created = True
        click.echo(f"Ondertekensleutel aangemaakt: {cfg.signing_key} (alleen leesbaar voor de eigenaar)")
    if text is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "x", encoding="utf-8") as fh:
            fh.write(text)
        created = True
        click.echo(f"Configuratie geschreven: {path}")
    click.echo(f"Sleutel-id van deze node: {key_id(key)}")
    if created:
        click.echo("Volgende stap: controleer de paden naar de extracten in de configuratie en draai 'node-agent check'.")
    else:
        click.echo("Er was niets aan te maken; er is niets gewijzigd.")


# --- check --------------------------------------------------------------------------------------


def _lines_text(lines: list[int], total: int) -> str:
    shown = ", ".join(str(n) for n in lines[:MAX_LINES_SHOWN])
    return shown + (f", … (nog {total - MAX_LINES_SHOWN})" if total > MAX_LINES_SHOWN else "")


def print_report(result: dict[str, Any]) -> None:
    if "swv_code" in result:
        click.echo(f"Controle van het extract voor samenwerkingsverband {result['swv_code']}")
    else:
        click.echo(f"Controle van de extracten voor gemeente {result['gemeentecode']}")
    for f in result["files"]:
        click.echo("")
        if f["status"] != "ok":
            click.echo(f"{f['kind']}: {f['name']} — ONBRUIKBAAR")
            click.echo(f"  {f['error']['message']}")
            continue
        fmt = f["format"] + (f", {f['encoding']}" if f["format"] == "CSV" else "")
        if f["delimiter"]:
            fmt += f", scheidingsteken '{f['delimiter']}'"
        click.echo(f"{f['kind']}: {f['name']} ({fmt})")
        click.echo(
            f"  gelezen {f['rows_read']}  gebruikt {f['rows_used']}  afgekeurd {f['rows_rejected']}  "
            f"uitgesloten {f['rows_excluded']}"
        )
        for title, key in (("afgekeurd", "rejected"), ("uitgesloten volgens regel", "excluded")):
            if f[key]:
                click.echo(f"  {title}:")
                for issue in f[key]:
                    column = f" (kolom {issue['column']})" if issue["column"] else ""
                    click.echo(
                        f"    {issue['reason']}{column}: {issue['message']} — {issue['rows']} regel(s): "
                        f"{_lines_text(issue['lines'], issue['rows'])}"
                    )
        for note in f.get("notes", []):
            click.echo(f"  let op: {note}")
        if "schooljaren" in f and f["schooljaren"]:
            jaren = ", ".join(f"{j}: {n}" for j, n in f["schooljaren"].items())
            click.echo(f"  leerlingen per schooljaar: {jaren}")
        if "scholen" in f:
            click.echo(f"  scholen in het bestand: {f['scholen']} (bij een run telt de agent de scholen die de hub "
                       "voor dit samenwerkingsverband kent)")
    click.echo("")
    if result["usable"]:
        click.echo("Alle bestanden zijn bruikbaar.")
    else:
        click.echo("Niet alle bestanden zijn bruikbaar; los de fouten hierboven op.")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Het rapport als JSON.")
@click.pass_obj
def check(obj: AgentContext, as_json: bool) -> None:
    """Controleer de extracten en toon per bestand wat er met elke regel gebeurt."""
    from node_agent.pipeline import check as run_check

    result = run_check(obj.config).to_dict()
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print_report(result)
    if not result["usable"]:
        sys.exit(65)


# --- run ----------------------------------------------------------------------------------------


@main.command()
@click.option("--school-year", "school_years", multiple=True, required=True, help="Schooljaar, bijv. 2024-2025 (herhaalbaar).")
@click.option("--offline", is_flag=True, help="Niet uploaden; alleen het ondertekende bestand in de spoolmap zetten.")
@click.option("--upload/--no-upload", default=True, show_default=True, help="Uploaden naar de hub als die is ingesteld.")
@click.option("--exchange/--no-exchange", "exchange", default=True, show_default=True,
              help="Na het uploaden de overlap met de andere partijen tellen (node-agent exchange).")
@click.option("--exchange-timeout", type=click.FloatRange(min=0), default=600, show_default=True,
              help="Hoogstens zoveel seconden wachten op de stappen van de uitwisseling.")
@click.pass_obj
def run(obj: AgentContext, school_years: tuple[str, ...], offline: bool, upload: bool, exchange: bool,
        exchange_timeout: float) -> None:
    """Maak, onderteken en bewaar het deelresultaat voor de gekozen schooljaren (en upload het)."""
    from node_agent.pipeline import build, round_for

    cfg = obj.config
    round_info = None
    without = ("zonder de scholenlijst van de hub: alleen de scholen in het bestand" if cfg.kind == NODE_SWV
               else "met de standaardgroepen en zonder consortia")
    if not offline and upload and cfg.hub_url:
        # The round's tables (groupings, provider → consortium, an SWV's schools): every node of a round
        # counts by the same.
        try:
            round_info = round_for(cfg, list(school_years), obj.transport)
        except JeugdhubError as exc:
            click.echo(f"De tabellen van de ronde konden niet bij de hub worden opgehaald ({exc.code}): geteld {without}.")
        else:
            if round_info is None:
                click.echo(f"De hub heeft geen open ronde voor deze schooljaren: geteld {without}.")
    result = build(cfg, list(school_years), round_info)
    click.echo(f"Deelresultaat gemaakt: {result.path}")
    click.echo(f"  schooljaren {', '.join(result.partial.header.schooljaren)}; "
               f"{len(result.partial.cells) + len(result.partial.cost_cells)} cellen; hash {result.envelope.digest}")
    for kind, rows in result.rows.items():
        click.echo(f"  {kind}: gelezen {rows['read']}, gebruikt {rows['used']}, afgekeurd {rows['rejected']}, "
                   f"uitgesloten {rows['excluded']}")
    click.echo(f"Bekijk wat de {'organisatie' if cfg.kind == NODE_SWV else 'gemeente'} verlaat met: "
               f"node-agent inspect {result.path}")
    if offline or not upload or not cfg.hub_url:
        if not cfg.hub_url and not offline and upload:
            click.echo("Geen hub ingesteld: niet geüpload. Lever het bestand handmatig aan bij de hub.")
        return
    if cfg.require_approval:
        click.echo("Upload wacht op goedkeuring (require_approval): "
                   f"node-agent approve {result.path} --by \"Naam\" en daarna node-agent upload {result.path}")
        return
    _upload(obj, result.path, None)
    if exchange:
        try:
            _exchange(obj, None, exchange_timeout, 5.0)
        except JeugdhubError as exc:
            # The partial is in; the overlap can follow with 'node-agent exchange' until the deadline.
            click.echo(f"De uitwisseling is niet afgemaakt ({exc.code}): {exc.message}")
            click.echo("Draai later opnieuw: node-agent exchange")


# --- the overlap exchange ----------------------------------------------------------------------------


def _exchange(obj: AgentContext, round_id: int | None, timeout: float, interval: float) -> None:
    from node_agent.exchange import run_exchanges

    cfg = obj.config
    click.echo("Overlap tellen met de andere partijen (de uitwisseling deelt geen namen of nummers):")
    report = run_exchanges(cfg, obj.transport, round_ids=[round_id] if round_id is not None else None,
                           timeout=timeout, interval=interval, say=lambda line: click.echo(f"  {line}"))
    if report.failed:
        click.echo(f"Niet gelukt: {', '.join(f'{x} ({code})' for x, code in sorted(report.failed.items()))}. "
                   "De hub publiceert de ronde dan zonder die overlap.")
    if report.finished:
        click.echo("Uitwisseling klaar: er staat niets meer open voor deze node.")
    else:
        waits = ([f"inzending van {', '.join(report.waiting_for)}"] if report.waiting_for else []) + \
                ([f"{len(report.pending)} uitwisseling(en)"] if report.pending else [])
        click.echo(f"Nog niet alles klaar (wacht op {' en '.join(waits)}). Draai later opnieuw: node-agent exchange")
    if report.failed:
        raise InputError("Een of meer uitwisselingen zijn mislukt (zie hierboven)", code="exchange_failed")


@main.command("exchange")
@click.option("--round", "round_id", type=int, help="Ronde-id; zonder: elke open ronde waarin deze node verwacht wordt.")
@click.option("--timeout", type=click.FloatRange(min=0), default=600, show_default=True,
              help="Hoogstens zoveel seconden wachten op de andere partijen.")
@click.option("--interval", type=click.FloatRange(min=0.05), default=5, show_default=True,
              help="Seconden tussen twee vragen aan de hub.")
@click.pass_obj
def exchange_cmd(obj: AgentContext, round_id: int | None, timeout: float, interval: float) -> None:
    """Tel de overlap met de andere partijen zonder namen of nummers te delen: stuur de versleutelde
    sets van de laatste inzending, herversleutel die van de andere partij, tot alles geteld is."""
    _exchange(obj, round_id, timeout, interval)


# --- inspect / approve --------------------------------------------------------------------------


def newest_partial(spool_dir: Path) -> Path:
    """The most recently written partial in the spool directory (by modification time, then name)."""
    found = sorted(spool_dir.glob("*.partial.json"), key=lambda f: (f.stat().st_mtime, f.name)) if spool_dir.is_dir() else []
    if not found:
        raise NotFoundError(f"Er staat nog geen deelresultaat in {spool_dir}; maak er een met: node-agent run --school-year JJJJ-JJJJ",
                            code="no_partial")
    return found[-1]


@main.command()
@click.argument("partial", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option("--format", "fmt", type=click.Choice(["table", "csv"]), default="table", show_default=True)
@click.pass_obj
def inspect(obj: AgentContext, partial: Path | None, fmt: str) -> None:
    """Toon precies wat de gemeente verlaat, en controleer de handtekening (zonder bestand: het nieuwste in de spoolmap)."""
    from node_agent.pipeline import open_envelope

    if partial is None:
        partial = newest_partial(obj.config.spool_dir)
        click.echo(f"Nieuwste deelresultaat in de spoolmap: {partial.name}", err=True)
    envelope, p = open_envelope(obj.config, partial)
    rows = sorted(p.all_cells())
    signature = f"Handtekening geldig (sleutel-id {envelope.key_id}, hash {envelope.digest})"
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["vestigingscode", "schooljaar", "measure", "category", "value"])
        for c in rows:
            writer.writerow([c.vestigingscode, c.schooljaar, c.measure, c.category, c.value])
        click.echo(buf.getvalue(), nl=False)
        click.echo(signature, err=True)
        return
    h = p.header
    click.echo(signature)
    click.echo(f"{'Samenwerkingsverband' if h.kind == NODE_SWV else 'Gemeente'} {h.node}; schooljaren {', '.join(h.schooljaren)}; "
               f"peildata {', '.join(f'{j}: {d}' for j, d in h.peildata.items())}")
    click.echo(f"Gemaakt {h.created_at} door agent {h.agent_version} (schema {h.schema_version})")
    click.echo("")
    widths = [14, 10, 26, 24, 12]
    head = ["vestigingscode", "schooljaar", "measure", "category", "value"]
    click.echo("  ".join(t.ljust(w) for t, w in zip(head, widths)))
    for c in rows:
        values = [c.vestigingscode, c.schooljaar, c.measure, c.category, str(c.value)]
        click.echo("  ".join(v.ljust(w) for v, w in zip(values, widths)).rstrip())
    if p.providers:
        click.echo("")
        click.echo("Aanbiedernamen (de naam die het jeugdhulpbestand het vaakst geeft, per AGB-code met een cel):")
        for agb, naam in p.providers.to_dict().items():
            click.echo(f"  {agb}  {naam}")
    q = p.quality
    click.echo("")
    click.echo("Kwaliteit:")
    for f in q.files:
        click.echo(f"  {f.kind} ({f.name}): gelezen {f.rows_read}, gebruikt {f.rows_used}, "
                   f"afgekeurd {f.rows_rejected}, uitgesloten {f.rows_excluded}")
    if h.kind != NODE_SWV:
        click.echo(f"  declaratieregels zonder toewijzing: {q.unmatched_claim_lines}")
        click.echo(f"  toewijzingen van kinderen zonder inschrijving: {q.allocations_without_enrolment}")
    if q.unknown_locations:
        click.echo(f"  vestigingen niet in het register: {', '.join(q.unknown_locations)}")
    for note in q.notes:
        click.echo(f"  {note}")
    click.echo("")
    if h.kind == NODE_SWV:
        click.echo("Elke leerling telt één keer per schooljaar, bij de soort ondersteuning met de hoogste voorrang "
                   "(TLV SO, TLV SBO, PrO, LWOO, arrangement, OPP, thuiszitter), zodat de soorten optellen tot het totaal.")
        return
    click.echo(f"Kostencellen bevatten ook het aantal kinderen, de twee grootste bedragen per kind (een terugbetaling "
               f"telt naar haar grootte), het aantal kinderen met een negatief bedrag en de som van alle bedragen "
               f"zonder minteken ({len(p.cost_cells)} kostencellen).")


@main.command()
@click.argument("partial", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--by", "by", required=True, help="Naam van degene die het deelresultaat goedkeurt.")
@click.pass_obj
def approve(obj: AgentContext, partial: Path, by: str) -> None:
    """Keur een deelresultaat goed voor upload (vastgelegd in het logboek)."""
    from node_agent.ledger import Ledger
    from node_agent.pipeline import open_envelope

    name = " ".join(by.split())
    if not name:
        raise InputError("Geef de naam van degene die goedkeurt: --by \"Naam\"", code="approver_missing")
    envelope, p = open_envelope(obj.config, partial)
    Ledger(obj.config.log_path).append(
        "approved", digest=envelope.digest, by=name, schooljaren=list(p.header.schooljaren), file=partial.name
    )
    click.echo(f"Goedgekeurd door {name}: {partial.name} (hash {envelope.digest})")


# --- hub ----------------------------------------------------------------------------------------


def _client(obj: AgentContext):
    # node_agent.upload, not the pipeline: enrolling and listing rounds need no pandas.
    from node_agent.upload import client_for

    return client_for(obj.config, obj.transport)


def _upload(obj: AgentContext, path: Path, round_id: int | None) -> None:
    from node_agent.pipeline import upload as submit

    for done in submit(obj.config, path, round_id, obj.transport):
        status = _receipt_status(done.receipt.status)
        jaar = f" ({done.schooljaar})" if done.schooljaar else ""
        click.echo(f"Geüpload naar ronde {done.round_id}{jaar}: {status}, inzending {done.receipt.submission_id}")


@main.command()
@click.option("--token", required=True, help="Het eenmalige token van de beheerder van de hub.")
@click.pass_obj
def enrol(obj: AgentContext, token: str) -> None:
    """Meld deze node aan bij de hub met het eenmalige token."""
    from node_agent.ledger import Ledger

    with _client(obj) as client:
        response = client.enrol(token.strip())
    Ledger(obj.config.log_path).append(
        "enrolled", hub=obj.config.hub_url, key_id=response.key_id, gemeentenaam=response.naam
    )
    click.echo(f"Aangemeld bij {obj.config.hub_url} als {response.naam} ({response.node}), "
               f"sleutel-id {response.key_id}")


@main.command()
@click.argument("partial", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--round", "round_id", type=int, help="Ronde-id; zonder: elke open ronde voor de schooljaren.")
@click.pass_obj
def upload(obj: AgentContext, partial: Path, round_id: int | None) -> None:
    """Upload een ondertekend deelresultaat naar de hub."""
    _upload(obj, partial, round_id)


@main.command()
@click.pass_obj
def rounds(obj: AgentContext) -> None:
    """Toon de open rondes van de hub."""
    with _client(obj) as client:
        found = client.open_rounds()
    if not found:
        click.echo("Geen open rondes.")
    for r in found:
        done = "al ingezonden" if r.submitted else "nog niet ingezonden"
        click.echo(f"ronde {r.id}: schooljaar {r.schooljaar}, peildatum {r.peildatum}, {r.status}, {done}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="De regels als JSON.")
@click.pass_obj
def log(obj: AgentContext, as_json: bool) -> None:
    """Toon het logboek en controleer dat er niets uit is verwijderd of gewijzigd."""
    from node_agent.ledger import Ledger

    ledger = Ledger(obj.config.log_path)
    problems = ledger.verify()
    entries = ledger.entries() if not any("JSON" in p.message for p in problems) else []
    if as_json:
        click.echo(json.dumps({"entries": entries, "intact": not problems,
                               "problems": [{"line": p.line, "message": p.message} for p in problems]},
                              ensure_ascii=False, indent=2))
    else:
        if not entries and not problems:
            click.echo("Het logboek is leeg.")
        for e in entries:
            click.echo(_describe(e))
        if entries and not problems:
            click.echo(f"Keten intact ({len(entries)} regel(s)).")
    if problems:
        for p in problems:
            click.echo(f"Regel {p.line}: {p.message}", err=True)
        raise InputError("Het logboek is gewijzigd: de keten klopt niet (zie hierboven).", code="ledger_tampered")


#: A hub's receipt status (hub/services/submissions.py) as the agent's lines say it.
RECEIPT_STATUS = {"accepted": "ontvangen", "duplicate": "was al ontvangen"}


def _receipt_status(status: str | None) -> str:
    return RECEIPT_STATUS.get(status or "", status or "?")


def _describe(e: dict[str, Any]) -> str:
    when, event = e.get("at", "?"), e.get("event", "?")
    digest = (e.get("digest") or "")[:12]
    jaren = ", ".join(e.get("schooljaren", []))
    if event == "built":
        rows = "; ".join(f"{k} {v['read']}={v['used']}+{v['rejected']}+{v['excluded']}" for k, v in e.get("rows", {}).items())
        return f"{when}  gemaakt     {e.get('file', '')} ({jaren}) hash {digest}  regels gelezen=gebruikt+afgekeurd+uitgesloten: {rows}"
    if event == "approved":
        return f"{when}  goedgekeurd {e.get('file', '')} ({jaren}) hash {digest} door {e.get('by')}"
    if event == "uploaded":
        receipt = e.get("receipt", {})
        return (f"{when}  geüpload    hash {digest} naar {e.get('hub')} ronde {e.get('round')}: "
                f"{_receipt_status(receipt.get('status'))} (inzending {receipt.get('submission_id')})")
    if event == "upload_refused":
        return f"{when}  geweigerd   hash {digest} door {e.get('hub')} ronde {e.get('round')}: {e.get('code')}"
    if event in ("exchange_blinded", "exchange_reblinded"):
        what = "versleuteld " if event == "exchange_blinded" else "herversleuteld"
        return f"{when}  {what} uitwisseling {e.get('exchange')} ronde {e.get('round')}: {e.get('schools')} school/scholen"
    if event == "enrolled":
        return f"{when}  aangemeld   bij {e.get('hub')} als {e.get('gemeentenaam')} (sleutel-id {e.get('key_id')})"
    return f"{when}  {event}"


# --- demo data -------------------------------------------------------------------------------------

from node_agent.synthetic.__main__ import region_cmd as _region_cmd  # noqa: E402

#: ``node-agent demo-data lekstroom OUT``: synthetic extracts to try the agent on (no real data needed).
main.add_command(_region_cmd, name="demo-data")

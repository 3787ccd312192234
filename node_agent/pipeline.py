"""The agent's use cases between the CLI and the modules: check the extracts, build a partial, upload it.

The CLI stays thin: it parses options, calls these functions and prints what they return. A node is a
municipality (three extracts, :func:`read_all`, ``aggregate``) or an SWV (one extract, ``ondersteuning``,
counted by node_agent/ondersteuning.py); check and build take the path of the config's kind.
"""

from __future__ import annotations

import gc
import multiprocessing
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import pandas as pd

from node_agent.aggregate import Aggregation, aggregate
from node_agent.columnar import keep_freed_memory
from node_agent.config import AgentConfig, ExtractConfig
from node_agent.keys import load_pseudonymiser, load_signing_key
from node_agent.ledger import Ledger
from node_agent.ondersteuning import count_support, support_sets
from node_agent.package import build_partial, write_spool
from node_agent.read import (
    Extract,
    FileReport,
    ReadOptions,
    read_declaraties,
    read_jeugdhulp,
    read_leerlingen,
    read_location_registry,
    read_ondersteuning,
)
from shared.codes import NODE_GEMEENTE, NODE_SWV, default_peildatum, parse_schooljaar
from shared.errors import (
    ConfigError, ConflictError, ExtractError, InputError, JeugdhubError, NotFoundError, PayloadError,
)
from shared.groupings import DEFAULT_GROUPINGS, Groupings
from shared.messages import RoundInfo, SubmissionReceipt
from shared.partial import NODE_FIELD, DataQuality, Partial
from shared.pseudonym import Pseudonymiser
from shared.signing import SignedEnvelope

if TYPE_CHECKING:
    from node_agent.upload import HubClient


def _options(cfg: AgentConfig, ec: ExtractConfig) -> ReadOptions:
    assert ec.path is not None
    return ReadOptions(
        path=ec.path,
        kind=ec.kind,
        format=ec.format,
        delimiter=ec.delimiter,
        encoding=ec.encoding,
        sheet=ec.sheet,
        columns=ec.columns,
        config_source=cfg.source,
    )


def _required(cfg: AgentConfig, kind: str) -> ExtractConfig:
    ec = cfg.extract(kind)
    if ec is None:
        raise ConfigError(
            f"{cfg.source}: [extracts.{kind}] path ontbreekt; geef aan waar het {kind}-bestand staat.",
            code="config_missing",
            details={"file": cfg.source, "key": f"extracts.{kind}.path"},
        )
    return ec


@dataclass
class Extracts:
    jeugdhulp: Extract
    leerlingen: Extract
    declaraties: Extract | None = None

    def reports(self) -> list[FileReport]:
        return [e.report for e in (self.jeugdhulp, self.declaraties, self.leerlingen) if e is not None]


#: Enrolment files at least this large are read in a worker process (below it, forking costs more than it saves).
WORKER_PROCESS_MIN_BYTES = 16 * 1024 * 1024


def _use_worker_process(path: Path) -> bool:
    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    try:
        return path.stat().st_size >= WORKER_PROCESS_MIN_BYTES
    except OSError:
        return False  # the reader reports the problem with the file itself


#: The enrolment columns a count uses (``aggregate``); ``read_all`` keeps only these.
COUNTED_ENROLMENT_COLUMNS = ("pseudonym", "schooljaar", "vestigingscode", "peildatum")


def _enrolment_for_count(opts: ReadOptions, pseudonymiser: Pseudonymiser, gemeentecode: str, allow_test_bsn: bool) -> Extract:
    """``read_leerlingen`` with only the columns a count uses, each repeated value stored once (categorical):
    what a worker process sends back is then about half the bytes, pickled without an object per row."""
    extract = read_leerlingen(opts, pseudonymiser, gemeentecode, allow_test_bsn)
    data = extract.data
    slim = pd.DataFrame({c: data[c] if c == "pseudonym" else data[c].astype("category")
                         for c in COUNTED_ENROLMENT_COLUMNS}, copy=False)
    return replace(extract, data=slim)


def read_all(cfg: AgentConfig, pseudonymiser: Pseudonymiser) -> Extracts:
    """Read and validate every configured extract; an unusable file raises ExtractError."""
    keep_freed_memory()
    zorgtypes = cfg.zorgtypes()
    jeugdhulp_opts = _options(cfg, _required(cfg, "jeugdhulp"))
    leerlingen_opts = _options(cfg, _required(cfg, "leerlingen"))
    # The enrolment extract does not depend on the others, so a large one is read in a forked worker
    # process while this process reads allocations and claims: Arrow parses without the GIL, but the
    # checks per distinct value, the pseudonyms and pandas' steps hold it, so only a second process puts
    # the second core to work. The key reaches the worker by fork (shared memory), never through a
    # pipe; only the validated, pseudonymised frame comes back.
    pool: Executor
    if _use_worker_process(leerlingen_opts.path):
        pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
    else:
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="leerlingen")
    with pool:
        leerlingen_job = pool.submit(
            _enrolment_for_count, leerlingen_opts, pseudonymiser, cfg.gemeentecode, cfg.allow_test_bsn
        )
        try:
            jeugdhulp = read_jeugdhulp(jeugdhulp_opts, pseudonymiser, zorgtypes, cfg.allow_test_bsn)
            declaraties = None
            if cfg.extract("declaraties") is not None:
                declaraties = read_declaraties(_options(cfg, cfg.extracts["declaraties"]), jeugdhulp)
        except BaseException:
            leerlingen_job.cancel()
            raise
        leerlingen = leerlingen_job.result()
    return Extracts(jeugdhulp=jeugdhulp, leerlingen=leerlingen, declaraties=declaraties)


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Python's cycle collector paused while extracts are read and a partial is built: that makes some
    10⁵ small objects (cells, their lists, pandas' bookkeeping) and the collector's passes over them
    cost a tenth of a second; what cycles they form are collected when it resumes."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass
class CheckResult:
    node: str  # the gemeentecode, or the SWV code
    files: list[dict[str, Any]] = field(default_factory=list)
    kind: str = NODE_GEMEENTE

    @property
    def usable(self) -> bool:
        return all(f["status"] == "ok" for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        return {NODE_FIELD[self.kind]: self.node, "usable": self.usable, "files": self.files}


def check(cfg: AgentConfig) -> CheckResult:
    """Validate every extract and report per file; one unusable file does not stop the others."""
    with cyclic_gc_paused():
        return _check_swv(cfg) if cfg.kind == NODE_SWV else _check(cfg)


def _unusable(kind: str, path: Path | None, exc: ExtractError) -> dict[str, Any]:
    return {"kind": kind, "name": path.name if path else "", "status": "unusable", **exc.to_dict()}


def _check_swv(cfg: AgentConfig) -> CheckResult:
    """An SWV's one extract; without the hub's list of its schools every school in the file counts."""
    keep_freed_memory()
    result = CheckResult(cfg.node, kind=cfg.kind)
    ec = _required(cfg, "ondersteuning")
    try:
        support = read_ondersteuning(_options(cfg, ec), load_pseudonymiser(cfg.pseudonym_key), cfg.allow_test_bsn)
        entry = {"status": "ok", **support.report.to_dict()}
        entry["scholen"] = int(support.data["vestigingscode"].nunique())
        result.files.append(entry)
    except ExtractError as exc:
        result.files.append(_unusable("ondersteuning", ec.path, exc))
    return result


def _check(cfg: AgentConfig) -> CheckResult:
    keep_freed_memory()
    pseudonymiser = load_pseudonymiser(cfg.pseudonym_key)
    result = CheckResult(cfg.node, kind=cfg.kind)
    jeugdhulp = None
    ec = _required(cfg, "jeugdhulp")
    try:
        jeugdhulp = read_jeugdhulp(_options(cfg, ec), pseudonymiser, cfg.zorgtypes(), cfg.allow_test_bsn)
        result.files.append({"status": "ok", **jeugdhulp.report.to_dict()})
    except ExtractError as exc:
        result.files.append(_unusable("jeugdhulp", ec.path, exc))
    dc = cfg.extract("declaraties")
    if dc is not None:
        if jeugdhulp is None:
            err = ExtractError(
                f"{dc.path.name}: niet gecontroleerd, want de declaratieregels worden gekoppeld aan het "
                "jeugdhulpbestand en dat is onbruikbaar.",
                code="depends_on_unusable",
            )
            result.files.append(_unusable("declaraties", dc.path, err))
        else:
            try:
                result.files.append({"status": "ok", **read_declaraties(_options(cfg, dc), jeugdhulp).report.to_dict()})
            except ExtractError as exc:
                result.files.append(_unusable("declaraties", dc.path, exc))
    lc = _required(cfg, "leerlingen")
    try:
        leer = read_leerlingen(_options(cfg, lc), pseudonymiser, cfg.gemeentecode, cfg.allow_test_bsn)
        entry = {"status": "ok", **leer.report.to_dict()}
        entry["schooljaren"] = {
            jaar: int(n) for jaar, n in leer.data["schooljaar"].value_counts().sort_index().items()
        }
        result.files.append(entry)
    except ExtractError as exc:
        result.files.append(_unusable("leerlingen", lc.path, exc))
    return result


@dataclass
class BuildResult:
    path: Path
    envelope: SignedEnvelope
    partial: Partial
    rows: dict[str, dict[str, int]]


def build(cfg: AgentConfig, schooljaren: list[str], round_info: RoundInfo | None = None) -> BuildResult:
    """Read, validate, pseudonymise, count, sign, spool and log one partial.

    ``round_info`` (from the hub's open rounds) brings the round's groupings and provider →
    consortium table; without it (``--offline``) the default groupings are used and no consortium
    cells are made."""
    jaren = sorted(set(schooljaren))
    if not jaren:
        raise InputError("Geef minstens één schooljaar op, bijv. --school-year 2024-2025", code="no_schooljaar")
    for jaar in jaren:
        try:
            parse_schooljaar(jaar)
        except ValueError as exc:
            raise InputError(str(exc), code="bad_schooljaar") from None
    with cyclic_gc_paused():
        return _build_swv(cfg, jaren, round_info) if cfg.kind == NODE_SWV else _build(cfg, jaren, round_info)


def _build(cfg: AgentConfig, jaren: list[str], round_info: RoundInfo | None) -> BuildResult:
    signing_key = load_signing_key(cfg.signing_key)
    extracts = read_all(cfg, load_pseudonymiser(cfg.pseudonym_key))
    registry = read_location_registry(cfg.location_registry) if cfg.location_registry else None
    groupings = DEFAULT_GROUPINGS
    consortia: dict[str, str] = {}
    if round_info is not None:
        consortia = dict(round_info.consortia)
        if round_info.groupings is not None:
            try:
                groupings = Groupings.from_dict(round_info.groupings)
            except ConfigError as exc:
                raise PayloadError(f"De groepentabel van ronde {round_info.id} is onbruikbaar: {exc}",
                                   code="bad_response") from None
    agg: Aggregation = aggregate(
        extracts.leerlingen.data,
        extracts.jeugdhulp.data,
        extracts.declaraties.data if extracts.declaraties is not None else None,
        jaren,
        registry,
        groupings=groupings,
        consortia=consortia,
        sets=True,
    )
    reports = extracts.reports()
    unmatched = 0
    if extracts.declaraties is not None:
        issues = extracts.declaraties.report.rejected.get("toewijzing_onbekend")
        unmatched = issues.count if issues else 0
    quality = DataQuality(
        files=tuple(r.to_quality() for r in reports),
        unmatched_claim_lines=unmatched,
        allocations_without_enrolment=agg.allocations_without_enrolment,
        unknown_locations=agg.unknown_locations,
        notes=tuple(agg.notes),
    )
    del extracts
    partial = build_partial(cfg.gemeentecode, jaren, agg.peildata, agg.cells, agg.cost_cells, quality, agg.providers)
    return _sign_and_log(cfg, signing_key, partial, jaren, reports, agg.client_sets)


#: The quality note of an SWV partial counted without the hub's list of its schools.
NO_SCHOOL_LIST = ("Geteld zonder de scholenlijst van de hub (offline of geen open ronde): alleen de scholen in het "
                  "bestand hebben een totaal; de hub weigert cellen van scholen die niet bij het samenwerkingsverband horen.")


def _build_swv(cfg: AgentConfig, jaren: list[str], round_info: RoundInfo | None) -> BuildResult:
    """An SWV's partial: its pupils with support per school and soort group at each year's peildatum
    (the round's for its school year, 1 October for the others); its schools are the round's list."""
    signing_key = load_signing_key(cfg.signing_key)
    schools = round_info.schools if round_info is not None and round_info.schools else None
    support = read_ondersteuning(_options(cfg, _required(cfg, "ondersteuning")), load_pseudonymiser(cfg.pseudonym_key),
                                 cfg.allow_test_bsn, schools)
    peildata = {jaar: default_peildatum(jaar) for jaar in jaren}
    if round_info is not None and round_info.schooljaar in peildata:
        peildata[round_info.schooljaar] = date.fromisoformat(round_info.peildatum)
    cells = count_support(support.data, peildata, schools)
    sets = {jaar: support_sets(support.data, peildata[jaar], schools) for jaar in jaren}
    quality = DataQuality(files=(support.report.to_quality(),), notes=() if schools else (NO_SCHOOL_LIST,))
    partial = build_partial(cfg.node, jaren, {j: d.isoformat() for j, d in peildata.items()}, cells, (), quality,
                            kind=cfg.kind)
    return _sign_and_log(cfg, signing_key, partial, jaren, [support.report], sets)


def _sign_and_log(cfg: AgentConfig, signing_key, partial: Partial, jaren: list[str], reports: list[FileReport],
                  sets: dict[str, dict[str, list[bytes]]] | None = None) -> BuildResult:
    """Sign the partial into the spool and log it (both kinds of node). ``sets``: the pseudonyms per
    school year and school its overlap cells count, kept sealed by the partial's digest for the
    overlap exchange (node_agent/exchange.py); they never leave the node."""
    path, envelope = write_spool(partial, signing_key, cfg.spool_dir)
    if sets is not None:
        from node_agent.exchange import save_build_sets

        save_build_sets(cfg, envelope.digest, sets)
    rows = {
        r.kind: {"read": r.rows_read, "used": r.rows_used, "rejected": r.rows_rejected, "excluded": r.rows_excluded}
        for r in reports
    }
    Ledger(cfg.log_path).append(
        "built", schooljaren=jaren, digest=envelope.digest, file=path.name, rows=rows,
        cells=len(partial.cells) + len(partial.cost_cells),
    )
    return BuildResult(path=path, envelope=envelope, partial=partial, rows=rows)


def open_envelope(cfg: AgentConfig, path: Path) -> tuple[SignedEnvelope, Partial]:
    """Read a spool file and verify it with this node's own public key."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(f"Bestand {path} bestaat niet", code="missing_partial") from None
    envelope = SignedEnvelope.from_bytes(data)
    key = load_signing_key(cfg.signing_key)
    return envelope, envelope.verify(key.public_key())


def round_for(cfg: AgentConfig, schooljaren: list[str], transport: Any = None) -> RoundInfo | None:
    """The hub's open round for these school years (its tables go into the count), or None when it has none."""
    with hub_client(cfg, transport) as client:
        rounds = [r for r in client.open_rounds() if r.schooljaar in schooljaren]
    return rounds[0] if rounds else None


def hub_client(cfg: AgentConfig, transport: Any = None) -> HubClient:
    """The client for this node's hub (``transport``: an httpx transport for tests; None = the network)."""
    from node_agent.upload import client_for  # httpx is only needed when talking to the hub

    return client_for(cfg, transport)


@dataclass(frozen=True)
class Uploaded:
    """One round's answer to an upload."""

    round_id: int
    schooljaar: str  # the round's school year; "" when the caller named the round
    receipt: SubmissionReceipt


def upload(cfg: AgentConfig, path: Path, round_id: int | None = None, transport: Any = None) -> Iterator[Uploaded]:
    """Submit a spool file to ``round_id``, or to every open round for its school years; log each answer.

    Nothing is sent while ``require_approval`` is on and the file is not approved. Lazy: each round's
    answer is yielded as it comes, so the caller can show it before a later round refuses (which raises).
    """
    envelope, p = open_envelope(cfg, path)
    ledger = Ledger(cfg.log_path)
    if cfg.require_approval and ledger.approved(envelope.digest) is None:
        raise ConflictError(
            f"{path.name} is nog niet goedgekeurd (require_approval staat aan). "
            f"Laat het eerst goedkeuren: node-agent approve {path} --by \"Naam\"",
            code="approval_required",
        )
    from node_agent.exchange import drop_build_sets, link_submission

    with hub_client(cfg, transport) as client:
        if round_id is None:
            rounds = [r for r in client.open_rounds() if r.schooljaar in p.header.schooljaren]
            if not rounds:
                raise NotFoundError(
                    f"De hub heeft geen open ronde voor schooljaar {', '.join(p.header.schooljaren)}; "
                    f"niets geüpload. Probeer het later opnieuw (node-agent upload {path}) of kies een ronde "
                    f"(node-agent upload {path} --round ID; de rondes: node-agent rounds).",
                    code="no_open_round",
                )
            targets = [(r.id, r.schooljaar) for r in rounds]
        else:
            targets = [(round_id, "")]
        data = envelope.to_bytes()
        for rid, jaar in targets:
            try:
                receipt = client.submit(rid, data)
            except JeugdhubError as exc:
                ledger.append("upload_refused", digest=envelope.digest, hub=cfg.hub_url, round=rid, code=exc.code)
                raise
            ledger.append(
                "uploaded", digest=envelope.digest, hub=cfg.hub_url, round=rid,
                schooljaren=list(p.header.schooljaren), receipt=receipt.to_dict(),
            )
            # The overlap exchange uses the sets of exactly this submission (node_agent/exchange.py).
            link_submission(cfg, envelope.digest, rid, jaar or _round_year(client, rid, p.header.schooljaren),
                            receipt.submission_id)
            yield Uploaded(rid, jaar, receipt)
        drop_build_sets(cfg, envelope.digest)


def _round_year(client: "HubClient", round_id: int, schooljaren: tuple[str, ...]) -> str:
    """The school year of a round named on the command line (one school year: no question needed)."""
    if len(schooljaren) == 1:
        return schooljaren[0]
    found = [r.schooljaar for r in client.open_rounds() if r.id == round_id]
    return found[0] if found else ""

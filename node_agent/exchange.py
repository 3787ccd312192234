"""The node's side of the overlap exchange (docs/overlap.md): its sets per school from the very run
that made its submission, kept sealed in its state directory, and the steps it takes when the hub
asks (blind its own sets, re-blind the peer's).

Files in ``<state_dir>/psi/`` (mode 0600, sealed with XChaCha20-Poly1305 under the state key in
``keys/psi-state.key``, made on first use):

- ``build-<digest>.sets``: per school year and school the pseudonyms a partial's ``clienten`` (a
  municipality) or ``leerlingen_ondersteuning`` (an SWV) cells count, written when it is built;
- ``round-<r>-submission-<s>.sets``: that round's school year of it, written when the hub's receipt
  names the submission; an exchange uses only the sets of the submission it names. Deleted when the
  round closes or a newer submission of this node to the round replaces it;
- ``exchange-<id>.state``: the exchange's ``BlindingState`` (its secret), written before anything is
  sent, so a restarted agent sends byte for byte the same; deleted when the exchange is counted or
  closed, or the round closes.

Nothing here is sent but the blinded payloads; no pseudonym, key or state reaches a log line.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import nacl.bindings as sodium
import nacl.exceptions

from node_agent.config import AgentConfig
from node_agent.keys import _check_private
from node_agent.ledger import Ledger
from shared import psi, safejson
from shared.codes import NODE_SWV
from shared.errors import ConfigError, ConflictError, JeugdhubError, PsiError, ServiceUnavailable
from shared.messages import STEP_BLIND, STEP_CLOSED, STEP_DONE, STEP_REBLIND, ExchangeTask
from shared.signing import write_secret_file

_SETS_MAGIC = b"jeugdhub/psi-sets-local/v1\n"
_SUBMISSION_FILE = re.compile(r"round-(\d+)-submission-(\d+)\.sets")
_STATE_FILE = re.compile(r"exchange-(.+)\.state")

Sets = dict[str, list[bytes]]


# --- the state key and sealed files -------------------------------------------------------------------


def state_key(cfg: AgentConfig) -> bytes:
    """The node's key for its sealed sets and states (32 bytes, hex in a 0600 file; made on first use)."""
    path = cfg.psi_state_key
    if not path.exists():
        write_secret_file(path, psi.new_state_key().hex().encode("ascii") + b"\n")
    _check_private(path)
    try:
        key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (ValueError, UnicodeDecodeError):
        raise ConfigError(f"{path} is geen sleutel voor de PSI-toestand (64 hexadecimale tekens)",
                          code="psi_state_key") from None
    if len(key) != psi.STATE_KEY_BYTES:
        raise ConfigError(f"{path} is geen sleutel van {psi.STATE_KEY_BYTES} bytes", code="psi_state_key")
    return key


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` (0600) in one step: a crash leaves the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _seal_sets(sets: Mapping[str, Any], key: bytes) -> bytes:
    nonce = secrets.token_bytes(sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
    plain = json.dumps(sets, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return _SETS_MAGIC + nonce + sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plain, _SETS_MAGIC, nonce, key)


def _open_sets(blob: bytes, key: bytes, path: Path) -> dict[str, Any]:
    n = len(_SETS_MAGIC) + sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
    try:
        if not blob.startswith(_SETS_MAGIC):
            raise nacl.exceptions.CryptoError
        plain = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(blob[n:], _SETS_MAGIC, blob[len(_SETS_MAGIC):n], key)
    except nacl.exceptions.CryptoError:
        raise PsiError(f"{path.name} is niet te openen (andere sleutel of beschadigd)", code="psi_bad_state") from None
    return safejson.loads(plain.decode("utf-8"))


def _encode(sets: Mapping[str, list[bytes]]) -> dict[str, str]:
    return {code: base64.b64encode(b"".join(sorted(set(p)))).decode("ascii") for code, p in sorted(sets.items())}


def _decode(obj: Mapping[str, str]) -> Sets:
    out: Sets = {}
    for code, text in obj.items():
        raw = base64.b64decode(text)
        out[code] = [raw[i:i + 32] for i in range(0, len(raw), 32)]
    return out


def save_build_sets(cfg: AgentConfig, digest: str, by_year: Mapping[str, Mapping[str, list[bytes]]]) -> Path:
    """Keep the sets of a partial just built (per school year, per school), sealed, by its digest."""
    path = cfg.psi_dir / f"build-{digest}.sets"
    _write_private(path, _seal_sets({jaar: _encode(sets) for jaar, sets in sorted(by_year.items())}, state_key(cfg)))
    return path


def link_submission(cfg: AgentConfig, digest: str, round_id: int, schooljaar: str, submission_id: int) -> bool:
    """Tie the sets of the partial with ``digest`` to the submission the hub's receipt names (only the
    round's school year), and drop the sets of this node's earlier submissions to the round. False
    when the partial's sets are not here (built by an older agent, or elsewhere)."""
    source = cfg.psi_dir / f"build-{digest}.sets"
    target = cfg.psi_dir / f"round-{int(round_id)}-submission-{int(submission_id)}.sets"
    if not target.exists():
        if not source.exists():
            return False
        key = state_key(cfg)
        by_year = _open_sets(source.read_bytes(), key, source)
        if schooljaar not in by_year:
            return False
        _write_private(target, _seal_sets(by_year[schooljaar], key))
    for other in cfg.psi_dir.glob(f"round-{int(round_id)}-submission-*.sets"):
        if other != target:
            other.unlink(missing_ok=True)
    return True


def drop_build_sets(cfg: AgentConfig, digest: str) -> None:
    (cfg.psi_dir / f"build-{digest}.sets").unlink(missing_ok=True)


def submission_sets(cfg: AgentConfig, round_id: int, submission_id: int) -> Sets | None:
    path = cfg.psi_dir / f"round-{int(round_id)}-submission-{int(submission_id)}.sets"
    if not path.exists():
        return None
    return _decode(_open_sets(path.read_bytes(), state_key(cfg), path))


def _state_path(cfg: AgentConfig, exchange_id: str) -> Path:
    return cfg.psi_dir / f"exchange-{exchange_id}.state"


def load_state(cfg: AgentConfig, exchange: psi.Exchange) -> psi.BlindingState | None:
    path = _state_path(cfg, exchange.exchange_id)
    if not path.exists():
        return None
    return psi.open_state(path.read_bytes(), state_key(cfg), exchange=exchange, node=cfg.node)


def save_state(cfg: AgentConfig, state: psi.BlindingState) -> None:
    _write_private(_state_path(cfg, state.exchange.exchange_id), psi.seal_state(state, state_key(cfg)))


def forget_round(cfg: AgentConfig, round_id: int) -> int:
    """Delete what this node kept for a round that is no longer open (its sets and states)."""
    n = 0
    for path in list(cfg.psi_dir.glob(f"round-{int(round_id)}-submission-*.sets")):
        path.unlink(missing_ok=True)
        n += 1
    for path in list(cfg.psi_dir.glob("exchange-*.state")):
        m = _STATE_FILE.fullmatch(path.name)
        if m and _round_of_state(cfg, path) == round_id:
            path.unlink(missing_ok=True)
            n += 1
    return n


def _round_of_state(cfg: AgentConfig, path: Path) -> int | None:
    try:
        return psi.open_state(path.read_bytes(), state_key(cfg)).exchange.round_id
    except PsiError:
        return None


def kept_rounds(cfg: AgentConfig) -> set[int]:
    """Rounds this node keeps sets or states for."""
    rounds = {int(m.group(1)) for p in cfg.psi_dir.glob("round-*.sets") if (m := _SUBMISSION_FILE.fullmatch(p.name))}
    for path in cfg.psi_dir.glob("exchange-*.state"):
        r = _round_of_state(cfg, path)
        if r is not None:
            rounds.add(r)
    return rounds


# --- the steps ------------------------------------------------------------------------------------------


@dataclass
class ExchangeReport:
    """What a run of the exchange did, per exchange id."""

    counted: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # exchange id → the error's code
    pending: list[str] = field(default_factory=list)  # still waiting (for the peer) when the run stopped
    waiting_for: list[str] = field(default_factory=list)  # peers whose submission had not arrived

    @property
    def finished(self) -> bool:
        return not self.pending and not self.waiting_for


def _peer_label(cfg: AgentConfig, exchange: psi.Exchange) -> str:
    peer = exchange.peer(cfg.node)
    return f"samenwerkingsverband {peer}" if cfg.kind != NODE_SWV else f"gemeente {peer}"


class _Node:
    """One node's steps against its hub."""

    def __init__(self, cfg: AgentConfig, client, say: Callable[[str], None]) -> None:
        self.cfg, self.client, self.say = cfg, client, say
        self.ledger = Ledger(cfg.log_path)

    def _exchange(self, round_id: int, task: ExchangeTask) -> psi.Exchange:
        exchange = psi.Exchange.from_dict(task.exchange)
        if exchange.round_id != round_id:
            raise PsiError("De hub noemt een uitwisseling van een andere ronde", code="psi_replay")
        exchange.peer(self.cfg.node)  # refuses an exchange this node is no party of
        return exchange

    def blind(self, round_id: int, task: ExchangeTask) -> ExchangeTask:
        exchange = self._exchange(round_id, task)
        sets = submission_sets(self.cfg, round_id, task.submission_id)
        if sets is None:
            raise PsiError(
                f"De sets van inzending {task.submission_id} staan niet op deze node (alleen een run van deze "
                "agent die zelf uploadt, bewaart ze); stuur opnieuw in met 'node-agent run'",
                code="psi_sets_missing")
        state = load_state(self.cfg, exchange)
        if state is None:
            state = psi.new_state(exchange, self.cfg.node)
            save_state(self.cfg, state)  # before anything is sent: a restart blinds alike
        wanted = set(task.schools)
        blinded = psi.blind(state, {code: p for code, p in sets.items() if code in wanted},
                            min_set_size=task.min_set_size, pad_block=task.pad_block)
        answer = self.client.send_sets(round_id, exchange.exchange_id, psi.BLINDED, psi.encode_sets(blinded.payload))
        sent = len(blinded.payload.sets)
        self.ledger.append("exchange_blinded", round=round_id, exchange=exchange.exchange_id, schools=sent)
        small = len(blinded.left_out)
        self.say(f"Uitwisseling {exchange.exchange_id} met {_peer_label(self.cfg, exchange)}: versleutelde set "
                 f"gestuurd voor {sent} {'school' if sent == 1 else 'scholen'}"
                 + (f" ({small} met minder dan {task.min_set_size} kinderen niet gestuurd)" if small else ""))
        return answer

    def reblind(self, round_id: int, task: ExchangeTask) -> ExchangeTask:
        exchange = self._exchange(round_id, task)
        state = load_state(self.cfg, exchange)
        if state is None:
            # The sets this node blinded came from a secret that is gone: a new one would count nothing.
            raise PsiError("De geheime toestand van deze uitwisseling ontbreekt op deze node; de uitwisseling kan "
                           "niet worden afgemaakt", code="psi_state_missing")
        received = psi.PsiSets.from_dict(self.client.peer_sets(round_id, exchange.exchange_id))
        payload, state = psi.reblind(state, received, min_set_size=task.min_set_size)
        save_state(self.cfg, state)  # records which set it re-blinded, before the answer leaves
        answer = self.client.send_sets(round_id, exchange.exchange_id, psi.REBLINDED, psi.encode_sets(payload))
        self.ledger.append("exchange_reblinded", round=round_id, exchange=exchange.exchange_id,
                           schools=len(payload.sets))
        self.say(f"Uitwisseling {exchange.exchange_id} met {_peer_label(self.cfg, exchange)}: set van de andere partij "
                 "herversleuteld en teruggestuurd")
        return answer

    def forget(self, exchange_id: str) -> None:
        _state_path(self.cfg, exchange_id).unlink(missing_ok=True)


def run_exchanges(cfg: AgentConfig, transport: Any = None, *, round_ids: list[int] | None = None,
                  timeout: float = 600.0, interval: float = 5.0, say: Callable[[str], None] = print,
                  clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                  ) -> ExchangeReport:
    """Take every step the hub has for this node in the open rounds it is expected in (or in
    ``round_ids``), polling every ``interval`` seconds until nothing is left to do or ``timeout``
    seconds have passed; delete what was kept for rounds no longer open."""
    from node_agent.upload import client_for as hub_client

    report = ExchangeReport()
    stop_at = clock() + timeout
    with hub_client(cfg, transport) as client:
        node = _Node(cfg, client, say)
        open_ids = {r.id for r in client.open_rounds()}
        for rid in sorted(kept_rounds(cfg) - open_ids):
            if forget_round(cfg, rid):
                say(f"Ronde {rid} is gesloten: de bewaarde sets en geheimen van die ronde zijn verwijderd.")
        targets = sorted(open_ids if round_ids is None else set(round_ids))
        shown: dict[str, str] = {}
        finished: set[str] = set()
        while True:
            progressed = False
            pending: list[str] = []
            waiting: set[str] = set()
            for rid in targets:
                try:
                    poll = client.exchanges(rid)
                except ServiceUnavailable as exc:
                    say(f"De hub is even niet bereikbaar ({exc.code}); opnieuw over {interval:g} s.")
                    pending.append(f"ronde {rid}")
                    continue
                if not poll.round_open:
                    if forget_round(cfg, rid):
                        say(f"Ronde {rid} is gesloten: de bewaarde sets en geheimen van die ronde zijn verwijderd.")
                    continue
                waiting.update(poll.waiting_for)
                for task in poll.tasks:
                    xid = task.exchange_id
                    if xid in report.failed or xid in finished:
                        continue
                    if task.step in (STEP_DONE, STEP_CLOSED):
                        node.forget(xid)
                        finished.add(xid)
                        (report.counted if task.step == STEP_DONE else report.closed).append(xid)
                        say(f"Uitwisseling {xid}: {task.status}")
                        continue
                    try:
                        if task.step == STEP_BLIND:
                            task = node.blind(rid, task)
                            progressed = True
                        elif task.step == STEP_REBLIND:
                            task = node.reblind(rid, task)
                            progressed = True
                    except ConflictError as exc:
                        if exc.code == "exchange_closed":
                            progressed = True  # the next poll reports how it ended
                            continue
                        raise
                    except ServiceUnavailable as exc:
                        say(f"De hub is even niet bereikbaar ({exc.code}); opnieuw over {interval:g} s.")
                        pending.append(xid)
                        continue
                    except JeugdhubError as exc:
                        if exc.code in ("round_closed",):
                            continue
                        report.failed[xid] = exc.code
                        say(f"Fout bij uitwisseling {xid} ({exc.code}): {exc.message}")
                        continue
                    if task.step in (STEP_DONE, STEP_CLOSED):
                        progressed = True
                        continue
                    pending.append(xid)
                    if shown.get(xid) != task.status:
                        shown[xid] = task.status
                        say(f"Uitwisseling {xid}: {task.status}")
            report.pending, report.waiting_for = sorted(set(pending)), sorted(waiting)
            if progressed:
                continue  # the next step may be ready at once (the SWV blinds, then re-blinds)
            if report.finished or clock() >= stop_at:
                break
            sleep(min(interval, max(0.0, stop_at - clock())))
    report.counted = sorted(set(report.counted))
    report.closed = sorted(set(report.closed) - set(report.counted))
    return report

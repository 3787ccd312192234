"""The demo region end to end on the embedded default (SQLite, tasks in-process).

Generates synthetic Lekstroom extracts on real DUO school locations, imports the DUO reference
data shipped in ``hub/reference/demo``, registers five municipalities and Lekstroom's two
samenwerkingsverbanden (PO2607 and VO2607, whose schools the reference data lists; Vijfheerenlanden's
SWVs take no part) as nodes, opens a round per school year, and then runs the agents as separate
``node-agent`` processes that enrol and upload over real HTTP to the hub served on 127.0.0.1: one
process per node, side by side, each counting all three school years in one run and uploading the
partial to each year's round (as a node that joins with its history would); then every node's
``node-agent exchange`` at once, in the background, counts the overlap of each SWV with each
municipality in every round (docs/overlap.md). Every upload is verified, combined, gated and
released as in production; only the broker is replaced by in-process execution.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from hub.services.progress import Progress, report
from shared.errors import ConfigError, JeugdhubError
from shared.scripts import console_script

REGION = "lekstroom"
SCHOOLJAREN = ("2022-2023", "2023-2024", "2024-2025")
MARKER = ".jeugdhub-demo"
COMBINE_TIMEOUT_SECONDS = 900
#: How long each node's exchange process waits for its peers (a few seconds suffice in the demo).
EXCHANGE_TIMEOUT_SECONDS = 300


@dataclass
class DemoLogin:
    role: str
    email: str
    scope: str | None
    description: str


@dataclass
class DemoResult:
    url: str
    password: str
    logins: list[DemoLogin] = field(default_factory=list)
    submissions: int = 0
    releases: dict[str, int] = field(default_factory=dict)


def prepare_directory(workdir: Path) -> None:
    """A fresh working directory; only one the demo made itself is ever emptied."""
    if workdir.exists() and any(workdir.iterdir()):
        if not (workdir / MARKER).exists():
            raise ConfigError(
                f"{workdir} bestaat al en is geen demomap; kies een andere map met --dir",
                code="demo_dir_in_use",
            )
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / MARKER).write_text("made by 'jeugdhub demo'; removed and rebuilt on the next run\n")


def demo_config(workdir: Path) -> dict:
    """Hub settings for the demo: a SQLite file in the work dir, eager tasks. No SECRET_KEY: the hub
    is created with the work dir as its instance folder (see :func:`create_demo_app`), so it makes
    its own random key there, as every hub without HUB_SECRET_KEY does; the next run starts afresh."""
    return {
        "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str((workdir / "hub.sqlite").resolve()),
        "REGION_NAME": "Lekstroom",
        "CELERY_BROKER_URL": None,
        # The printed logins work with their password alone; the login page says this is the demo setting.
        "DEMO_SKIP_MFA": True,
        # Two school years' gates side by side on the two background threads, each in a process of its own.
        "GATE_PROCESSES": 2,
    }


def create_demo_app(workdir: Path):
    from hub import create_app

    return create_app(demo_config(workdir), instance_path=workdir.resolve())


def _agent_command() -> list[str]:
    exe = console_script("node-agent")
    return [exe] if exe else [sys.executable, "-m", "node_agent"]


def run_agent(config: Path, *args: str) -> str:
    """Run one ``node-agent`` command in its own process, as a municipality would."""
    return run_agents([config], *args)[0]


def run_agents(configs: list[Path], *args: str) -> list[str]:
    """Run the same ``node-agent`` command for several nodes, each in its own process, side by side."""
    return finish_agents(start_agents(configs, *args))


@dataclass
class Started:
    """``node-agent`` processes started by :func:`start_agents`, still running."""

    configs: list[Path]
    args: tuple[str, ...]
    procs: list[subprocess.Popen]


def start_agents(configs: list[Path], *args: str) -> Started:
    """Start the same ``node-agent`` command for several nodes, each in its own process; do not wait."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    procs = [subprocess.Popen([*_agent_command(), "--config", str(config), *args], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env, cwd=config.parent) for config in configs]
    return Started(list(configs), tuple(args), procs)


def stop_agents(started: list[Started]) -> None:
    """Kill the processes of :func:`start_agents` that still run (a demo that failed halfway)."""
    for group in started:
        for proc in group.procs:
            if proc.poll() is None:
                proc.kill()
    for group in started:
        for proc in group.procs:
            try:
                proc.communicate(timeout=10)
            except (subprocess.TimeoutExpired, ValueError, OSError):
                pass


def finish_agents(started: Started) -> list[str]:
    """Wait for processes of :func:`start_agents`; their outputs, or an error naming the first that failed."""
    configs, args, procs = started.configs, started.args, started.procs
    outputs = [proc.communicate() for proc in procs]
    for config, proc, (stdout, stderr) in zip(configs, procs, outputs):
        if proc.returncode != 0:
            raise JeugdhubError(
                f"node-agent {' '.join(args[:1])} mislukte voor {config.parent.name} (exit {proc.returncode}): "
                f"{(stderr or stdout).strip()[-800:]}",
                code="demo_agent_failed",
            )
    return [stdout for stdout, _ in outputs]


def step_labels(municipalities: dict[str, dict], swvs: dict[str, dict] | None = None) -> list[str]:
    """The demo's steps as :func:`build` reports them to its ``progress`` callback, in order (``swvs``: the
    region's samenwerkingsverbanden, whose agents run in one step per school year)."""
    swvs = swvs or {}
    labels = [
        "Synthetische extracten van regio Lekstroom maken",
        "Database aanmaken (migraties) en DUO-referentiedata importeren",
        "Vijf gemeenten" + (f" en {len(swvs)} samenwerkingsverbanden" if swvs else "")
        + " als node registreren; agents: sleutels maken en aanmelden",
    ]
    span = f"{SCHOOLJAREN[0]} tot en met {SCHOOLJAREN[-1]}"
    labels.append(f"Rondes openen voor de schooljaren {', '.join(SCHOOLJAREN)}")
    labels.extend(f"agent {entry['naam']}, {span} (controleren, pseudonimiseren, tellen, uploaden)"
                  for _, entry in sorted(municipalities.items()))
    if swvs:
        labels.append(f"agents samenwerkingsverbanden {', '.join(sorted(swvs))}, {span} (ondersteuning tellen, uploaden)")
        labels.append("overlap tellen tussen samenwerkingsverbanden en gemeenten met versleutelde sets, alle rondes "
                      "(loopt door op de achtergrond)")
    labels.append("combineren, beveiligen en publiceren, per schooljaar (loopt door op de achtergrond)")
    labels.append("Wachten tot de uitwisselingen en de publicaties van alle schooljaren klaar zijn")
    labels.append("Demogebruikers aanmaken")
    return labels


def build(workdir: Path, app, url: str, say: Callable[[str], None] | None = None,
          progress: Progress | None = None) -> DemoResult:
    """Everything up to a released region (:func:`_build`), with the log's information lines held back
    meanwhile: the agents' requests to the served hub and the migrations' steps would bury the progress
    lines (warnings and errors still show). Serving afterwards logs each request as before."""
    import logging

    logging.disable(logging.INFO)
    try:
        return _build(workdir, app, url, say, progress)
    finally:
        logging.disable(logging.NOTSET)


def _build(workdir: Path, app, url: str, say: Callable[[str], None] | None = None,
           progress: Progress | None = None) -> DemoResult:
    """Everything up to a released region. ``app`` must already be served at ``url``.

    ``progress(step, total, label)`` hears of each step as it starts (:func:`step_labels`):
    generate, import the reference data, register the nodes, then per school year: open the round,
    run each agent, start the combine (in the background); then wait for every combine; last the demo users. ``say`` prints extra detail lines.
    """
    from flask_migrate import upgrade

    from hub import jobs
    from hub.reference import demo as demo_files
    from hub.services import combine, nodes, rounds
    from hub.services import reference as reference_service
    from node_agent.keys import create_pseudonym_key, create_signing_key
    from node_agent.synthetic.extract_duo import REGIONS
    from node_agent.synthetic.generate import generate_region
    from node_agent.synthetic.swv import REGION_SWVS
    from shared.pseudonym import new_key

    say = say or (lambda _msg: None)
    extracts = workdir / "gemeenten"
    # The steps follow from the region's municipalities and SWVs, which the generator's tables name.
    labels = step_labels({code: {"naam": naam} for code, naam in REGIONS[REGION].items()}, REGION_SWVS[REGION])
    report(progress, 1, len(labels), labels[0])
    manifest = generate_region(REGION, extracts, schooljaren=SCHOOLJAREN)
    municipalities = manifest["municipalities"]
    swvs = manifest["swvs"]
    counter = iter(range(2, len(labels) + 1))

    def step() -> None:
        number = next(counter)
        report(progress, number, len(labels), labels[number - 1])

    say(f"Extracten in {extracts}")
    with app.app_context():
        from hub.extensions import db

        step()
        upgrade()
        demo_dir = Path(demo_files.__file__).parent
        files = sorted(p for p in demo_dir.glob("*.csv"))
        reports = reference_service.import_files(db.session, files)
        for r in reports:
            if r.status == "unusable":
                raise JeugdhubError(f"Referentiebestand {r.name} is onbruikbaar", code="demo_reference_failed")
        from hub.services import consortia

        # A synthetic provider → consortium table (labelled as such), which the rounds give the agents.
        consortia.import_csv(demo_consortia_csv(), "consortia-synthetisch.csv")

        step()
        tokens = {}
        for code, entry in sorted(municipalities.items()):
            tokens[code] = nodes.register_node(code, entry["naam"])
        for code, entry in sorted(swvs.items()):  # the reference data just imported knows them and their schools
            tokens[code] = nodes.register_node(code, entry["naam"])

    # Every agent process this build starts; on any failure the ones still running are stopped.
    alive: list[Started] = []

    def start(configs_: list[Path], *args: str) -> Started:
        alive.append(start_agents(configs_, *args))
        return alive[-1]

    try:
        # One pseudonymisation key for the whole region (the data dictionary allows a shared key); written
        # once to a 0600 file and imported by each node, as `node-agent init --import-pseudonym-key` does.
        # The SWVs import the same key: a pupil has the same pseudonym at the SWV as at the municipality.
        region_key = new_key()
        configs = {}
        enrolling = []
        for code, entry in sorted(municipalities.items()) + sorted(swvs.items()):
            config = (extracts / entry["config"]).resolve()
            _set_hub_url(config, url)
            keys = config.parent / "keys"
            create_pseudonym_key(keys / "pseudonym.key", region_key)
            create_signing_key(keys / "signing.pem")
            enrolling.append(start([config], "enrol", "--token", tokens[code]))  # side by side
            configs[code] = config
        for started in enrolling:
            finish_agents(started)

        # Every round at once: a municipality that joins with its history submits its school years in one
        # run, as `node-agent run --school-year A --school-year B …` does, and the run uploads the one
        # partial to each school year's open round. Every node's agent runs in a process of its own, side
        # by side, as the nodes of a real round work; the steps follow in order, each as the demo starts
        # waiting for that agent.
        step()
        with app.app_context():
            expected = sorted(municipalities) + sorted(swvs)
            for jaar in SCHOOLJAREN:
                rounds.open_round(jaar, expected=expected)
        run = ("run", *[arg for jaar in SCHOOLJAREN for arg in ("--school-year", jaar)], "--no-exchange")
        running = {code: start([configs[code]], *run) for code in sorted(municipalities)}
        swv_agents = start([configs[code] for code in sorted(swvs)], *run) if swvs else None
        submissions = 0
        for code in sorted(municipalities):
            step()
            (out,) = finish_agents(running[code])
            submissions += out.count("inzending")
            say(f"     {municipalities[code]['naam']}: klaar")
        exchanges = None
        if swv_agents is not None:
            step()
            outs = finish_agents(swv_agents)
            submissions += sum(out.count("inzending") for out in outs)
            say(f"     samenwerkingsverbanden {', '.join(sorted(swvs))}: klaar")
            # Every node takes its steps of the overlap exchanges of all open rounds in a process of its own,
            # side by side and in the background; each round's first publication waits for its exchanges
            # (hub/services/exchange.py). A node polls only while it has nothing to do; once a second keeps
            # seven nodes' polls of three rounds from crowding the hub's own work (0.3 s was slower).
            step()
            exchanges = start([configs[code] for code in sorted(configs)], "exchange", "--timeout",
                              str(EXCHANGE_TIMEOUT_SECONDS), "--interval", "1.0")
        # The last upload to each round queued its first publication (hub/jobs.py), which runs on the hub's
        # background threads, its gate in a process of its own (``GATE_PROCESSES``).
        step()

        step()
        if exchanges is not None:
            outs = finish_agents(exchanges)
            unfinished = [config.parent.name for config, out in zip(exchanges.configs, outs)
                          if "Uitwisseling klaar" not in out]
            say("     overlap: " + ("geteld" if not unfinished else f"niet klaar bij {', '.join(unfinished)}"))
        if not jobs.wait(app, jobs.COMBINE, timeout=COMBINE_TIMEOUT_SECONDS * len(SCHOOLJAREN)):
            raise JeugdhubError("Het combineren duurde langer dan verwacht", code="demo_combine_timeout")
        combine.shutdown_gate_pool()  # a later upload to the served demo starts them again
    except BaseException:
        stop_agents(alive)
        raise

    with app.app_context():
        releases = _current_releases()
    missing = [jaar for jaar in SCHOOLJAREN if jaar not in releases]
    if missing:
        # A combine that failed in the background (the hub's log says why) leaves its school year unpublished:
        # the demo says so, rather than serve pages without it.
        raise JeugdhubError(f"Geen publicatie voor schooljaar {', '.join(missing)}: het combineren is mislukt "
                            "(zie de meldingen hierboven)", code="demo_combine_failed")
    step()
    password = _password()
    with app.app_context():
        logins = _demo_users(password, municipalities)
    return DemoResult(url=url, password=password, logins=logins, submissions=submissions, releases=releases)


#: The demo's consortia: invented, like its providers (node_agent/synthetic/providers.py). Dyslexia,
#: transport and the certified institutions stay outside every consortium ("andere aanbieders").
DEMO_CONSORTIA = {
    "Consortium Lek en IJssel (synthetisch)": ("98060412", "98071233", "98103325", "98112960", "98136615",
                                               "98130447", "98131095", "98128356"),
    "Consortium Jeugd-GGZ Midden (synthetisch)": ("98060927", "98089217", "98095548", "98067729", "98133760",
                                                  "98126123", "98127494", "98092414"),
    "Consortium Verblijf en Daghulp (synthetisch)": ("98022871", "98076655", "98118024", "98121738", "98085516",
                                                     "98135082", "98114406"),
    "Consortium Thuis en Wijk (synthetisch)": ("98000131", "98000158", "98064480", "98057301"),
}


#: Consortia whose rows in the demo's table leave ``aanbieder_naam`` empty, as real tables often do:
#: their providers' names on the pages are the ones the municipalities' partials give.
DEMO_CONSORTIA_WITHOUT_NAMES = ("Consortium Jeugd-GGZ Midden (synthetisch)",)


def demo_consortia_csv() -> bytes:
    """The demo's provider → consortium table as the CSV an admin would upload."""
    from node_agent.synthetic.providers import PROVIDERS

    names = {p.agb: p.naam for p in PROVIDERS}
    lines = ["aanbieder_agb;aanbieder_naam;consortium"]
    for consortium, members in DEMO_CONSORTIA.items():
        named = consortium not in DEMO_CONSORTIA_WITHOUT_NAMES
        lines.extend(f"{agb};{names[agb] if named else ''};{consortium}" for agb in members)
    return ("\n".join(lines) + "\n").encode("utf-8")


def _set_hub_url(config: Path, url: str) -> None:
    import tomllib

    import tomli_w

    text = config.read_text(encoding="utf-8")
    header = "".join(line + "\n" for line in text.splitlines() if line.startswith("#"))
    doc = tomllib.loads(text)
    doc.setdefault("hub", {})["url"] = url
    config.write_text(header + tomli_w.dumps(doc), encoding="utf-8")


def _password() -> str:
    words = ["lek", "brug", "dijk", "polder", "molen", "gracht", "sluis", "wilg"]
    return "-".join(secrets.choice(words) for _ in range(3)) + "-" + str(secrets.randbelow(90) + 10)


def _demo_users(password: str, municipalities: dict) -> list[DemoLogin]:
    from hub.services import users
    from hub.services import reference as reference_service
    from hub.extensions import db

    vest = reference_service.vestigingen(db.session, ["0356"])
    school = vest.sort_values("vestigingscode").iloc[0] if len(vest) else None
    from hub.services import indicators as indicator_service

    # The SWV whose schools the participating gemeenten cover best, so its user sees figures (the
    # alphabetically first one could sit wholly outside the region and show only "afgeschermd").
    swv_code = indicator_service.best_covered_swv(indicator_service.load())
    logins = [DemoLogin("regio_admin", "regio@demo.jeugdhub.nl", None, "regiobeheerder: alles")]
    logins.append(DemoLogin("gemeente", "nieuwegein@demo.jeugdhub.nl", "0356", "gemeente Nieuwegein"))
    if swv_code:
        logins.append(DemoLogin("swv", "swv@demo.jeugdhub.nl", str(swv_code), f"samenwerkingsverband {swv_code}"))
    if school is not None:
        logins.append(
            DemoLogin("school", "school@demo.jeugdhub.nl", str(school["vestigingscode"]), f"school {school['naam']}")
        )
    for login in logins:
        users.add_user(login.email, password, login.role, login.scope, naam=login.description)
    return logins


def _current_releases() -> dict[str, int]:
    from sqlalchemy import select

    from hub.extensions import db
    from hub.models.rounds import Round

    return {
        r.schooljaar: r.current_release_id
        for r in db.session.scalars(select(Round).order_by(Round.schooljaar))
        if r.current_release_id is not None
    }


class BackgroundServer:
    """The hub on a loopback port in a thread, so the agent processes can reach it during the build."""

    def __init__(self, app, host: str, port: int):
        from werkzeug.serving import make_server

        try:
            self._server = make_server(host, port, app, threaded=True)
        except OSError as exc:
            raise ConfigError(
                f"Poort {port} op {host} is niet vrij ({exc.strerror}); kies een andere met --port",
                code="port_in_use",
            ) from None
        self.url = f"http://{host}:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> "BackgroundServer":
        self._thread.start()
        return self

    def wait(self) -> None:
        """Block until interrupted (Ctrl-C)."""
        try:
            while self._thread.is_alive():
                self._thread.join(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def stop(self) -> None:
        self._server.shutdown()

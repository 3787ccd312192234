"""``jeugdhub round combine`` and ``jeugdhub demo`` show their steps on stderr (a step counter when
not on a terminal, a click progress bar on one); stdout keeps the result."""

from __future__ import annotations

from pathlib import Path

import click
from click.testing import CliRunner

from hub.cli._common import StepProgress
from hub.services import nodes, submissions
from hub.services.combine import STEPS
from tests.hub.factories import enrol_node


def test_round_combine_shows_each_step(app, no_combine):
    a = enrol_node("0356")
    assert app.test_cli_runner().invoke(args=["round", "open", "2024-2025"]).exit_code == 0
    submissions.receive(1, a.envelope(), nodes.get_node("0356"))
    result = app.test_cli_runner().invoke(args=["round", "combine", "1"])
    assert result.exit_code == 0, result.output
    assert "nieuwe release" in result.stdout and "[1/4]" not in result.stdout
    lines = [line for line in result.stderr.splitlines() if line.startswith("[")]
    assert lines == [f"[{i}/{len(STEPS)}] {label} …" for i, label in enumerate(STEPS, start=1)]
    assert "samenvoegen: klaar in" in result.stderr
    # Nothing to do: no steps.
    again = app.test_cli_runner().invoke(args=["round", "combine", "1"])
    assert "al actueel" in again.stdout and "[1/" not in again.stderr


def test_step_progress_as_a_bar_on_a_terminal():
    @click.command()
    def work():
        with StepProgress("Werk", tty=True) as progress:
            for i, label in enumerate(("een", "twee", "drie"), start=1):
                progress(i, 3, label)
        click.echo(f"{len(progress.times)} stappen")

    result = CliRunner().invoke(work)
    assert result.exit_code == 0 and result.stdout.strip() == "3 stappen"
    # click draws the bar only on a real terminal (CliRunner's is not): its label is all it writes here.
    assert result.stderr.strip() == "Werk"


def test_demo_command_shows_the_demo_steps(monkeypatch, tmp_path):
    """The command hands its bar to hub.demo.build (the real build runs in bench/hub/bench_demo.py,
    which fails when a step line is missing); here build reports the labels it would."""
    from hub import demo as demo_service
    from hub.cli.main import main

    municipalities = {f"03{i}": {"naam": f"Gemeente {i}"} for i in range(5)}
    swvs = {"PO2607": {"naam": "SWV PO"}, "VO2607": {"naam": "SWV VO"}}
    labels = demo_service.step_labels(municipalities, swvs)

    class Server:
        url = "http://127.0.0.1:1"

        def __init__(self, *args):
            pass

        def start(self):
            return self

        def stop(self):
            pass

    def build(workdir, app, url, say=None, progress=None):
        for i, label in enumerate(labels, start=1):
            progress(i, len(labels), label)
        return demo_service.DemoResult(url=url, password="pw", releases={"2024-2025": 3})

    monkeypatch.setattr(demo_service, "BackgroundServer", Server)
    monkeypatch.setattr(demo_service, "create_demo_app", lambda workdir: None)
    monkeypatch.setattr(demo_service, "build", build)
    result = CliRunner().invoke(main, ["demo", "--no-serve", "--dir", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    steps = [line for line in result.stderr.splitlines() if line.startswith("[")]
    # rounds, 5 agents (each for every school year), the SWVs, overlap, combine
    assert len(steps) == len(labels) == 3 + (1 + 5 + 1 + 1 + 1) + 2
    assert steps[0] == "[1/14] Synthetische extracten van regio Lekstroom maken …"
    assert "Vijf gemeenten en 2 samenwerkingsverbanden als node registreren" in steps[2]
    assert "Rondes openen voor de schooljaren 2022-2023, 2023-2024, 2024-2025" in steps[3]
    assert "agent Gemeente 0, 2022-2023 tot en met 2024-2025" in steps[4]
    assert "combineren, beveiligen en publiceren, per schooljaar" in steps[-3]
    assert "agents samenwerkingsverbanden PO2607, VO2607, 2022-2023 tot en met 2024-2025" in steps[-5]
    assert "overlap tellen" in steps[-4]
    assert "Wachten tot de uitwisselingen en de publicaties" in steps[-2]
    assert "De hub draait op" in result.stdout and Path(tmp_path / "d").exists()


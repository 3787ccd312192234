"""``jeugdhub demo``: the demo region end to end, then the hub served on 127.0.0.1:5000."""

from __future__ import annotations

from pathlib import Path

import click

from hub.cli._common import StepProgress, user_errors
from shared.scripts import activation_hint


@click.command("demo")
@click.option("--dir", "workdir", type=click.Path(file_okay=False, path_type=Path), default=Path("demo-run"),
              show_default=True, help="Werkmap voor de demo (wordt bij elke run opnieuw opgebouwd).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Alleen opbouwen en controleren; de hub daarna niet blijven serveren.")
@user_errors
def demo(workdir: Path, host: str, port: int, no_serve: bool) -> None:
    """Bouw de demoregio Lekstroom op (5 gemeenten, 3 schooljaren) en start de hub."""
    from hub import demo as demo_service

    def build():
        demo_service.prepare_directory(workdir)
        app = demo_service.create_demo_app(workdir)
        server = demo_service.BackgroundServer(app, host, port).start()
        try:
            with StepProgress("Demo opbouwen") as progress:
                result = demo_service.build(workdir, app, server.url, progress=progress)
        except BaseException:
            server.stop()
            raise
        return server, result

    server, result = build()
    click.echo("")
    click.echo(f"De hub draait op {result.url}")
    click.echo(f"  Regio-overzicht:   {result.url}/")
    click.echo(f"  API:               {result.url}/api/v1/releases   (OpenAPI: {result.url}/api/v1/openapi.yaml)")
    click.echo("  Publicaties per schooljaar: "
               + ", ".join(f"{jaar} → publicatie {rid}" for jaar, rid in sorted(result.releases.items())))
    click.echo("")
    click.echo(f"Inloggen (wachtwoord voor alle demogebruikers: {result.password}):")
    for login in result.logins:
        click.echo(f"  {login.email:32s} {login.description}")
    click.echo("")
    click.echo(f"Extracten, agent-configuraties en -logboeken staan in {workdir}/gemeenten/.")
    example = sorted((workdir / "gemeenten").glob("*"))
    if example:
        activate = activation_hint()
        click.echo("De agent zelf proberen:")
        click.echo("  " + " && ".join(x for x in (activate, f"cd {example[0].resolve()}", "node-agent check") if x))
    if no_serve:
        server.stop()
        return
    click.echo("Stoppen: Ctrl-C.")
    server.wait()

"""Command line for synthetic data: ``python -m node_agent.synthetic region lekstroom OUT`` or ``... large OUT``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from node_agent.synthetic.extract_duo import REGIONS
from node_agent.synthetic import DEFAULT_SCHOOLJAREN, DEFAULT_SEED


@click.group()
def main() -> None:
    """Synthetische gemeentelijke extracten maken (demo, tests, benchmark)."""


@main.command("region")
@click.argument("region", type=click.Choice(sorted(REGIONS)))
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--school-year", "schooljaren", multiple=True, default=DEFAULT_SCHOOLJAREN, show_default=True,
              help="Schooljaar (JJJJ-JJJJ); herhaal voor meer jaren.")
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True)
@click.option("--scale", type=click.FloatRange(0.001, 10.0), default=1.0, show_default=True,
              help="Fractie van de DUO-leerlingaantallen.")
@click.option("--hub-url", default="http://localhost:5000", show_default=True, help="Hubadres in de agentconfiguraties.")
def region_cmd(region: str, out_dir: Path, schooljaren: tuple[str, ...], seed: int, scale: float, hub_url: str) -> None:
    """Schrijf per gemeente van REGION de drie extracten, per samenwerkingsverband het ondersteuningsbestand, een
    agentconfiguratie per node en manifest.json."""
    from node_agent.synthetic.generate import generate_region

    try:
        manifest = generate_region(region, out_dir, schooljaren=schooljaren, seed=seed, scale=scale,
                                   hub_url=hub_url)
    except ValueError as exc:
        click.echo(f"Fout: {exc}", err=True)
        sys.exit(2)
    for code, entry in manifest["municipalities"].items():
        files = entry["files"]
        click.echo(f"{code} {entry['naam']}: {files['leerlingen']['rows']} leerlingregels, "
                   f"{files['jeugdhulp']['rows']} toewijzingen, {files['declaraties']['rows']} declaratieregels "
                   f"({entry['style']}) → {out_dir / entry['config']}")
    for code, entry in manifest.get("swvs", {}).items():
        click.echo(f"{code} {entry['naam']}: {entry['files']['ondersteuning']['rows']} ondersteuningsregels "
                   f"→ {out_dir / entry['config']}")
    click.echo(f"Manifest: {out_dir / 'manifest.json'}")


@main.command("large")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--enrolments", type=click.IntRange(min=100), default=1_000_000, show_default=True)
@click.option("--allocations", type=click.IntRange(min=10), default=300_000, show_default=True)
@click.option("--claim-lines", type=click.IntRange(min=10), default=3_000_000, show_default=True)
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True)
def large_cmd(out_dir: Path, enrolments: int, allocations: int, claim_lines: int, seed: int) -> None:
    """Schrijf één grote, foutloze gemeente (voor de benchmark)."""
    from node_agent.synthetic.large import generate_large_municipality

    info = generate_large_municipality(out_dir, enrolments=enrolments, allocations=allocations,
                                       claim_lines=claim_lines, seed=seed)
    click.echo(f"{info['enrolments']} leerlingregels, {info['allocations']} toewijzingen, "
               f"{info['claim_lines']} declaratieregels, schooljaren {', '.join(info['schooljaren'])} → {out_dir}")


if __name__ == "__main__":
    main()

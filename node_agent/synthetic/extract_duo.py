"""Extract the demo regions' real school locations and pupil counts from DUO open data into ``schools.csv``.

Run: ``python -m node_agent.synthetic.extract_duo /work/shared/data/duo OUT_DIR``. The product ships only the
resulting CSV; the DUO files are needed only to regenerate it (a test checks the shipped file is identical).

Sources and estimates:

* BO/SBO/SO/VSO/SO-VSO locations and their 1 October pupil counts come from
  ``06.-historisch-overzicht-aantal-leerlingen-per-schoolvestiging.csv``. A masked count (``<5``) is written as
  3 and its year listed in ``gemaskeerd``; ``bron`` is ``duo``.
* VO locations come from ``duo_examen_raw_all.csv`` (there is no VO pupil file here). Their pupil counts are
  ESTIMATES (``bron`` = ``geschat``): the exam candidates of one year are roughly one cohort, so
  pupils ≈ 4 × VMBO + 5 × HAVO + 6 × VWO candidates (the programmes' lengths). Year ``J`` (1 October J) uses the
  candidates of school year J-(J+1) when the file has it, otherwise the latest year (2023-2024). A masked
  candidate count (``<5``) counts as 3.
* A location in both files (a VSO school holding VO exams) keeps its counted pupils.
* A location is kept when it has pupils in any of the years 2022–2025.
"""

from __future__ import annotations

import csv
import io
import sys
from dataclasses import dataclass
from pathlib import Path

import click

YEARS = (2022, 2023, 2024, 2025)
MASKED = "<5"
MASKED_VALUE = 3

PUPIL_FILE = "06.-historisch-overzicht-aantal-leerlingen-per-schoolvestiging.csv"
EXAM_FILE = "duo_examen_raw_all.csv"

#: The demo regions and their member municipalities (CBS code → name).
REGIONS: dict[str, dict[str, str]] = {
    "lekstroom": {
        "0356": "Nieuwegein",
        "0321": "Houten",
        "0353": "IJsselstein",
        "0331": "Lopik",
        "1961": "Vijfheerenlanden",
    },
    "zuid-kennemerland": {
        "0392": "Haarlem",
        "0473": "Zandvoort",
        "0377": "Bloemendaal",
        "0397": "Heemstede",
    },
    "ijmond": {
        "0453": "Velsen",
        "0375": "Beverwijk",
        "0396": "Heemskerk",
    },
}

#: Municipalities outside each region whose schools the region's children also attend.
NEIGHBOURS: dict[str, dict[str, str]] = {
    "lekstroom": {"0344": "Utrecht", "0216": "Culemborg", "0355": "Zeist", "0512": "Gorinchem"},
    "zuid-kennemerland": {"0394": "Haarlemmermeer"},
    "ijmond": {"0450": "Uitgeest", "0383": "Castricum"},
}

#: How many of a neighbouring municipality's largest locations are kept, per kind.
NEIGHBOUR_PICK = {"BO": 3, "special": 2, "VO": 2}

#: VO estimate: candidates of one year × the programme's length in years.
VO_PROGRAMME_YEARS = {"VMBO": 4, "HAVO": 5, "VWO": 6}
EXAM_YEARS = ("2019-2020", "2020-2021", "2021-2022", "2022-2023", "2023-2024")

COLUMNS = (
    ["region", "rol", "vestigingscode", "naam", "gemeentecode", "gemeentenaam", "soort"]
    + [f"leerlingen_{y}" for y in YEARS]
    + ["gemaskeerd", "bron"]
)


@dataclass
class School:
    region: str
    rol: str  # "regio" (member municipality) or "buur" (neighbouring municipality)
    vestigingscode: str
    naam: str
    gemeentecode: str
    gemeentenaam: str
    soort: str
    leerlingen: dict[int, int]
    gemaskeerd: list[int]
    bron: str

    def row(self) -> list[str]:
        return (
            [self.region, self.rol, self.vestigingscode, self.naam, self.gemeentecode, self.gemeentenaam, self.soort]
            + [str(self.leerlingen[y]) for y in YEARS]
            + [" ".join(str(y) for y in self.gemaskeerd), self.bron]
        )


def _municipalities() -> dict[str, tuple[str, str, str]]:
    """gemeentecode → (region, rol, name)."""
    out: dict[str, tuple[str, str, str]] = {}
    for region, members in REGIONS.items():
        for code, name in members.items():
            out[code] = (region, "regio", name)
    for region, members in NEIGHBOURS.items():
        for code, name in members.items():
            out.setdefault(code, (region, "buur", name))
    return out


def _count(text: str) -> tuple[int, bool]:
    text = (text or "").strip()
    if text == MASKED:
        return MASKED_VALUE, True
    return (int(text) if text else 0), False


def _read_pupil_file(path: Path, municipalities) -> list[School]:
    schools = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for rec in csv.DictReader(fh, delimiter=";"):
            code = rec["GEMEENTECODE_VESTIGING"].strip().zfill(4)
            if code not in municipalities:
                continue
            region, rol, name = municipalities[code]
            if rec["GEMEENTENAAM_VESTIGING"].strip().upper() != name.upper():
                raise ValueError(
                    f"{path.name}: gemeentecode {code} heeft naam {rec['GEMEENTENAAM_VESTIGING']!r}, verwacht {name}"
                )
            counts, masked = {}, []
            for y in YEARS:
                counts[y], was_masked = _count(rec[f"LEERLINGEN_{y}"])
                if was_masked:
                    masked.append(y)
            if not any(counts.values()):
                continue  # closed before 2022
            schools.append(
                School(region, rol, rec["VESTIGINGSCODE"].strip(), rec["NAAM_VESTIGING"].strip(), code, name,
                       rec["SOORT_VESTIGING"].strip(), counts, masked, "duo")
            )
    return schools


def _read_exam_file(path: Path, municipalities) -> list[School]:
    by_name = {name.upper(): code for code, (_, _, name) in municipalities.items()}
    # (vestigingscode) → name, gemeente, {exam year → estimated pupils}
    acc: dict[str, dict] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for rec in csv.DictReader(fh, delimiter=";"):
            code = by_name.get(rec["GEMEENTENAAM"].strip().upper())
            if code is None:
                continue
            ves = rec["VESTIGINGSCODE"].strip()
            entry = acc.setdefault(ves, {"naam": rec["INSTELLINGSNAAM VESTIGING"].strip(), "gemeente": code,
                                         "pupils": {y: 0 for y in EXAM_YEARS}})
            factor = VO_PROGRAMME_YEARS[rec["ONDERWIJSTYPE VO"].strip()]
            for y in EXAM_YEARS:
                candidates, _ = _count(rec[f"EXAMENKANDIDATEN SCHOOLJAAR {y} - TOTAAL"])
                entry["pupils"][y] += candidates * factor
    schools = []
    for ves, entry in acc.items():
        counts = {}
        for y in YEARS:
            exam_year = f"{y}-{y + 1}"
            counts[y] = entry["pupils"][exam_year if exam_year in entry["pupils"] else EXAM_YEARS[-1]]
        if not any(counts.values()):
            continue
        region, rol, name = municipalities[entry["gemeente"]]
        schools.append(School(region, rol, ves, entry["naam"], entry["gemeente"], name, "VO", counts, [], "geschat"))
    return schools


def _pick_neighbours(schools: list[School]) -> list[School]:
    """Members' schools all; a neighbouring municipality's few largest (2025, else latest) per kind."""
    kept = [s for s in schools if s.rol == "regio"]
    groups: dict[tuple[str, str], list[School]] = {}
    for s in schools:
        if s.rol != "buur":
            continue
        kind = "BO" if s.soort == "BO" else "VO" if s.soort == "VO" else "special"
        groups.setdefault((s.gemeentecode, kind), []).append(s)
    for (_, kind), members in groups.items():
        members.sort(key=lambda s: (-s.leerlingen[YEARS[-1]], -sum(s.leerlingen.values()), s.vestigingscode))
        kept.extend(members[: NEIGHBOUR_PICK[kind]])
    return kept


def extract(duo_dir: Path) -> str:
    """The CSV text of ``schools.csv`` (deterministic)."""
    municipalities = _municipalities()
    counted = _read_pupil_file(duo_dir / PUPIL_FILE, municipalities)
    known = {s.vestigingscode for s in counted}
    # a (V)SO location that also holds VO exams keeps its real pupil count rather than an estimate
    estimated = [s for s in _read_exam_file(duo_dir / EXAM_FILE, municipalities) if s.vestigingscode not in known]
    schools = counted + estimated
    schools = _pick_neighbours(schools)
    order = {r: i for i, r in enumerate(REGIONS)}
    schools.sort(key=lambda s: (order[s.region], s.rol != "regio", s.gemeentecode, s.vestigingscode))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for s in schools:
        writer.writerow(s.row())
    return buf.getvalue()


@click.command()
@click.argument("duo_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
def main(duo_dir: Path, out_dir: Path) -> None:
    """Schrijf schools.csv (vestigingen en leerlingaantallen van de demoregio's) uit de DUO-bestanden in DUO_DIR."""
    for name in (PUPIL_FILE, EXAM_FILE):
        if not (duo_dir / name).is_file():
            click.echo(f"Fout: {duo_dir / name} ontbreekt; dit script leest de DUO-bestanden {PUPIL_FILE} en {EXAM_FILE}.",
                       err=True)
            sys.exit(2)
    out_dir.mkdir(parents=True, exist_ok=True)
    text = extract(duo_dir)
    (out_dir / "schools.csv").write_text(text, encoding="utf-8", newline="")
    click.echo(f"{out_dir / 'schools.csv'}: {text.count(chr(10)) - 1} vestigingen")


if __name__ == "__main__":
    main()

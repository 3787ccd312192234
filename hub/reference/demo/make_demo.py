"""Write the demo region's DUO reference files (and ``../gemeenten.csv``) from the real DUO files.

Run from the repository root: ``python -m hub.reference.demo.make_demo DIR`` with DIR holding DUO's open-data files
(02.-alle-schoolvestigingen-basisonderwijs.csv, 06.-historisch-overzicht-aantal-leerlingen-per-schoolvestiging.csv,
duo_examen_raw_all.csv; docs/data-dictionary.md names them).
The product ships the output; DUO's full files are needed only to regenerate it.

- The three real files are cut down byte for byte: same encoding, BOM, delimiter, quoting, CRLF and
  header; only rows are dropped. Kept: every row of the demo regions' municipalities, and of their
  neighbouring municipalities the locations the synthetic data generator uses
  (``node_agent/synthetic/schools.csv``; without it the same rule: the 3 largest BO, 2 largest
  special and 2 largest VO locations in 2025).
- ``01.-leerlingen-vo-per-vestiging-naar-onderwijstype-YYYY.csv`` (2022–2025) are SYNTHETIC, in DUO's
  documented (older) layout, for the VO locations of the exam file that 06 does not list (VSO schools
  with exam candidates are counted there): VO pupils estimated from exam candidates exactly as the generator does
  (4 × VMBO + 5 × HAVO + 6 × VWO candidates of school year YYYY-(YYYY+1), else the latest year; a
  masked ``<5`` counts as 3), spread evenly over the programme's years and split by the candidates'
  sex ratio.
- ``swv-po-vestigingen.csv`` and ``swv-vo-vestigingen.csv`` are SYNTHETIC samenwerkingsverband
  memberships with made-up codes and names (marked "synthetisch").
"""

from __future__ import annotations

import csv
import io
import sys
from collections import defaultdict
from pathlib import Path

import click

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
SYNTH_SCHOOLS = REPO / "node_agent" / "synthetic" / "schools.csv"

BO_FILE = "02.-alle-schoolvestigingen-basisonderwijs.csv"
PUPIL_FILE = "06.-historisch-overzicht-aantal-leerlingen-per-schoolvestiging.csv"
EXAM_FILE = "duo_examen_raw_all.csv"
VO_YEARS = (2022, 2023, 2024, 2025)
EXAM_YEARS = ("2019-2020", "2020-2021", "2021-2022", "2022-2023", "2023-2024")
PROGRAMME_YEARS = {"VMBO": 4, "HAVO": 5, "VWO": 6}

#: Demo regions' member municipalities (CBS code → DUO name, upper case as DUO writes it).
MEMBERS = {
    "0356": "NIEUWEGEIN", "0321": "HOUTEN", "0353": "IJSSELSTEIN", "0331": "LOPIK", "1961": "VIJFHEERENLANDEN",
    "0392": "HAARLEM", "0473": "ZANDVOORT", "0377": "BLOEMENDAAL", "0397": "HEEMSTEDE",
    "0453": "VELSEN", "0375": "BEVERWIJK", "0396": "HEEMSKERK",
}
NEIGHBOURS = {
    "0344": "UTRECHT", "0216": "CULEMBORG", "0355": "ZEIST", "0512": "GORINCHEM",
    "0394": "HAARLEMMERMEER", "0450": "UITGEEST", "0383": "CASTRICUM",
}
PROVINCIE = {
    **{c: "Utrecht" for c in ("0356", "0321", "0353", "0331", "1961", "0344", "0355")},
    **{c: "Noord-Holland" for c in ("0392", "0473", "0377", "0397", "0453", "0375", "0396", "0394", "0450", "0383")},
    "0216": "Gelderland",
    "0512": "Zuid-Holland",
}
NEIGHBOUR_PICK = {"BO": 3, "special": 2, "VO": 2}

#: SYNTHETIC samenwerkingsverbanden: gemeentecode → (number after the sector, name stem).
SWV = {
    **{c: ("26-07", "Lekstroom") for c in ("0356", "0321", "0353", "0331")},
    "1961": ("26-11", "Vijfheerenlanden"),
    "0344": ("26-05", "Stad Utrecht"),
    "0355": ("26-03", "Zeist e.o."),
    "0216": ("25-14", "Rivierenland Noord"),
    "0512": ("28-20", "Gorinchem e.o."),
    **{c: ("27-05", "Zuid-Kennemerland") for c in ("0392", "0473", "0377", "0397")},
    "0394": ("27-08", "Haarlemmermeer"),
    **{c: ("27-04", "IJmond") for c in ("0453", "0375", "0396")},
    **{c: ("27-03", "Midden-Kennemerland") for c in ("0450", "0383")},
}


def _lines(path: Path) -> tuple[bytes, list[bytes]]:
    """Header and data lines as raw bytes (the files have no line breaks inside fields)."""
    data = path.read_bytes()
    lines = data.split(b"\r\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return lines[0], lines[1:]


def _fields(line: bytes, encoding: str) -> list[str]:
    return next(csv.reader([line.decode(encoding)], delimiter=";"))


def _count(text: str) -> int:
    text = text.strip()
    return 3 if text == "<5" else int(text) if text.isdigit() else 0


def _synth_neighbour_codes() -> set[str] | None:
    if not SYNTH_SCHOOLS.is_file():
        return None
    with SYNTH_SCHOOLS.open(encoding="utf-8", newline="") as fh:
        return {r["vestigingscode"] for r in csv.DictReader(fh) if r["rol"] == "buur"}


def select(duo: Path) -> dict[str, str]:
    """Kept vestigingscode → gemeentecode."""
    kept: dict[str, str] = {}
    candidates: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
    _, rows = _lines(duo / PUPIL_FILE)
    for line in rows:
        f = _fields(line, "utf-8")
        gem = f[6].zfill(4)
        if gem in MEMBERS:
            kept[f[1]] = gem
        elif gem in NEIGHBOURS:
            kind = "BO" if f[3] == "BO" else "special"
            candidates[(gem, kind)].append((_count(f[-1]), f[1]))
    by_name = {n: c for c, n in {**MEMBERS, **NEIGHBOURS}.items()}
    vo_pupils: dict[str, int] = defaultdict(int)
    _, rows = _lines(duo / EXAM_FILE)
    header = _fields(_lines(duo / EXAM_FILE)[0], "utf-8")
    last = header.index(f"EXAMENKANDIDATEN SCHOOLJAAR {EXAM_YEARS[-1]} - TOTAAL")
    for line in rows:
        f = _fields(line, "utf-8")
        gem = by_name.get(f[3])
        if gem in MEMBERS:
            kept[f[1]] = gem
        elif gem in NEIGHBOURS:
            vo_pupils[(gem, f[1])] += _count(f[last]) * PROGRAMME_YEARS[f[4]]
    for (gem, code), n in vo_pupils.items():
        candidates[(gem, "VO")].append((n, code))
    synth = _synth_neighbour_codes()
    for (gem, kind), items in candidates.items():
        if synth is not None:
            picked = [code for _, code in items if code in synth]
        else:
            picked = [code for _, code in sorted(items, key=lambda x: (-x[0], x[1]))[: NEIGHBOUR_PICK[kind]]]
        for code in picked:
            kept[code] = gem
    return kept


def cut(src: Path, dst: Path, encoding: str, code_index: int, keep: set[str]) -> int:
    header, rows = _lines(src)
    out = [header] + [line for line in rows if _fields(line, encoding)[code_index] in keep]
    dst.write_bytes(b"\r\n".join(out) + b"\r\n")
    return len(out) - 1


def vo_pupil_files(duo: Path, out: Path, kept: dict[str, str]) -> list[str]:
    # DUO's VO pupil file covers WVO schools only; a VSO school with exam candidates is counted in 06.
    special = {_fields(line, "utf-8")[1] for line in _lines(duo / PUPIL_FILE)[1]}
    header, rows = _lines(duo / EXAM_FILE)
    cols = _fields(header, "utf-8")
    # (location) → name, gemeente; (location, type) → {exam year: (candidates, man, vrouw)}
    info: dict[str, tuple[str, str]] = {}
    per_type: dict[tuple[str, str], dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    for line in rows:
        f = _fields(line, "utf-8")
        if f[1] not in kept or f[1] in special:
            continue
        info[f[1]] = (f[2], kept[f[1]])
        for y in EXAM_YEARS:
            acc = per_type[(f[1], f[4])][y]
            acc[0] += _count(f[cols.index(f"EXAMENKANDIDATEN SCHOOLJAAR {y} - TOTAAL")])
            acc[1] += _count(f[cols.index(f"EXAMENKANDIDATEN SCHOOLJAAR {y} - MAN")])
            acc[2] += _count(f[cols.index(f"EXAMENKANDIDATEN SCHOOLJAAR {y} - VROUW")])
    names = {**MEMBERS, **NEIGHBOURS}
    header_out = (
        ["BRIN NUMMER", "VESTIGINGSNUMMER", "INSTELLINGSNAAM VESTIGING", "PLAATSNAAM VESTIGING", "GEMEENTENUMMER",
         "GEMEENTENAAM", "PROVINCIE VESTIGING", "ONDERWIJSTYPE VO EN LEER- OF VERBLIJFSJAAR", "OPLEIDINGSNAAM"]
        + [f"LEER- OF VERBLIJFSJAAR {j} - {s}" for j in range(1, 7) for s in ("MAN", "VROUW")]
    )
    written = []
    for year in VO_YEARS:
        exam_year = f"{year}-{year + 1}" if f"{year}-{year + 1}" in EXAM_YEARS else EXAM_YEARS[-1]
        buf = io.StringIO()
        w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
        w.writerow(header_out)
        for (code, otype), years in sorted(per_type.items()):
            total, man, vrouw = years[exam_year]
            lengths = PROGRAMME_YEARS[otype]
            pupils = total * lengths
            if pupils == 0:
                continue
            naam, gem = info[code]
            share_man = man / (man + vrouw) if man + vrouw else 0.5
            counts = []
            for j in range(1, 7):
                n = pupils // lengths + (1 if j <= pupils % lengths else 0) if j <= lengths else 0
                m = round(n * share_man)
                counts += [m, n - m]
            # DUO's older files write the location number without the BRIN and without zero padding.
            w.writerow([code[:4], str(int(code[4:])), naam, names[gem], gem.lstrip("0"), names[gem], PROVINCIE[gem],
                        f"{otype} lj 1-{lengths}", f"{otype} (synthetisch)"] + [str(c) for c in counts])
        name = f"01.-leerlingen-vo-per-vestiging-naar-onderwijstype-{year}.csv"
        (out / name).write_bytes(buf.getvalue().encode("cp1252"))
        written.append(name)
    return written


def swv_files(duo: Path, out: Path, kept: dict[str, str]) -> None:
    soort: dict[str, str] = {}
    naam: dict[str, str] = {}
    _, rows = _lines(duo / PUPIL_FILE)
    for line in rows:
        f = _fields(line, "utf-8")
        # Locations with pupils in a demo school year (the counts of 1 October 2022-2024) or in the latest
        # count: a school that closed after 2024-2025 still belonged to its SWV in the years shown.
        if f[1] in kept and max(_count(x) for x in f[-4:]) > 0:
            soort[f[1]], naam[f[1]] = f[3], f[2]
    _, rows = _lines(duo / EXAM_FILE)
    for line in rows:
        f = _fields(line, "utf-8")
        if f[1] in kept and f[1] not in soort:
            soort[f[1]], naam[f[1]] = "VO", f[2]
    # PO file: DUO's newer column names, administratienummer written PO-26-07.
    po = io.StringIO()
    w = csv.writer(po, delimiter=";", lineterminator="\r\n")
    w.writerow(["ADMINISTRATIENUMMER", "SAMENWERKINGSVERBAND PASSEND ONDERWIJS PO", "INSTELLINGSCODE", "VESTIGINGSCODE",
                "VESTIGINGSNAAM"])
    for code in sorted(soort):
        if soort[code] in ("BO", "SBO", "SO", "SO/VSO"):
            number, stem = SWV[kept[code]]
            w.writerow([f"PO-{number}", f"SWV PO {stem} (synthetisch)", code[:4], code, naam[code]])
    (out / "swv-po-vestigingen.csv").write_bytes(po.getvalue().encode("utf-8"))
    # VO file: older column names (BRIN NUMMER + unpadded VESTIGINGSNUMMER), administratienummer VO2607.
    vo = io.StringIO()
    w = csv.writer(vo, delimiter=";", lineterminator="\r\n")
    w.writerow(["ADMINISTRATIENUMMER", "SAMENWERKINGSVERBAND PASSEND ONDERWIJS VO", "BRIN NUMMER", "VESTIGINGSNUMMER",
                "VESTIGINGSNAAM"])
    for code in sorted(soort):
        if soort[code] in ("VO", "VSO", "SO/VSO"):
            number, stem = SWV[kept[code]]
            w.writerow([f"VO{number.replace('-', '')}", f"SWV VO {stem} (synthetisch)", code[:4], str(int(code[4:])),
                        naam[code]])
    (out / "swv-vo-vestigingen.csv").write_bytes(b"\xef\xbb\xbf" + vo.getvalue().encode("utf-8"))


def gemeenten_csv(duo: Path, dst: Path) -> int:
    """Every gemeentecode with every spelling DUO uses for it (06 first: it has the accented names)."""
    pairs: dict[tuple[str, str], None] = {}
    _, rows = _lines(duo / PUPIL_FILE)
    for line in rows:
        f = _fields(line, "utf-8")
        if f[6] != "9999":
            pairs.setdefault((f[6].zfill(4), f[7].strip()), None)
    _, rows = _lines(duo / BO_FILE)
    for line in rows:
        f = _fields(line, "cp1252")
        if f[10].strip():
            pairs.setdefault((f[9].zfill(4), f[10].strip()), None)
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\n")
    w.writerow(["code", "naam"])
    first_seen = list(pairs)
    for code, name in sorted(first_seen, key=lambda p: (p[0], first_seen.index(p))):
        w.writerow([code, name])
    dst.write_text(buf.getvalue(), encoding="utf-8", newline="")
    return len({c for c, _ in pairs})


@click.command()
@click.argument("duo_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=HERE)
@click.option("--gemeenten", "gemeenten_path", type=click.Path(dir_okay=False, path_type=Path),
              default=HERE.parent / "gemeenten.csv")
def main(duo_dir: Path, out_dir: Path, gemeenten_path: Path) -> None:
    """Schrijf de demo-referentiebestanden uit de volledige DUO-bestanden in DUO_DIR."""
    for name in (BO_FILE, PUPIL_FILE, EXAM_FILE):
        if not (duo_dir / name).is_file():
            click.echo(f"Fout: {duo_dir / name} ontbreekt.", err=True)
            sys.exit(2)
    out_dir.mkdir(parents=True, exist_ok=True)
    kept = select(duo_dir)
    keep = set(kept)
    click.echo(f"{BO_FILE}: {cut(duo_dir / BO_FILE, out_dir / BO_FILE, 'cp1252', 3, keep)} regels")
    click.echo(f"{PUPIL_FILE}: {cut(duo_dir / PUPIL_FILE, out_dir / PUPIL_FILE, 'utf-8', 1, keep)} regels")
    click.echo(f"{EXAM_FILE}: {cut(duo_dir / EXAM_FILE, out_dir / EXAM_FILE, 'utf-8', 1, keep)} regels")
    for name in vo_pupil_files(duo_dir, out_dir, kept):
        click.echo(f"{name}: synthetisch")
    swv_files(duo_dir, out_dir, kept)
    click.echo("swv-po-vestigingen.csv, swv-vo-vestigingen.csv: synthetisch")
    n = gemeenten_csv(duo_dir, gemeenten_path)
    click.echo(f"{gemeenten_path.name}: {n} gemeenten")


if __name__ == "__main__":
    main()

"""Reference implementation for the agent benchmark: the partial's cells straight from the CSV files in DuckDB SQL.

No validation, no pseudonymisation (raw BSN joins): it states the data dictionary's definitions as SQL, the way an
analyst with a database would compute them, so ``node-agent run`` can be timed against it and its cells checked.
It reads the clean, dictionary-named extracts of :func:`node_agent.synthetic.large.generate_large_municipality`.

Run: ``python bench/agent/reference_duckdb.py DATA_DIR --school-year 2024-2025 [...]``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import duckdb

from shared.codes import AGE_BANDS, CLIENT_ZORGTYPES, DEFAULT_PRODUCTCATEGORIE
from shared.groupings import DEFAULT_GROUPINGS

CellKey = tuple[str, str, str, str]


def _years_sql(schooljaren: list[str]) -> str:
    rows = []
    for sj in schooljaren:
        first = int(sj[:4])
        rows.append(f"('{sj}', DATE '{first}-08-01', DATE '{first + 1}-07-31')")
    return "SELECT * FROM (VALUES " + ", ".join(rows) + ") AS t(sj, ys, ye)"


def _band_sql(age: str) -> str:
    whens = " ".join(f"WHEN {age} BETWEEN {low} AND {high} THEN '{label}'" for label, low, high in AGE_BANDS)
    return f"CASE {whens} END"


def compute(data_dir: Path, schooljaren: list[str], threads: int | None = None,
            memory_limit: str | None = None) -> tuple[dict[CellKey, int], dict[CellKey, tuple[int, int, int, int, int, int]]]:
    """(count cells {key: value}, cost cells {key: (value, contributors, top1, top2 of |amount|, negatives, abs_sum)})."""
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    d = Path(data_dir)
    zt_rows = ", ".join(f"('{cat}', '{zt}')" for cat, zt in DEFAULT_PRODUCTCATEGORIE.items())
    clients = ", ".join(f"'{z}'" for z in CLIENT_ZORGTYPES)
    con.execute(f"CREATE TEMP TABLE zt AS SELECT * FROM (VALUES {zt_rows}) AS t(cat, zorgtype)")
    con.execute(f"CREATE TEMP TABLE y AS {_years_sql(schooljaren)}")
    # care intensity: the default grouping's groups of two or more care types (a group of one has no cell)
    intensity = DEFAULT_GROUPINGS.zorgintensiteit
    counted = set(intensity.counted_codes())
    group_rows = ", ".join(f"('{zt}', '{g}')" for zt, g in intensity.group_of().items() if g in counted)
    con.execute(f"CREATE TEMP TABLE zi AS SELECT * FROM (VALUES {group_rows}) AS t(zorgtype, grp)")
    # enrolment on the peildatum; the school year is the one the peildatum falls in
    con.execute(f"""
        CREATE TEMP TABLE l AS
        SELECT bsn,
               CASE WHEN coalesce(vestigingscode, '') = '' THEN 'GEEN' ELSE vestigingscode END AS v,
               y.sj
        FROM read_csv('{d / "leerlingen.csv"}', header = true, all_varchar = true) r
        JOIN y ON CAST(r.peildatum AS DATE) BETWEEN y.ys AND y.ye
    """)
    con.execute(f"""
        CREATE TEMP TABLE j AS
        SELECT r.bsn, r.toewijzingnummer AS nr, zt.zorgtype, zt.zorgtype IN ({clients}) AS is_client,
               CASE WHEN coalesce(r.verwijzer, '') = '' THEN 'onbekend' ELSE r.verwijzer END AS verwijzer,
               r.aanbieder_agb AS agb, CAST(r.geboortedatum AS DATE) AS birth,
               CAST(r.ingangsdatum AS DATE) AS s,
               coalesce(CAST(nullif(r.einddatum, '') AS DATE), DATE '9999-12-31') AS e
        FROM read_csv('{d / "jeugdhulp.csv"}', header = true, all_varchar = true) r
        JOIN zt ON zt.cat = coalesce(r.productcategorie, '')
        WHERE coalesce(r.reden_wijziging, '') <> '13'
    """)
    # allocations overlapping a school year, placed at the child's school in that year
    con.execute("""
        CREATE TEMP TABLE a AS
        SELECT l.v, y.sj, j.* FROM j
        JOIN y ON j.s <= y.ye AND j.e >= y.ys
        JOIN l ON l.bsn = j.bsn AND l.sj = y.sj
    """)
    counts: dict[CellKey, int] = {}

    def add(measure: str, sql: str) -> None:
        for v, sj, cat, n in con.execute(sql).fetchall():
            counts[(v, sj, measure, cat)] = int(n)

    always = "SELECT DISTINCT v, sj FROM l"
    add("leerlingen", "SELECT v, sj, '', count(*) FROM l GROUP BY v, sj")
    for measure, cond in (("clienten", "is_client"), ("jeugdbescherming", "zorgtype = 'jeugdbescherming'"),
                          ("jeugdreclassering", "zorgtype = 'jeugdreclassering'")):
        add(measure, f"""
            SELECT p.v, p.sj, '', coalesce(n, 0) FROM ({always}) p
            LEFT JOIN (SELECT v, sj, count(DISTINCT bsn) n FROM a WHERE {cond} GROUP BY v, sj) c USING (v, sj)
        """)
    add("clienten_zorgtype", "SELECT v, sj, zorgtype, count(DISTINCT bsn) FROM a WHERE is_client GROUP BY ALL")
    add("clienten_aanbieder", "SELECT v, sj, agb, count(DISTINCT bsn) FROM a WHERE is_client GROUP BY ALL")
    add("clienten_zorgintensiteit",
        "SELECT v, sj, zi.grp, count(DISTINCT bsn) FROM a JOIN zi USING (zorgtype) WHERE is_client GROUP BY ALL")

    # new clients: the first client allocation starting in the year (ties: lowest toewijzingnummer) with no client
    # allocation that started earlier still active in the 365 days before it
    con.execute(f"""
        CREATE TEMP TABLE starts AS
        WITH c AS (
            SELECT bsn, nr, s, e, verwijzer, birth,
                   max(e) OVER (PARTITION BY bsn ORDER BY s
                                RANGE BETWEEN UNBOUNDED PRECEDING AND INTERVAL 1 DAY PRECEDING) AS prev_e
            FROM j WHERE is_client
        ),
        first_in_year AS (
            SELECT a.v, a.sj, arg_min(c.nr, (c.s, c.nr)) AS nr
            FROM a JOIN y USING (sj) JOIN c ON c.nr = a.nr
            WHERE a.is_client AND a.s BETWEEN y.ys AND y.ye
            GROUP BY a.v, a.sj, a.bsn
        )
        SELECT f.v, f.sj, c.verwijzer,
               {_band_sql("(year(c.s) - year(c.birth) - CASE WHEN (month(c.s), day(c.s)) < (month(c.birth), day(c.birth)) THEN 1 ELSE 0 END)")} AS band
        FROM first_in_year f JOIN c USING (nr)
        WHERE c.prev_e IS NULL OR c.prev_e < c.s - INTERVAL 365 DAY
    """)
    add("nieuwe_clienten", f"""
        SELECT p.v, p.sj, '', coalesce(n, 0) FROM ({always}) p
        LEFT JOIN (SELECT v, sj, count(*) n FROM starts GROUP BY v, sj) c USING (v, sj)
    """)
    add("nieuwe_clienten_verwijzer", "SELECT v, sj, verwijzer, count(*) FROM starts GROUP BY ALL")
    add("nieuwe_clienten_leeftijd", "SELECT v, sj, band, count(*) FROM starts GROUP BY ALL")

    # costs: a claim line belongs to the school year of periode_begin and the child's school in that year
    costs: dict[CellKey, tuple[int, int, int, int, int, int]] = {}
    if (d / "declaraties.csv").exists():
        rows = con.execute(f"""
            WITH lines AS (
                SELECT j.bsn, j.zorgtype, y.sj,
                       CAST(r.bedrag_eurocent AS BIGINT) * CASE WHEN r.debet_credit = 'C' THEN -1 ELSE 1 END AS amount
                FROM read_csv('{d / "declaraties.csv"}', header = true, all_varchar = true) r
                JOIN j ON j.nr = r.toewijzingnummer
                JOIN y ON CAST(r.periode_begin AS DATE) BETWEEN y.ys AND y.ye
            ),
            per_child AS (
                SELECT l.v, lines.sj, lines.zorgtype AS cat, lines.bsn, sum(amount) AS amount
                FROM lines JOIN l ON l.bsn = lines.bsn AND l.sj = lines.sj
                GROUP BY ALL
            ),
            with_total AS (
                SELECT * FROM per_child
                UNION ALL
                SELECT v, sj, 'totaal', bsn, sum(amount) FROM per_child GROUP BY v, sj, bsn
            ),
            ranked AS (
                SELECT *, row_number() OVER (PARTITION BY v, sj, cat ORDER BY abs(amount) DESC) AS rk FROM with_total
            )
            SELECT v, sj, cat, sum(amount),
                   count(*) FILTER (WHERE amount <> 0),
                   coalesce(max(abs(amount)) FILTER (WHERE rk = 1 AND amount <> 0), 0),
                   coalesce(max(abs(amount)) FILTER (WHERE rk = 2 AND amount <> 0), 0),
                   count(*) FILTER (WHERE amount < 0),
                   sum(abs(amount))
            FROM ranked GROUP BY v, sj, cat
            HAVING count(*) FILTER (WHERE amount <> 0) > 0
        """).fetchall()
        for v, sj, cat, value, n, top1, top2, neg, abs_sum in rows:
            costs[(v, sj, "kosten", cat)] = (int(value), int(n), int(top1), int(top2), int(neg), int(abs_sum))
    con.close()
    return counts, costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--school-year", dest="schooljaren", action="append", required=True)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    t0 = time.perf_counter()
    counts, costs = compute(args.data_dir, args.schooljaren, args.threads)
    print(f"{len(counts)} count cells, {len(costs)} cost cells in {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()

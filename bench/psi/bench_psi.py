"""PSI-CA benchmark: one SWV against five municipalities through shared/psi.py, beside a bare loop of
the same scalar multiplications on pre-hashed points.

Run: ``python bench/psi/bench_psi.py [--repeat 3] [--pupils 10000] [--clients 2000] [--municipalities 5]``.

Synthetic region (seeded): the SWV has ``--pupils`` pupils over 40 schools; each pupil lives in one of
the municipalities (85 % in the municipality of the school), and 14 % of pupils are youth-care clients
of the municipality they live in. Each municipality has ``--clients`` clients: those pupils, 20 who
joined an SWV school after the SWV's peildatum (not in its set), and the rest at 30 schools outside
the SWV. Per municipality one exchange, in the order docs/overlap.md gives: the municipality blinds its
sets at the SWV's schools (public reference data), the SWV blinds its sets at the schools the
municipality sent (``--all-schools``: both send every school they have), the sets go through canonical
bytes (as through the hub), each side re-blinds the other's, the hub checks the four payloads and
counts. The counts are checked against a direct intersection of the plain sets.

The bare loop multiplies, per exchange, every pseudonym the two sides actually send twice
(``crypto_scalarmult_ed25519_noclamp``, the same call ``blind`` and ``reblind`` make), on points
hashed beforehand: what the protocol cannot do without. Medians of ``--repeat`` runs each, alternating;
wall time and the process's CPU time (the latter hardly moved by other load on the machine).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

import nacl.bindings as sodium

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))

from shared import psi  # noqa: E402

SWV_CODE = "PO2701"
SWV_SCHOOLS = 40
OTHER_SCHOOLS = 30
HOME_SHARE = 0.85
CLIENT_SHARE = 0.14
LATE_ENROLMENTS = 20


def make_region(pupils: int, clients: int, municipalities: int, seed: int):
    """The SWV's sets and each municipality's, per school: 32-byte pseudonyms (random stand-ins)."""
    rng = random.Random(seed)
    gemeenten = [f"{356 + 10 * i:04d}" for i in range(municipalities)]
    schools = [f"{i:02d}SW00" for i in range(SWV_SCHOOLS)]
    weights = [rng.uniform(0.4, 1.6) for _ in schools]
    swv: dict[str, list[bytes]] = {code: [] for code in schools}
    sets: dict[str, dict[str, list[bytes]]] = {g: {} for g in gemeenten}
    for _ in range(pupils):
        school = rng.choices(range(SWV_SCHOOLS), weights)[0]
        pseudonym = rng.randbytes(32)
        swv[schools[school]].append(pseudonym)
        home = gemeenten[school * municipalities // SWV_SCHOOLS]
        lives = home if rng.random() < HOME_SHARE else rng.choice(gemeenten)
        if rng.random() < CLIENT_SHARE:
            sets[lives].setdefault(schools[school], []).append(pseudonym)
    for m, g in enumerate(gemeenten):
        for _ in range(LATE_ENROLMENTS):
            sets[g].setdefault(rng.choice(schools), []).append(rng.randbytes(32))
        rest = clients - sum(len(v) for v in sets[g].values())
        for _ in range(max(rest, 0)):
            sets[g].setdefault(f"{m:02d}OT{rng.randrange(OTHER_SCHOOLS):02d}", []).append(rng.randbytes(32))
    return swv, sets


def exchange_of(round_id: int, gemeente: str) -> psi.Exchange:
    return psi.Exchange("Regio Bench", round_id, f"r{round_id}-{SWV_CODE}-{gemeente}", SWV_CODE, gemeente)


def direct_counts(swv, gemeente, minimum):
    return {code: len(set(swv[code]) & set(gemeente[code])) for code in swv.keys() & gemeente.keys()
            if len(set(swv[code])) >= minimum and len(set(gemeente[code])) >= minimum}


def scoped(swv, region, all_schools):
    """Per municipality the two sides' sets as the exchange order sends them (module docstring)."""
    out = {}
    for gemeente, sets in region.items():
        if all_schools:
            out[gemeente] = (swv, sets)
            continue
        theirs = {code: members for code, members in sets.items() if code in swv}
        sent = {code for code, members in theirs.items() if len(set(members)) >= psi.DEFAULT_MIN_SET_SIZE}
        out[gemeente] = ({code: members for code, members in swv.items() if code in sent}, theirs)
    return out


def run_protocol(pairs, round_id):
    """Every exchange of the round once; wall seconds per phase, the counts and the points sent."""
    phases = {"blind": 0.0, "transport": 0.0, "reblind": 0.0, "count": 0.0}
    counts, sent = {}, 0

    def timed(phase, fn, *args, **kw):
        t0 = time.perf_counter()
        out = fn(*args, **kw)
        phases[phase] += time.perf_counter() - t0
        return out

    def transport(payload):
        return psi.decode_sets(psi.encode_sets(payload))

    for gemeente, (swv, sets) in pairs.items():
        ex = exchange_of(round_id, gemeente)
        swv_state, gemeente_state = psi.new_state(ex, ex.swv), psi.new_state(ex, ex.gemeente)
        gemeente_set = timed("transport", transport, timed("blind", psi.blind, gemeente_state, sets).payload)
        swv_set = timed("transport", transport, timed("blind", psi.blind, swv_state, swv).payload)
        swv_double, _ = timed("reblind", psi.reblind, gemeente_state, swv_set)
        gemeente_double, _ = timed("reblind", psi.reblind, swv_state, gemeente_set)
        swv_double, gemeente_double = timed("transport", transport, swv_double), timed("transport", transport, gemeente_double)
        counts[gemeente] = timed("count", psi.count_exchange, ex, swv_set=swv_set, gemeente_set=gemeente_set,
                                 swv_set_double=swv_double, gemeente_set_double=gemeente_double)
        sent += sum(swv_set.sizes().values()) + sum(gemeente_set.sizes().values())
    return phases, counts, sent


def prehash(pairs, round_id, minimum):
    """The points the bare loop multiplies: every pseudonym sent (schools at the minimum or above)."""
    out = {}
    for gemeente, (swv, sets) in pairs.items():
        ex = exchange_of(round_id, gemeente)
        out[gemeente] = [psi.hash_to_group(ex, code, p) for side in (swv, sets) for code, members in side.items()
                         if len(set(members)) >= minimum for p in set(members)]
    return out


def run_bare(points):
    mul = sodium.crypto_scalarmult_ed25519_noclamp
    t0, c0 = time.perf_counter(), time.process_time()
    for exchange_points in points.values():
        a = sodium.crypto_core_ed25519_scalar_reduce(random.randbytes(64))
        b = sodium.crypto_core_ed25519_scalar_reduce(random.randbytes(64))
        for p in exchange_points:
            mul(b, mul(a, p))
    return time.perf_counter() - t0, time.process_time() - c0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--pupils", type=int, default=10_000)
    ap.add_argument("--clients", type=int, default=2_000)
    ap.add_argument("--municipalities", type=int, default=5)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--all-schools", action="store_true", help="both sides send every school they have")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)

    minimum = psi.DEFAULT_MIN_SET_SIZE
    swv, region = make_region(args.pupils, args.clients, args.municipalities, args.seed)
    pairs = scoped(swv, region, args.all_schools)
    expected = {g: direct_counts(swv, sets, minimum) for g, sets in region.items()}
    t0 = time.perf_counter()
    points = prehash(pairs, 1, minimum)
    prehash_s = time.perf_counter() - t0
    real = sum(len(p) for p in points.values())
    clients = {g: sum(len(v) for v in sets.values()) for g, sets in region.items()}
    at_swv = {g: sum(len(v) for code, v in sets.items() if code in swv) for g, sets in region.items()}
    print(f"SWV: {sum(len(v) for v in swv.values()):,} pupils at {len(swv)} schools; municipalities "
          + ", ".join(f"{g}: {clients[g]:,} clients ({at_swv[g]} at SWV schools)" for g in region))
    print("matches per municipality (direct intersection, schools with both sets >= "
          f"{minimum}): " + ", ".join(f"{g} {sum(c.values())}" for g, c in expected.items()))

    runs, cpu, bare, bare_cpu = [], [], [], []
    for _ in range(args.repeat):
        c0 = time.process_time()
        phases, counts, sent = run_protocol(pairs, 1)
        cpu.append(time.process_time() - c0)
        if counts != expected:
            print("COUNTS DIFFER from the direct intersection", file=sys.stderr)
            return 1
        runs.append(phases)
        wall, used = run_bare(points)
        bare.append(wall)
        bare_cpu.append(used)
    total, total_cpu = statistics.median(sum(p.values()) for p in runs), statistics.median(cpu)
    bare_s, bare_cpu_s = statistics.median(bare), statistics.median(bare_cpu)
    phase_medians = {k: statistics.median(p[k] for p in runs) for k in runs[0]}
    scope = "every school of both sides" if args.all_schools else "schools both sides have"
    print(f"points sent per round ({scope}): {sent:,} ({real:,} pseudonyms + {sent - real:,} padding); "
          f"{2 * real:,} multiplications in the bare loop; pre-hashing for it: {prehash_s:.2f} s")
    print("protocol phases (median wall s): " + ", ".join(f"{k} {v:.2f}" for k, v in phase_medians.items()))
    print(f"whole exchange, {args.municipalities} municipalities: {total:.2f} s wall, {total_cpu:.2f} s CPU "
          f"(median of {args.repeat})")
    print(f"bare loop, 2 scalar multiplications per pseudonym sent: {bare_s:.2f} s wall, {bare_cpu_s:.2f} s CPU "
          f"(median of {args.repeat})")
    print(f"ratio: {total / bare_s:.2f}x wall, {total_cpu / bare_cpu_s:.2f}x CPU; "
          "counts equal the direct intersection: yes")
    print(f"per operation: scalar multiplication {bare_cpu_s / (2 * real) * 1e6:.0f} us CPU, "
          f"hash to group {prehash_s / real * 1e6:.0f} us wall")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "protocol_s": total, "protocol_cpu_s": total_cpu, "bare_s": bare_s, "bare_cpu_s": bare_cpu_s,
            "ratio": total / bare_s, "phases_s": phase_medians, "points_sent": sent, "pseudonyms": real,
            "prehash_s": prehash_s, "all_schools": args.all_schools, "runs": runs, "bare_runs": bare,
        }, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

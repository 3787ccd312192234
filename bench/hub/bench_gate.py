"""Benchmark of the disclosure gate at national scale (issue 3, "Speed"), against a bare pandas group-by.

Simulates 342 municipality contribution frames over ~8,000 school locations and 2 school years
(pupils at 20–60 locations per municipality, ~10 % clients, providers, costs), then times
``combine_cells`` + ``apply_gate`` + ``release_bytes``, a bare ``groupby().sum()`` of the same cells,
and a late submission (one municipality changes) re-gated with the audit cache and the first release
as history. Run: ``python bench/hub/bench_gate.py [--municipalities 342] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import psutil

from hub.disclosure import AuditCache, GateConfig, apply_gate, combine_cells, release_bytes
from hub.disclosure.frames import CONTRIBUTION_COLUMNS, CONTRIBUTION_INTS
from shared.codes import AGE_BANDS, CLIENT_ZORGTYPES, VERWIJZERS

YEARS = ("2023-2024", "2024-2025")
TYPES = (("BO", 0.74), ("SBO", 0.03), ("SO", 0.025), ("VSO", 0.025), ("VO", 0.17), ("PRO", 0.01))
ZORG_P = dict(zip(CLIENT_ZORGTYPES, (0.40, 0.35, 0.08, 0.25, 0.03, 0.01, 0.02, 0.01, 0.05, 0.02)))
EXTRA_COST = {"vervoer": 0.03}
VERWIJZER_P = np.array([0.45, 0.2, 0.08, 0.07, 0.05, 0.05, 0.02, 0.08])
AGE_P = np.array([0.02, 0.10, 0.25, 0.28, 0.22, 0.11, 0.02])
MEAN_COST = {"verblijf": 6_000_000, "crisis": 2_000_000, "jeugd-ggz": 600_000, "daghulp": 900_000}


@dataclass
class Region:
    contributions: pd.DataFrame
    schools: pd.DataFrame


def _codes(n: int, rng: np.random.Generator) -> list[str]:
    letters = [chr(65 + i) + chr(65 + j) for i in range(26) for j in range(26)]
    picks = rng.choice(100 * len(letters), size=n, replace=False)
    return sorted(f"{p % 100:02d}{letters[p // 100]}00" for p in picks)


def simulate(municipalities: int = 342, locations: int = 8000, seed: int = 20241001) -> Region:
    """Synthetic contribution frames for a country-sized round (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    codes = np.array(_codes(locations, rng), dtype=object)
    types = rng.choice([t for t, _ in TYPES], p=np.array([p for _, p in TYPES]) / sum(p for _, p in TYPES), size=locations)
    schools = pd.DataFrame({"vestigingscode": codes, "schooltype": types})
    home = np.sort(rng.integers(0, municipalities, size=locations))
    nodes = [f"{i + 1:04d}" for i in range(municipalities)]
    pools = [rng.choice(3000, size=25, replace=False) + 0 for _ in range(municipalities)]
    pairs_m, pairs_l, pupils = [], [], []
    for m in range(municipalities):
        own = np.flatnonzero(home == m)
        near = np.flatnonzero((np.abs(home - m) <= 3) & (home != m))
        k = int(rng.integers(20, 61))
        foreign = rng.choice(near, size=min(len(near), max(0, k - len(own))), replace=False) if len(near) else near
        locs = np.concatenate([own, foreign])
        pairs_m.append(np.full(len(locs), m))
        pairs_l.append(locs)
        pupils.append(np.concatenate([rng.lognormal(5.2, 0.6, len(own)), rng.lognormal(2.5, 1.0, len(foreign))]).astype(int) + 1)
    pm, pl, pp = np.concatenate(pairs_m), np.concatenate(pairs_l), np.concatenate(pupils)
    frames = []
    for year_i, year in enumerate(YEARS):
        yr = np.random.default_rng(seed + 1 + year_i)
        p = np.maximum(1, (pp * yr.uniform(0.95, 1.05, len(pp))).astype(int))
        clients = yr.binomial(p, 0.10)
        new = yr.binomial(clients, 0.4)
        rows = {c: [] for c in ("node", "loc", "measure", "category", "value", "contributors", "top1", "top2", "negatives",
                                "abs_sum")}

        def emit(measure, category, value, contributors=None, top1=None, top2=None, neg=None, abs_sum=None, mask=None):
            keep = value > 0 if mask is None else mask
            n = int(keep.sum())
            rows["node"].append(pm[keep])
            rows["loc"].append(pl[keep])
            rows["measure"].append(np.full(n, measure, dtype=object))
            rows["category"].append(np.full(n, category, dtype=object))
            rows["value"].append(value[keep])
            rows["contributors"].append((value if contributors is None else contributors)[keep])
            z = np.zeros(n, dtype=np.int64)
            rows["top1"].append(z if top1 is None else top1[keep])
            rows["top2"].append(z if top2 is None else top2[keep])
            rows["negatives"].append(z if neg is None else neg[keep])
            rows["abs_sum"].append(z if abs_sum is None else abs_sum[keep])

        emit("leerlingen", "", p)
        emit("clienten", "", clients)
        emit("nieuwe_clienten", "", new)
        emit("jeugdbescherming", "", yr.binomial(p, 0.004))
        emit("jeugdreclassering", "", yr.binomial(p, 0.002))
        cost_counts = {}
        for z, pz in {**ZORG_P, **EXTRA_COST}.items():
            k = yr.binomial(clients, pz)
            cost_counts[z] = k
            if z in ZORG_P:
                emit("clienten_zorgtype", z, k)
        rest = new.copy()
        left = 1.0
        for i, code in enumerate(VERWIJZERS):
            share = VERWIJZER_P[i] / left if left > 0 else 1.0
            k = yr.binomial(rest, min(1.0, share))
            emit("nieuwe_clienten_verwijzer", code, k)
            rest, left = rest - k, left - VERWIJZER_P[i]
        rest = new.copy()
        left = 1.0
        for i, (band, _, _) in enumerate(AGE_BANDS):
            k = yr.binomial(rest, min(1.0, AGE_P[i] / left if left > 0 else 1.0))
            emit("nieuwe_clienten_leeftijd", band, k)
            rest, left = rest - k, left - AGE_P[i]
        # Providers: each municipality contracts ~25; a client goes to one of them.
        prov = np.stack([pools[m] for m in pm])
        weights = yr.dirichlet(np.ones(25) * 0.6, size=len(pm))
        counts = np.array([yr.multinomial(c, w) for c, w in zip(clients, weights)])
        for j in range(25):
            k = counts[:, j]
            keep = k > 0
            n = int(keep.sum())
            rows["node"].append(pm[keep])
            rows["loc"].append(pl[keep])
            rows["measure"].append(np.full(n, "clienten_aanbieder", dtype=object))
            rows["category"].append(np.array([f"{a:08d}" for a in 10_000_000 + prov[keep, j]], dtype=object))
            for c, v in (("value", k[keep]), ("contributors", k[keep]), ("top1", np.zeros(n, np.int64)),
                         ("top2", np.zeros(n, np.int64)), ("negatives", np.zeros(n, np.int64)),
                         ("abs_sum", np.zeros(n, np.int64))):
                rows[c].append(v)
        # Costs per care type: per-child amounts drawn, then sum / top two of |amount| / negatives / sum of
        # |amount| per pair (``totaal`` pools the care types' children, as if each were another child).
        tot_v = np.zeros(len(pm), np.int64)
        tot_t1 = np.zeros(len(pm), np.int64)
        tot_t2 = np.zeros(len(pm), np.int64)
        tot_abs = np.zeros(len(pm), np.int64)
        tot_neg = np.zeros(len(pm), np.int64)
        for z, k in list(cost_counts.items()) + [("jeugdbescherming", yr.binomial(p, 0.004)), ("jeugdreclassering", yr.binomial(p, 0.002))]:
            owner = np.repeat(np.arange(len(pm)), k)
            amount = (yr.lognormal(0, 0.9, len(owner)) * MEAN_COST.get(z, 250_000)).astype(np.int64)
            negative = yr.random(len(owner)) < 0.002
            amount[negative] = -amount[negative] // 10
            value = np.bincount(owner, weights=amount, minlength=len(pm)).astype(np.int64)
            size = np.abs(amount)
            abs_sum = np.bincount(owner, weights=size, minlength=len(pm)).astype(np.int64)
            order = np.lexsort((-size, owner))
            o, a = owner[order], size[order]
            first = np.r_[True, o[1:] != o[:-1]]
            t1 = np.zeros(len(pm), np.int64)
            t1[o[first]] = a[first]
            second = np.r_[False, first[:-1]] & ~first
            t2 = np.zeros(len(pm), np.int64)
            t2[o[second]] = a[second]
            neg = np.bincount(owner, weights=negative, minlength=len(pm)).astype(np.int64)
            emit("kosten", z, value, contributors=k, top1=t1, top2=t2, neg=neg, abs_sum=abs_sum, mask=k > 0)
            tot_v += value
            tot_abs += abs_sum
            tot_neg += neg
            top = np.sort(np.stack([tot_t1, tot_t2, t1, t2]), axis=0)
            tot_t1, tot_t2 = top[-1], top[-2]
        emit("kosten", "totaal", tot_v, contributors=clients, top1=tot_t1, top2=tot_t2, neg=tot_neg, abs_sum=tot_abs,
             mask=clients > 0)
        frame = pd.DataFrame({c: np.concatenate(v) for c, v in rows.items()})
        frame["node"] = np.array(nodes, dtype=object)[frame["node"].to_numpy()]
        frame["vestigingscode"] = codes[frame.pop("loc").to_numpy()]
        frame["schooljaar"] = year
        frames.append(frame)
    contributions = pd.concat(frames, ignore_index=True)
    contributions["legacy_negatives"] = 0  # every node sends absolute amounts (partial schema 2)
    contributions = contributions[CONTRIBUTION_COLUMNS]
    for c in CONTRIBUTION_INTS:
        contributions[c] = contributions[c].astype("int64")
    return Region(contributions=contributions, schools=schools)


class PeakRSS:
    """Samples the process's resident set size in a thread; ``peak`` in bytes."""

    def __init__(self, interval: float = 0.02):
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._proc = psutil.Process()

    def __enter__(self):
        self.base = self._proc.memory_info().rss
        self.peak = self.base
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self._proc.memory_info().rss)
            time.sleep(self.interval)

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, self._proc.memory_info().rss)


def gate_pipeline(region: Region, config: GateConfig, history=(), cache=None):
    combined = combine_cells(region.contributions, region.schools)
    result = apply_gate(combined, config, history=history, cache=cache)
    data = release_bytes(result.release)
    return combined, result, data


def bare_groupby(region: Region) -> pd.DataFrame:
    return region.contributions.groupby(["vestigingscode", "schooljaar", "measure", "category"], sort=False)[
        ["value", "contributors"]].sum()


def late_submission(region: Region, seed: int = 7) -> Region:
    """One municipality re-submits: two more clients at one of its locations (and a new-client change)."""
    c = region.contributions.copy()
    node = sorted(c["node"].unique())[len(c["node"].unique()) // 2]
    rows = c.index[(c["node"] == node) & (c["measure"] == "clienten") & (c["schooljaar"] == YEARS[-1])]
    c.loc[rows[0], ["value", "contributors"]] += 2
    return Region(contributions=c, schools=region.schools)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--municipalities", type=int, default=342)
    ap.add_argument("--locations", type=int, default=8000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--combine-only", action="store_true", help="time combine_cells against the bare group-by only")
    args = ap.parse_args()
    config = GateConfig()
    t0 = time.perf_counter()
    region = simulate(args.municipalities, args.locations)
    print(f"simulated {len(region.contributions):,} contribution rows from {args.municipalities} municipalities, "
          f"{region.contributions['vestigingscode'].nunique():,} locations, {len(YEARS)} school years "
          f"in {time.perf_counter() - t0:.1f}s")
    if args.combine_only:
        comb, bare, peaks = [], [], []
        for _ in range(args.repeat):
            t = time.perf_counter()
            bare_groupby(region)
            bare.append(time.perf_counter() - t)
            with PeakRSS() as mem:
                t = time.perf_counter()
                combined = combine_cells(region.contributions, region.schools)
                comb.append(time.perf_counter() - t)
            peaks.append(mem.peak - mem.base)
        c, b = statistics.median(comb), statistics.median(bare)
        print(f"combine_cells: {len(combined):,} combined cells, median {c:.2f}s, peak RSS +{statistics.median(peaks) / 2**20:.0f} MiB")
        print(f"bare pandas groupby-sum: median {b:.3f}s; ratio combine/bare = {c / b:.1f}x")
        return
    gate_times, bare_times, peaks = [], [], []
    result = combined = None
    for _ in range(args.repeat):
        t = time.perf_counter()
        bare_groupby(region)
        bare_times.append(time.perf_counter() - t)
        with PeakRSS() as mem:
            t = time.perf_counter()
            combined, result, data = gate_pipeline(region, config)
            gate_times.append(time.perf_counter() - t)
        peaks.append(mem.peak - mem.base)
    g, b = statistics.median(gate_times), statistics.median(bare_times)
    rel = result.release
    print(f"cells {len(rel):,}; published {int((rel['status'] == 'published').sum()):,}; audit {result.audit}")
    print(f"gate (combine+apply_gate+release_bytes): median {g:.2f}s over {args.repeat} runs; peak RSS +{statistics.median(peaks) / 2**20:.0f} MiB")
    print(f"bare pandas groupby-sum: median {b:.3f}s; ratio gate/bare = {g / b:.0f}x")
    # Late submission: warm cache from a first full run, history = the first release.
    cache = AuditCache()
    t = time.perf_counter()
    combined1, result1, _ = gate_pipeline(region, config, cache=cache)
    full_warm = time.perf_counter() - t
    late = late_submission(region)
    t = time.perf_counter()
    _, result2, _ = gate_pipeline(late, config, history=[(combined1, result1.release)], cache=cache)
    late_t = time.perf_counter() - t
    print(f"late submission re-gated with cache + history: {late_t:.2f}s = {late_t / full_warm:.0%} of the full run "
          f"({full_warm:.2f}s); audit {result2.audit}")


if __name__ == "__main__":
    main()

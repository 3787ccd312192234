"""``jeugdhub demo --no-serve`` from start to done (issue 13: ≤ 60 s on this 2-core machine, after
installation), with the time of each step as the demo's progress callback reports it (the step
counter on stderr: one ``[i/n] label …`` line as each step starts, timestamped as it arrives).

Run: ``python bench/hub/bench_demo.py [--repeat 3]``. Each repetition builds the demo afresh in a
temporary directory (the demo serves nothing: --no-serve, port 0, loopback). The exit code is
non-zero when the median misses the target or a step line is missing.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _demo_db import run_demo  # noqa: E402

TARGET_SECONDS = 60.0
STEP = re.compile(r"^\[(\d+)/(\d+)\] (.*?) …$")


def steps_of(lines: list[tuple[float, str]], wall: float) -> list[tuple[str, float]]:
    starts = [(t, STEP.match(line)) for t, line in lines]
    starts = [(t, m) for t, m in starts if m]
    if not starts or int(starts[-1][1].group(1)) != int(starts[-1][1].group(2)) or len(starts) != int(starts[-1][1].group(2)):
        raise RuntimeError("the demo did not report every step: " + " | ".join(l for _, l in lines[-5:]))
    ends = [t for t, _ in starts[1:]] + [wall]
    return [(m.group(3), end - t) for (t, m), end in zip(starts, ends)]


def group(label: str) -> str:
    """Steps of the same kind over the school years (agents, combines) summed in the table."""
    label = re.sub(r"^\d{4}-\d{4}: ", "", label)
    return "agent (each run)" if label.startswith("agent ") else label


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    walls, per_step = [], []
    for i in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="bench-demo-") as tmp:
            wall, _, lines = run_demo(Path(tmp) / "demo")
        walls.append(wall)
        steps = steps_of(lines, wall)
        per_step.append(steps)
        print(f"run {i + 1}: {wall:.1f} s ({len(steps)} steps)", flush=True)
    median = statistics.median(walls)
    best = per_step[walls.index(sorted(walls)[len(walls) // 2])]  # the median run's steps
    totals: dict[str, float] = {}
    counts: dict[str, int] = {}
    for label, seconds in best:
        totals[group(label)] = totals.get(group(label), 0.0) + seconds
        counts[group(label)] = counts.get(group(label), 0) + 1
    print(f"\njeugdhub demo --no-serve: median {median:.1f} s of {args.repeat} "
          f"({', '.join(f'{w:.1f}' for w in walls)}); target ≤ {TARGET_SECONDS:.0f} s: "
          f"{'met' if median <= TARGET_SECONDS else 'MISSED'}")
    print("| step (median run) | times | seconds | share |\n|---|---|---|---|")
    for label, seconds in totals.items():
        print(f"| {label} | {counts[label]} | {seconds:.1f} | {seconds / walls[walls.index(sorted(walls)[len(walls) // 2])]:.0%} |")
    return 0 if median <= TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())

"""Re-judging a run with a changed threshold vs the full run, on the demo world.

    python scripts/bench_rejudge.py [--preset default] [--seed 0] [--keep DIR]

Makes the demo world, runs every step in one process (as `tushu run` does, without
Snakemake's start-up) and times it; then times ``Run.rejudge(survival_gap=..., loss_drop=...)``
from the stored tables, and a full run with the same thresholds, and checks both give the same
statuses and reasons. Prints the numbers recorded in docs/results.md.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from pipeline.config import Evidence, dump_settings
from pipeline.demo import make_world
from pipeline.demo.settings import demo_settings
from pipeline.layout import RunLayout
from pipeline.results import open_run
from pipeline.workflow.inprocess import run_in_process

OVERRIDES = {"survival_gap": 0.04, "loss_drop": 0.25}


def timed_run(world: Path, out: Path, preset: str, **evidence: float) -> float:
    """A full run (every step, in process) into ``out``; returns seconds."""
    settings = demo_settings(world, out, preset=preset)
    ev = Evidence.model_validate({**settings.evidence.model_dump(), **evidence})
    settings = settings.model_copy(update={"evidence": ev})
    out.mkdir(parents=True, exist_ok=True)
    dump_settings(settings, RunLayout.of(out).settings)
    t0 = time.perf_counter()
    run_in_process(settings)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="default")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", type=Path, default=None, help="work here instead of a temp dir")
    args = ap.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-rejudge-"))
    make_world(root / "world", preset=args.preset, seed=args.seed)
    full_s = timed_run(root / "world", root / "base", args.preset)
    run = open_run(root / "base")
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        again = run.rejudge(**OVERRIDES)
        times.append(time.perf_counter() - t0)
    changed_s = timed_run(root / "world", root / "changed", args.preset, **OVERRIDES)
    full = open_run(root / "changed").plots.reset_index(drop=True)
    same = (again["status"].tolist() == full["status"].tolist()) and (
        again["reasons"].tolist() == full["reasons"].tolist()
    )
    moved = int((again["status"].to_numpy() != run.plots["status"].to_numpy()).sum())
    print(f"world {args.preset} seed {args.seed}: {len(full)} plots, overrides {OVERRIDES}")
    print(f"full run: {full_s:.1f} s (with the overrides: {changed_s:.1f} s)")
    best = min(times)
    print(f"rejudge: best {best:.2f} s of {len(times)} ({best / full_s:.1%} of the full run)")
    print(f"statuses moved by the overrides: {moved}; rejudge == full run: {same}")


if __name__ == "__main__":
    main()

"""Benchmark: how much report generation adds to a run of the demo world.

Makes a demo world (untimed), runs ``tushu run`` through Snakemake, and reads the per-step
Snakemake benchmarks (``benchmarks/*.tsv``, wall seconds): the pipeline (plan, desk, tiles,
report, publish) against the ``documents`` step (workbook, 整改清单, bulletin, history, field
lists, HTML report, evidence packs). Then times the documents step in process (no Python
start-up) with its per-part timings. Usage:
``python scripts/bench_reports.py [--preset default] [--seed 0] [--dir /tmp/bench_reports]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from pipeline.config import dump_settings, load_settings
from pipeline.demo import make_world
from pipeline.demo.settings import demo_settings
from pipeline.layout import RunLayout
from pipeline.workflow.documents import documents_step
from pipeline.workflow.views import documents_view


def step_seconds(layout: RunLayout) -> dict[str, float]:
    """Wall seconds per step from Snakemake's benchmark files (tiles summed)."""
    out: dict[str, float] = {}
    for tsv in sorted(layout.benchmarks.rglob("*.tsv")):
        step = "tiles" if tsv.parent.name == "tiles" else tsv.stem
        out[step] = out.get(step, 0.0) + float(pd.read_csv(tsv, sep="\t")["s"].iloc[0])
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="default")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/bench_reports"))
    ap.add_argument("--cores", type=int, default=2)
    args = ap.parse_args()
    world, out = args.dir / "world", args.dir / "run"
    if not (world / "world.json").is_file():
        make_world(world, preset=args.preset, seed=args.seed)
    cfg = args.dir / "run.yaml"
    dump_settings(demo_settings(world, out, preset=args.preset), cfg)
    t0 = time.perf_counter()
    cmd = [sys.executable, "-m", "pipeline.workflow.cli", "run", "--config", str(cfg),
           "--cores", str(args.cores), "--force"]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True)
    total = time.perf_counter() - t0
    layout = RunLayout.of(out)
    steps = step_seconds(layout)
    docs = steps.pop("documents", float("nan"))
    pipeline_s = sum(steps.values())
    t1 = time.perf_counter()
    manifest = documents_step(documents_view(load_settings(cfg)), layout, args.cores)
    in_process = time.perf_counter() - t1
    n_plots = len(pd.read_parquet(layout.plots_parquet, columns=["row"]))
    print(json.dumps({
        "preset": args.preset, "plots": n_plots, "cores": args.cores,
        "tushu_run_wall_s": round(total, 1),
        "pipeline_steps_s": {k: round(v, 2) for k, v in steps.items()},
        "pipeline_sum_s": round(pipeline_s, 1),
        "documents_step_s": round(docs, 2),
        "documents_share_of_pipeline": round(docs / pipeline_s, 3),
        "documents_share_of_run_wall": round(docs / (total - docs), 3),
        "documents_in_process_s": round(in_process, 2),
        "documents_parts_s": manifest["timings_s"],
        "n_files": len(manifest["files"]),
    }, indent=2, ensure_ascii=False))  # fmt: skip


if __name__ == "__main__":
    main()

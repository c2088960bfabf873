"""A simulated province run: 200 000 plots over many small tiles, without the imagery.

What grows with a province but not with pixels: planning the tiles and grouping them into
jobs, the size of Snakemake's DAG and the time it takes to schedule it, and merging the jobs'
outputs. The plots are synthetic (villages of small plots scattered over 40 counties,
300 × 200 km); the plan step's tile planning and job grouping run on them; a run folder
holding that plan is dry-run by Snakemake (with the jobs, and as one job per tile, to show
what grouping saves); the merge reads and concatenates one series table per job (replicated
from a real run's series). The imagery of the tiles is what the other benchmarks measure.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from bench.floor import load_average

CRS = "EPSG:32650"


def make_plots(n: int, seed: int = 0) -> gpd.GeoSeries:
    """``n`` plots of 1–15 亩 in villages (200–600 plots each) over 300 × 200 km."""
    rng = np.random.default_rng(seed)
    villages = max(n // 400, 1)
    vx = rng.uniform(300_000, 600_000, villages)
    vy = rng.uniform(2_800_000, 3_000_000, villages)
    which = rng.integers(0, villages, n)
    x = vx[which] + rng.normal(0, 1500, n)
    y = vy[which] + rng.normal(0, 1500, n)
    side = np.sqrt(rng.uniform(1, 15, n) * 666.67)
    return gpd.GeoSeries(shapely.box(x, y, x + side, y + side * 0.8), crs=CRS)


def dry_run(folder: Path) -> tuple[float, int]:
    """Seconds and job count of ``snakemake --dry-run`` on the run folder ``folder``."""
    from pipeline.workflow.runner import SNAKEFILE

    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(SNAKEFILE), "--directory",
           str(folder), "--config", f"tushu_settings={folder / 'settings.yaml'}",
           "--cores", "2", "--dry-run", "--quiet", "rules"]  # fmt: skip
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=folder)
    wall = time.perf_counter() - t0
    m = re.search(r"^total\s+(\d+)", out.stdout + out.stderr, re.M)
    if m is None:
        raise RuntimeError(f"dry run failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    return wall, int(m.group(1))


def write_run_folder(folder: Path, tiles, groups, settings_src: Path):
    """A run folder whose plan step is done (plan.json with ``groups`` as jobs)."""
    import yaml

    from pipeline.imagery.tiles import job_id_of
    from pipeline.layout import MARKER, RunLayout

    lay = RunLayout.of(folder)
    lay.work.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text("bench\n")
    from pipeline.config import load_settings

    settings = load_settings(settings_src).model_dump(mode="json", exclude_none=True)
    settings["output_dir"] = str(folder)
    lay.settings.write_text(yaml.safe_dump(settings, allow_unicode=True))
    specs = [{"tile_id": t.tile_id, "bbox": list(t.bbox), "n_plots": t.n_plots} for t in tiles]
    jobs = [{"job_id": job_id_of(g), "tile_ids": [t.tile_id for t in g]} for g in groups]
    plan = {"tiles": specs, "jobs": jobs, "crs": CRS, "plots": {}, "column_mapping": {},
            "ingest": {}, "seconds": 0.0}  # fmt: skip
    for path in (lay.work_plots, lay.items, lay.ingest_report):
        path.write_text("{}" if path.suffix == ".json" else "")
    lay.plan.write_text(json.dumps(plan))
    return lay


def run(n: int = 200_000, root: Path | None = None) -> dict:
    from pipeline.config import RunOptions
    from pipeline.imagery.tiles import group_tiles, plan_tiles

    root = root or Path("/tmp/tushu-bench")
    load = load_average()
    geoms = make_plots(n)
    t0 = time.perf_counter()
    _, tiles = plan_tiles(geoms, 2560.0, 10.0)
    t_tiles = time.perf_counter() - t0
    opts = RunOptions()
    groups = group_tiles(tiles, 10.0, opts.tile_job_pixels, opts.min_tile_jobs)
    t_plan = time.perf_counter() - t0
    settings = _settings_file(root)
    grouped = write_run_folder(root / "province-jobs", tiles, groups, settings)
    single = write_run_folder(root / "province-tiles", tiles, [], settings)
    dag_s, dag_jobs = dry_run(grouped.root)
    dag1_s, dag1_jobs = dry_run(single.root)
    merge_s, rows = merge(root / "province-merge", len(groups), n)
    return {
        "plots": n,
        "tiles": len(tiles),
        "tile_jobs": len(groups),
        "load_avg": load,
        "plan_tiles_s": round(t_tiles, 2),
        "plan_and_group_s": round(t_plan, 2),
        "dag_jobs": dag_jobs,
        "dry_run_s": round(dag_s, 1),
        "dag_jobs_one_per_tile": dag1_jobs,
        "dry_run_one_per_tile_s": round(dag1_s, 1),
        "merge_files": len(groups),
        "merge_rows": rows,
        "merge_s": round(merge_s, 1),
    }


def _settings_file(root: Path) -> Path:
    """Settings of a run on the tiny demo world (inputs that exist; the plan is faked)."""
    from bench.workflow import make_world_once, write_config

    world = make_world_once(root, "tiny", 0)
    return write_config(world, root / "province-settings", "tiny")


def merge(folder: Path, n_jobs: int, n_plots: int) -> tuple[float, int]:
    """Write one series table per job (plots split evenly, 150 dates), then time reading and
    concatenating them as the report step does."""
    from pipeline.workflow.steps import concat_tables

    folder.mkdir(parents=True, exist_ok=True)
    dates = pd.date_range("2021-01-01", periods=150, freq="10D")
    per = -(-n_plots // n_jobs)
    rng = np.random.default_rng(0)
    paths = []
    for j in range(n_jobs):
        path = folder / f"job{j:05d}.parquet"
        paths.append(path)
        if path.is_file():
            continue
        rows = np.arange(j * per, min((j + 1) * per, n_plots))
        k = len(rows) * len(dates)
        pd.DataFrame({
            "row": np.repeat(rows, len(dates)), "date": np.tile(dates.values, len(rows)),
            "ndvi": rng.random(k, dtype=np.float32), "ndmi": rng.random(k, dtype=np.float32),
            "bsi": rng.random(k, dtype=np.float32), "clear_share": rng.random(k, dtype=np.float32),
        }).to_parquet(path)  # fmt: skip
    t0 = time.perf_counter()
    table = concat_tables(paths, "tile", ["row"])
    return time.perf_counter() - t0, len(table)

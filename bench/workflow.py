"""The whole run on a demo world, beside the decode floor of the same world's imagery.

Makes the world once (kept under the bench folder), measures the floor, runs ``tushu run``
into a fresh folder, measures the floor again, and reads Snakemake's per-job benchmark files
(wall seconds, CPU seconds, peak RSS). Wall time on a shared machine depends on the load;
CPU seconds (user + system, all processes) do much less, so both ratios are given.
"""

from __future__ import annotations

import csv
import resource
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from bench.floor import catalog_files, decode_files, load_average


def make_world_once(root: Path, preset: str, seed: int) -> Path:
    from pipeline.demo import make_world

    world = root / f"world-{preset}-{seed}"
    if not (world / "world.json").is_file():
        shutil.rmtree(world, ignore_errors=True)
        make_world(world, preset=preset, seed=seed)
    return world


def write_config(world: Path, out: Path, preset: str, run: dict | None = None) -> Path:
    from pipeline.config import dump_settings
    from pipeline.demo.settings import demo_settings

    settings = demo_settings(world, out, preset)
    if run:
        settings = settings.model_copy(update={"run": settings.run.model_copy(update=run)})
    path = out.parent / f"{out.name}.yaml"
    dump_settings(settings, path)
    return path


def cpu_children() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def floor_cpu(paths: list[Path]) -> tuple[float, float]:
    """(wall, CPU) seconds of decoding every file once."""
    c0 = time.process_time()
    wall, _ = decode_files(paths)
    return wall, time.process_time() - c0


def step_table(run_dir: Path) -> dict[str, dict]:
    """Per rule: jobs, wall s, CPU s (sums) and the peak RSS (MB) of any of its jobs."""
    out: dict[str, dict] = defaultdict(lambda: {"jobs": 0, "wall_s": 0.0, "cpu_s": 0.0,
                                                "peak_rss_mb": 0.0})  # fmt: skip
    for tsv in sorted((run_dir / "benchmarks").rglob("*.tsv")):
        rule = "tile" if tsv.parent.name == "tiles" else tsv.stem
        with tsv.open() as fh:
            row = list(csv.DictReader(fh, delimiter="\t"))[-1]
        d = out[rule]
        d["jobs"] += 1
        d["wall_s"] += float(row["s"])
        d["cpu_s"] += float(row["cpu_time"])
        d["peak_rss_mb"] = max(d["peak_rss_mb"], float(row["max_rss"]))
    return {k: {kk: round(v, 2) if isinstance(v, float) else v for kk, v in d.items()}
            for k, d in out.items()}  # fmt: skip


def run(preset: str = "default", seed: int = 0, root: Path | None = None, cores: int = 2,
        run_options: dict | None = None, label: str | None = None) -> dict:  # fmt: skip
    root = root or Path("/tmp/tushu-bench")
    world = make_world_once(root, preset, seed)
    files = catalog_files(world / "stac")
    decode_files(files)  # warm the page cache
    floors = [floor_cpu(files)]
    out = root / f"run-{label or f'{preset}-{seed}'}"
    shutil.rmtree(out, ignore_errors=True)
    cfg = write_config(world, out, preset, run_options)
    load0 = load_average()
    c0, t0 = cpu_children(), time.perf_counter()
    subprocess.run([sys.executable, "-m", "pipeline.workflow.cli", "run", "-c", str(cfg),
                    "--cores", str(cores)], check=True, capture_output=True)  # fmt: skip
    wall, cpu = time.perf_counter() - t0, cpu_children() - c0
    load1 = load_average()
    floors.append(floor_cpu(files))
    f_wall = min(f[0] for f in floors)
    f_cpu = min(f[1] for f in floors)
    steps = step_table(out)
    return {
        "world": f"{preset} (seed {seed})",
        "scenes_files": len(files),
        "load_avg": [load0, load1],
        "floor_wall_s": round(f_wall, 2),
        "floor_cpu_s": round(f_cpu, 2),
        "run_wall_s": round(wall, 2),
        "run_cpu_s": round(cpu, 2),
        "wall_over_floor": round(wall / f_wall, 2),
        "cpu_over_floor": round(cpu / f_cpu, 2),
        "peak_rss_mb": max(s["peak_rss_mb"] for s in steps.values()),
        "steps": steps,
        "output": str(out),
    }

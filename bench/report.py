"""The report step at province scale: N plots × D dates, made from a real run's step files.

A finished demo run's work files (plot table, desk table, one tile job's series and shares)
are replicated to ``plots`` plots (new rows and ids) and stretched to ``dates`` dates (the
series repeated a year later where the run had fewer), written as one tile job's outputs, and
the real ``tushu step report`` runs on them in a child process; its wall and CPU seconds and
peak RSS (its VmHWM, polled every 0.1 s) are what is reported.

Every replicated plot gets a seeded offset of its own and noise on every observation
(:func:`jitter`): real plots rarely tie, and copies that tie (same start level, same peer set,
a thousand equally near peers) make the peer medians unrealistically cheap and the
nearest-peer search pathologically slow.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench.floor import load_average

CHILD = r"""
import resource, subprocess, sys, time
def limit():  # a runaway step fails with MemoryError instead of starving a shared machine
    resource.setrlimit(resource.RLIMIT_AS, (12 * 2**30, 12 * 2**30))
def hwm(pid):  # the step's own peak RSS so far (MB); ru_maxrss would carry its parents'
    try:
        with open(f"/proc/{pid}/status") as fh:
            return [int(l.split()[1]) for l in fh if l.startswith("VmHWM")][0] / 1024
    except (OSError, IndexError):
        return 0.0
t0 = time.perf_counter()
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                     preexec_fn=limit)
peak = 0.0
while p.poll() is None:
    peak = max(peak, hwm(p.pid))
    time.sleep(0.1)
out, err = p.communicate()
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(p.returncode, time.perf_counter() - t0, ru.ru_utime + ru.ru_stime, peak)
if p.returncode:
    print(out[-3000:], err[-3000:])
"""


def replicate(frame: pd.DataFrame, n_src: int, copies: int, n: int) -> pd.DataFrame:
    """``copies`` copies of a table keyed by ``row`` (0..n_src-1), rows shifted per copy,
    rows ≥ ``n`` dropped."""
    parts = []
    for k in range(copies):
        part = frame.copy()
        part["row"] = part["row"].to_numpy() + k * n_src
        if "plot_id" in part:
            part["plot_id"] = part["plot_id"].astype("string") + f"-{k}"
        parts.append(part[part["row"] < n])
    return pd.concat(parts, ignore_index=True)


def stretch_dates(series: pd.DataFrame, dates: int) -> pd.DataFrame:
    """The series with exactly ``dates`` dates: cut, or extended by whole years."""
    have = series["date"].nunique()
    out = [series]
    for k in range(1, -(-dates // max(have, 1))):
        more = series.copy()
        more["date"] = more["date"] + pd.DateOffset(years=4 * k)
        out.append(more)
    full = pd.concat(out, ignore_index=True)
    keep = np.sort(full["date"].unique())[:dates]
    return full[full["date"].isin(keep)].reset_index(drop=True)


#: per-plot offset and per-observation noise (index units) of :func:`jitter`
OFFSET_SD = 0.03
NOISE_SD = 0.01
INDICES = ("ndvi", "ndmi", "bsi")


def jitter(series: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """The series with, per index column, a seeded offset per plot (sd ``OFFSET_SD``) and
    noise per observation (sd ``NOISE_SD``) added, in the column's own dtype: no two
    replicated plots tie."""
    rng = np.random.default_rng(seed)
    rows = series["row"].to_numpy()
    out = series.copy()
    for col in INDICES:
        if col not in out:
            continue
        v = out[col].to_numpy()
        offset = rng.normal(0.0, OFFSET_SD, rows.max() + 1)[rows]
        noise = rng.normal(0.0, NOISE_SD, len(v))
        out[col] = (v + offset + noise).astype(v.dtype)
    return out


def make_inputs(run_dir: Path, folder: Path, plots: int, dates: int) -> dict[str, Path]:
    """Write the synthetic report inputs under ``folder`` (a run folder layout)."""
    from pipeline.layout import RunLayout
    from pipeline.workflow.contracts import read_plan, read_table

    src = RunLayout.of(run_dir)
    dst = RunLayout.of(folder)
    shutil.rmtree(folder, ignore_errors=True)
    dst.work.mkdir(parents=True)
    plan = read_plan(src.plan)
    plot_table = read_table(src.work_plots, "plan")
    n_src = len(plot_table)
    copies = -(-plots // n_src)
    replicate(plot_table, n_src, copies, plots).to_parquet(dst.work_plots)
    replicate(read_table(src.desk_table, "desk"), n_src, copies, plots).to_parquet(dst.desk_table)
    series = pd.concat([read_table(src.tile(j).series, "tile") for j in plan.job_ids])
    pixels = pd.concat([read_table(src.tile(j).pixels, "tile") for j in plan.job_ids])
    job = dst.tile("synthetic")
    job.dir.mkdir(parents=True)
    jitter(replicate(stretch_dates(series, dates), n_src, copies, plots)).to_parquet(job.series)
    replicate(pixels, n_src, copies, plots).to_parquet(job.pixels)
    meta = json.loads(src.tile(plan.job_ids[0]).meta.read_text())
    meta.update(tile_id="synthetic", n_plots=plots, n_dates=dates, tiles={})
    job.meta.write_text(json.dumps(meta))
    spec = plan.tiles[0].model_dump()
    spec.update(tile_id="synthetic", n_plots=plots)
    record = plan.model_dump(mode="json")
    record.update(tiles=[spec], jobs=[])
    dst.plan.write_text(json.dumps(record))
    for path in (src.items, src.desk_meta, src.settings):
        shutil.copy(path, folder / path.relative_to(run_dir))
    return {"folder": folder}


def run(run_dir: Path, plots: int, dates: int, root: Path | None = None) -> dict:
    from pipeline.config import load_settings
    from pipeline.layout import RunLayout
    from pipeline.workflow.views import report_view

    root = root or Path("/tmp/tushu-bench")
    folder = root / f"report-{plots}x{dates}"
    t0 = time.perf_counter()
    make_inputs(Path(run_dir), folder, plots, dates)
    t_make = time.perf_counter() - t0
    lay = RunLayout.of(folder)
    view = report_view(load_settings(lay.settings)).params()
    cmd = [sys.executable, "-m", "pipeline.workflow.cli", "step", "report", "--view", view,
           "--plots", str(lay.work_plots), "--items", str(lay.items), "--plan", str(lay.plan),
           "--desk-table", str(lay.desk_table), "--desk-meta", str(lay.desk_meta),
           "--output-dir", str(folder)]  # fmt: skip
    load = load_average()
    out = subprocess.run([sys.executable, "-c", CHILD, *cmd], capture_output=True, text=True)
    first, *rest = out.stdout.splitlines() or ["1 0 0 0"]
    code, wall, cpu, rss = first.split()
    return {
        "plots": plots,
        "dates": dates,
        "load_avg": load,
        "ok": code == "0",
        "wall_s": round(float(wall), 2),
        "cpu_s": round(float(cpu), 2),
        "peak_rss_mb": round(float(rss)),
        "inputs_s": round(t_make, 1),
        **({"error": "\n".join(rest)[-1500:]} if code != "0" else {}),
    }

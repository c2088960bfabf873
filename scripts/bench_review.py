"""Benchmark: how fast the review app renders a flagged plot's page on a finished run.

    python scripts/bench_review.py results/demo [--plots 10]

Times, in process (FastAPI TestClient, no network), for the first N flagged plots: the page
HTML; the series chart (cold: drawn; warm: from the review cache); the chips fragment (cold:
reads the imagery and draws the chips; warm: cached); the map layers (cold: makes the tile's
basemap; warm). Uses a throw-away review database and chip cache, so the run folder is left
as it was.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from pipeline.layout import RunLayout
from pipeline.review.app import create_app
from pipeline.review.auth import hash_password


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results_dir", type=Path)
    ap.add_argument("--plots", type=int, default=10)
    args = ap.parse_args()
    layout = RunLayout.of(args.results_dir)
    had_cache = layout.review_cache.exists()
    with tempfile.TemporaryDirectory() as tmp:
        if had_cache:  # keep the run's own chip cache; measure cold on a clean one
            shutil.move(layout.review_cache, Path(tmp) / "kept")
        try:
            timings = bench(args.results_dir, Path(tmp) / "bench.sqlite", args.plots)
        finally:
            shutil.rmtree(layout.review_cache, ignore_errors=True)
            if had_cache:
                shutil.move(Path(tmp) / "kept", layout.review_cache)
    print(f"{args.results_dir}: {args.plots} flagged plots, seconds (median / max)")
    for name, values in timings.items():
        print(f"  {name:<22} {statistics.median(values):6.3f} / {max(values):6.3f}")


def bench(results_dir: Path, db: Path, n: int) -> dict[str, list[float]]:
    t0 = time.perf_counter()
    app = create_app(results_dir, db)
    opened = time.perf_counter() - t0
    app.state.review.store.add_user("bench", "senior", hash_password("bench-password"))
    client = TestClient(app)
    page = client.get("/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/login", data={"name": "bench", "password": "bench-password", "csrf_token": csrf})
    plots = app.state.review.plots
    rows = plots.loc[plots["status"] != "consistent", "row"].head(n).tolist()
    out: dict[str, list[float]] = {"app start (once)": [opened]}
    steps = [
        ("page html", "/plot/{r}"),
        ("chart png (cold)", "/plot/{r}/chart.png"),
        ("chart png (cached)", "/plot/{r}/chart.png"),
        ("chips (cold)", "/plot/{r}/chips"),
        ("chips (cached)", "/plot/{r}/chips"),
        ("map + basemap (cold)", "/plot/{r}/map.json"),
        ("map (cached)", "/plot/{r}/map.json"),
    ]
    for r in rows:
        total = cold = 0.0
        for name, url in steps:
            t = time.perf_counter()
            resp = client.get(url.format(r=r))
            dt = time.perf_counter() - t
            assert resp.status_code == 200, (url, resp.status_code)
            out.setdefault(name, []).append(dt)
            if "cached" not in name:
                cold += dt
            if "cold" not in name:
                total += dt
        out.setdefault("first view, sum (cold)", []).append(cold)
        out.setdefault("page+chart+map+chips, cached", []).append(total)
    return out


if __name__ == "__main__":
    main()

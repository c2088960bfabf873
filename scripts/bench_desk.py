"""Benchmark: read a synthetic 200 000-plot layer and run every desk check.

Writes (untimed) a GeoPackage of N plots (EPSG:4490, Chinese fields, ~1 % overlapping pairs,
a few invalid and null geometries, text years and areas), a prior-years layer, a county layer
and a land-survey layer filtered to cropland (DLBM 0101–0103), then times
``read_plots`` (read + normalise + ingest log) and ``read_vector`` of the references +
``check_desk``. Usage: ``python scripts/bench_desk.py [--n 200000] [--dir /tmp/bench_desk]``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from pipeline.config import DeskChecks, LayerSource, PlotSource
from pipeline.desk.checks import ReferenceLayers, check_desk
from pipeline.desk.layers import Layer
from pipeline.plots.read import read_plots
from pipeline.plots.vector import read_vector

UTM = "EPSG:32650"
X0, Y0 = 500_000.0, 2_900_000.0


def make_inputs(root: Path, n: int, seed: int = 0) -> dict[str, Path]:
    """Write the synthetic layers; returns their paths."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n)))
    k = np.arange(n)
    x = X0 + (k % side) * 110.0 + rng.uniform(0, 10, n)
    y = Y0 + (k // side) * 110.0 + rng.uniform(0, 10, n)
    size = rng.uniform(30, 95, n)
    grow = rng.random(n) < 0.01  # overlapping the neighbour
    size[grow] = 125
    geoms = shapely.box(x, y, x + size, y + size * rng.uniform(0.6, 1.0, n))
    bad = rng.choice(n, 50, replace=False)
    geoms[bad[:25]] = [
        shapely.Polygon([(a, b), (a + 50, b + 50), (a + 50, b), (a, b + 50)])
        for a, b in zip(x[bad[:25]], y[bad[:25]], strict=True)
    ]
    geoms[bad[25:]] = None
    half = X0 + side * 55.0
    county = np.where(x < half, "明溪县", "清流县")
    area_mu = shapely.area(geoms) / 666.6667
    plots = gpd.GeoDataFrame(
        {
            "图斑编号": [f"P{i:07d}" for i in k],
            "县": county,
            "乡镇": "城关乡",
            "阶段": rng.choice(["造林验收", "设计施工", "2"], n),
            "造林年度": rng.choice(["2022", "2023年", "2021"], n),
            "上报面积": np.round(area_mu * rng.uniform(0.97, 1.03, n), 1),
            "树种": rng.choice(["杉木", "马尾松", "木荷", "桉树"], n),
        },
        geometry=geoms,
        crs=UTM,
    ).to_crs(4490)
    paths = {name: root / f"{name}.gpkg" for name in ("plots", "prior", "counties", "survey")}
    plots.to_file(paths["plots"], layer="plots", engine="pyogrio")
    m = n // 10
    pick = rng.choice(n, m, replace=False)
    prior = gpd.GeoDataFrame(
        {"图斑编号": [f"Q{i:07d}" for i in range(m)], "造林年度": 2020},
        geometry=shapely.buffer(shapely.centroid(shapely.box(x, y, x + 60, y + 60)[pick]), 25),
        crs=UTM,
    )
    prior.to_file(paths["prior"], engine="pyogrio")
    ext = side * 110.0 + 200
    gpd.GeoDataFrame(
        {"县名": ["明溪县", "清流县"], "县代码": ["350421", "350423"]},
        geometry=[
            shapely.box(X0 - 200, Y0 - 200, half, Y0 + ext),
            shapely.box(half, Y0 - 200, X0 + ext, Y0 + ext),
        ],
        crs=UTM,
    ).to_file(paths["counties"], engine="pyogrio")
    fx = X0 + rng.uniform(0, side * 110.0, m)
    fy = Y0 + rng.uniform(0, side * 110.0, m)
    gpd.GeoDataFrame(
        {"DLBM": rng.choice(["0101", "0102", "0301", "0103", "0404"], m)},
        geometry=shapely.box(fx, fy, fx + 40, fy + 40),
        crs=UTM,
    ).to_file(paths["survey"], engine="pyogrio")
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/bench_desk"))
    args = ap.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    paths = make_inputs(args.dir, args.n)
    print(f"wrote inputs in {time.perf_counter() - t:.1f} s (not counted)")

    t0 = time.perf_counter()
    got = read_plots(PlotSource(path=paths["plots"]))
    t1 = time.perf_counter()
    prior_src = LayerSource(path=paths["prior"], id_column="图斑编号", year_column="造林年度")
    region_src = LayerSource(path=paths["counties"], name_column="县名", code_column="县代码")
    survey_src = LayerSource(
        path=paths["survey"], filter_column="DLBM", filter_values=("0101", "0102", "0103")
    )
    refs = ReferenceLayers(
        priors=(Layer(read_vector(paths["prior"])[0], prior_src),),
        region=read_vector(paths["counties"])[0],
        region_source=region_src,
        restricteds=(Layer(read_vector(paths["survey"])[0], survey_src),),
    )
    t2 = time.perf_counter()
    result = check_desk(got.plots, refs, DeskChecks())
    report = got.log.table()
    t3 = time.perf_counter()
    flagged = {c: v["n_flagged"] for c, v in result.checks.items()}
    print(f"plots: {len(got.plots)}; ingest findings: {len(report)}; flagged: {flagged}")
    print(
        f"read + normalise plots {t1 - t0:.1f} s, read references {t2 - t1:.1f} s, "
        f"desk checks + ingest report {t3 - t2:.1f} s; total {t3 - t0:.1f} s"
    )


if __name__ == "__main__":
    main()

"""Zonal kernel against exactextract on the same data, beside the decode floor.

A synthetic stack (``dates`` GeoTIFFs of ``side``² int16 NDVI×10⁴, tiled and compressed like
a COG, ~10 % cloud NaN) and ``plots`` random quadrilaterals of 1–30 亩. Three timings in one
process: decoding the stack (the floor); Tushu's kernel (coverage weights once, then two
weighted bincounts per date); exactextract's in-memory ``mean`` over the same arrays (its
best set-up: every date in one pass). The means must agree within 1e-6. The weights are
also built through exactextract (``engine="exactextract"``, the former path) for
comparison. Each is timed in wall and CPU seconds of this process (one thread each): on a
shared machine the CPU ratios are the ones that travel.
"""

from __future__ import annotations

import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
import shapely
from odc.geo.geobox import GeoBox
from rasterio.transform import from_origin

from bench.floor import decode_files, load_average

CRS = "EPSG:32650"
X0, Y_TOP = 500_000.0, 3_000_000.0


def write_stack(folder: Path, side: int, dates: int, seed: int = 0) -> list[Path]:
    """``dates`` single-band int16 GeoTIFFs (512² tiles, deflate); kept for re-runs."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float32) / side
    base = 4000 + 3000 * np.sin(6 * xx) * np.cos(5 * yy)
    paths = []
    for d in range(dates):
        path = folder / f"ndvi_{side}_{d:02d}.tif"
        paths.append(path)
        if path.is_file():
            continue
        noise = rng.normal(0, 300, (side, side)).astype(np.float32)
        val = (base + 500 * np.sin(d) + noise).astype(np.int16)
        cloud = rng.random((side // 50 + 1, side // 50 + 1)) < 0.1
        val[np.kron(cloud, np.ones((50, 50), bool))[:side, :side]] = -32768
        profile = dict(driver="GTiff", width=side, height=side, count=1, dtype="int16",
                       crs=CRS, transform=from_origin(X0, Y_TOP, 10, 10), nodata=-32768,
                       tiled=True, blockxsize=512, blockysize=512, compress="deflate")  # fmt: skip
        with rasterio.open(path, "w", **profile) as ds:
            ds.write(val, 1)
    return paths


def make_plots(side: int, n: int, seed: int = 1) -> gpd.GeoSeries:
    """``n`` random convex quadrilaterals of 1–30 亩 inside the grid."""
    rng = np.random.default_rng(seed)
    size = np.sqrt(rng.uniform(1, 30, n) * 666.67)
    cx = X0 + rng.uniform(200, side * 10 - 200, n)
    cy = Y_TOP - rng.uniform(200, side * 10 - 200, n)
    ang = rng.uniform(0, np.pi / 2, n)
    corners = []
    for k in range(4):
        a = ang + k * np.pi / 2 + rng.uniform(-0.2, 0.2, n)
        r = size / np.sqrt(2) * rng.uniform(0.8, 1.1, n)
        corners.append(np.stack([cx + r * np.cos(a), cy + r * np.sin(a)], axis=1))
    rings = np.stack(corners + corners[:1], axis=1)
    return gpd.GeoSeries(shapely.polygons(rings), crs=CRS)


def decode_stack(paths: list[Path]) -> np.ndarray:
    """(time, y, x) float32 with NaN for nodata."""
    out = []
    for p in paths:
        with rasterio.open(p) as ds:
            a = ds.read(1).astype(np.float32)
            a[a == ds.nodata] = np.nan
            out.append(a)
    return np.stack(out)


def run(side: int = 5000, plots: int = 20_000, dates: int = 12, folder: Path | None = None) -> dict:
    from exactextract import exact_extract
    from exactextract.raster import NumPyRasterSource

    from pipeline.imagery.zonal import coverage_weights, zonal_means

    folder = folder or Path("/tmp/tushu-bench/zonal")
    paths = write_stack(folder, side, dates)
    geoms = make_plots(side, plots)
    geobox = GeoBox.from_bbox((X0, Y_TOP - side * 10, X0 + side * 10, Y_TOP), crs=CRS,
                              resolution=10)  # fmt: skip
    load = load_average()
    decode_files(paths)  # warm the page cache
    c0 = time.process_time()
    floor, _ = decode_files(paths)
    floor_cpu = time.process_time() - c0
    stack = decode_stack(paths)

    t0, c0 = time.perf_counter(), time.process_time()
    w = coverage_weights(geoms, geobox)
    t_weights, c_weights = time.perf_counter() - t0, time.process_time() - c0
    mean, _share = zonal_means(stack, w)
    t_kernel, c_kernel = time.perf_counter() - t0, time.process_time() - c0

    t0, c0 = time.perf_counter(), time.process_time()  # the former weights, for comparison
    w_ee = coverage_weights(geoms, geobox, engine="exactextract")
    t_weights_ee, c_weights_ee = time.perf_counter() - t0, time.process_time() - c0
    same_cells = np.array_equal(w_ee.cell, w.cell) and np.array_equal(w_ee.plot, w.plot)

    bounds = dict(xmin=X0, ymin=Y_TOP - side * 10, xmax=X0 + side * 10, ymax=Y_TOP)
    rasters = [NumPyRasterSource(stack[d], **bounds, nodata=np.nan, srs_wkt=geobox.crs.to_wkt(),
                                 name=f"d{d}") for d in range(dates)]  # fmt: skip
    frame = gpd.GeoDataFrame(geometry=geoms.values, crs=CRS)
    t0, c0 = time.perf_counter(), time.process_time()
    ee = exact_extract(rasters, frame, "mean", output="pandas")
    t_ee, c_ee = time.perf_counter() - t0, time.process_time() - c0
    ee_mean = ee[[f"d{d}_mean" for d in range(dates)]].to_numpy().T
    ok = np.isfinite(ee_mean) & np.isfinite(mean)
    return {
        "grid": f"{side}x{side}",
        "plots": plots,
        "dates": dates,
        "pairs": int(len(w.cell)),
        "load_avg": [load, load_average()],
        "floor_s": round(floor, 2),
        "weights_s": round(t_weights, 2),
        "kernel_s": round(t_kernel, 2),
        "exactextract_s": round(t_ee, 2),
        "weights_exactextract_s": round(t_weights_ee, 2),
        "floor_cpu_s": round(floor_cpu, 2),
        "weights_cpu_s": round(c_weights, 2),
        "kernel_cpu_s": round(c_kernel, 2),
        "exactextract_cpu_s": round(c_ee, 2),
        "weights_exactextract_cpu_s": round(c_weights_ee, 2),
        "weights_same_cells": bool(same_cells),
        "kernel_over_floor": round(t_kernel / floor, 2),
        "exactextract_over_kernel": round(t_ee / t_kernel, 2),
        "kernel_over_floor_cpu": round(c_kernel / floor_cpu, 2),
        "exactextract_over_kernel_cpu": round(c_ee / c_kernel, 2),
        "max_abs_diff": float(np.abs(ee_mean[ok] - mean[ok]).max()),
        "max_rel_diff": float((np.abs(ee_mean[ok] - mean[ok]) / np.abs(ee_mean[ok])).max()),
        "nan_agree": bool((np.isnan(ee_mean) == np.isnan(mean)).all()),
    }

"""A county-sized world (20 × 20 km, the demo's dates, ≥ 20 000 plots) and a whole run on it.

The demo generator renders every pixel of every date from a landscape model, which takes too
long at county size on a small machine; this world instead tiles the default demo world
4 × 5 times (its imagery mosaicked, its plots, counties, prior plots and farmland shifted
with it) and adds small random plots (1–15 亩, attributes copied from demo plots) up to the
asked number. The science is the demo's; the sizes are a county's: 2000 × 2000 pixels per
date, 124 dates, 20 000+ plots. The run is measured as :mod:`bench.workflow` does.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pystac
import rasterio
import shapely

from bench.workflow import make_world_once

NX, NY = 4, 5  # copies east and south: 4 × 5 km by 5 × 4 km = 20 × 20 km
UTM = "EPSG:32650"


def make_county(root: Path, plots: int = 20_000, seed: int = 0) -> Path:
    """Write the county world under ``root`` (kept for re-runs); returns its folder."""
    from pipeline.demo.catalog import make_item, write_catalog
    from pipeline.demo.grid import Grid
    from pipeline.demo.presets import get_spec

    out = root / f"world-county-{plots}"
    if (out / "world.json").is_file():
        return out
    demo = make_world_once(root, "default", seed)
    spec = get_spec("default")
    grid = Grid(spec.x0, spec.y_top, spec.rows * NY, spec.cols * NX, float(spec.pixel_m),
                spec.sub)  # fmt: skip
    stac = out / "stac"
    items = []
    for item in _demo_items(demo):
        day = item.datetime.date()
        paths = {}
        for key, asset in item.assets.items():
            paths[key] = stac / item.id / f"{key}.tif"
            if not paths[key].is_file():  # kept from an interrupted make
                _tile_raster(Path(asset.get_absolute_href()), paths[key])
        cloud = item.properties.get("eo:cloud_cover", 0.0)
        items.append(make_item(dt.date(day.year, day.month, day.day), cloud, None, paths, grid))
    write_catalog(stac, items, grid)
    dx, dy = spec.width_m, spec.height_m
    for name in ("counties", "prior_plots", "farmland"):
        frame = gpd.read_file(demo / f"{name}.gpkg")
        _shifted(frame, dx, dy, id_col="图斑编号" if name == "prior_plots" else None).to_file(
            out / f"{name}.gpkg", layer=name
        )
    base = _shifted(gpd.read_file(demo / "plots.gpkg"), dx, dy, id_col="图斑编号")
    extra = _random_plots(base, plots - len(base), grid, seed)
    pd.concat([base, extra], ignore_index=True).to_file(out / "plots.gpkg", layer="plots")
    (out / "world.json").write_text('{"kind": "county bench world"}\n')
    return out


def _demo_items(world: Path) -> list[pystac.Item]:
    cat = pystac.read_file(str(world / "stac" / "catalog.json"))
    return sorted(cat.get_items(recursive=True), key=lambda it: it.datetime)


def _tile_raster(src: Path, dst: Path) -> None:
    """The demo band mosaicked NX × NY times (tiled, DEFLATE; no overviews)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(src) as ds:
        arr = np.tile(ds.read(1), (NY, NX))
        profile = ds.profile | dict(driver="GTiff", width=arr.shape[1], height=arr.shape[0],
                                    tiled=True, blockxsize=512, blockysize=512,
                                    compress="deflate", predictor=2)  # fmt: skip
        for key in ("blocksize", "overviews"):
            profile.pop(key, None)
    with rasterio.open(dst, "w", **profile) as out:
        out.write(arr, 1)


def _shifted(frame: gpd.GeoDataFrame, dx: float, dy: float, id_col: str | None):
    """NX × NY copies shifted east / south (in UTM), ids made unique per copy."""
    utm = frame.to_crs(UTM)
    parts = []
    for j in range(NY):
        for i in range(NX):
            part = utm.copy()
            part["geometry"] = part.geometry.translate(xoff=i * dx, yoff=-j * dy)
            if id_col and id_col in part:
                part[id_col] = part[id_col].astype(str) + f"-{i}{j}"
            parts.append(part)
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=UTM).to_crs(frame.crs)


def _random_plots(base: gpd.GeoDataFrame, n: int, grid, seed: int) -> gpd.GeoDataFrame:
    """``n`` small rectangles (1–15 亩) over the county, attributes of random demo plots."""
    if n <= 0:
        return base.iloc[:0]
    rng = np.random.default_rng(seed)
    side = np.sqrt(rng.uniform(1, 15, n) * 666.67)
    x = grid.x0 + rng.uniform(100, grid.cols * grid.pixel - 200, n)
    y = grid.y_top - rng.uniform(100, grid.rows * grid.pixel - 200, n)
    geoms = shapely.box(x, y, x + side, y + side * rng.uniform(0.7, 1.0, n))
    attrs = base.drop(columns="geometry").iloc[rng.integers(0, len(base), n)].reset_index(drop=True)
    attrs["图斑编号"] = [f"R{k:06d}" for k in range(n)]
    attrs["上报面积"] = np.round(shapely.area(geoms) / 666.67, 2)
    return gpd.GeoDataFrame(attrs, geometry=geoms, crs=UTM).to_crs(base.crs)


def run(plots: int = 20_000, root: Path | None = None) -> dict:
    from bench import workflow

    root = root or Path("/tmp/tushu-bench")
    world = make_county(root, plots)
    original = workflow.make_world_once
    try:  # the whole-run benchmark on this world (its folder is already made)
        workflow.make_world_once = lambda _root, _preset, _seed: world
        result = workflow.run("default", 0, root=root, label=f"county-{plots}")
    finally:
        workflow.make_world_once = original
    return {**result, "world": f"county: 20 x 20 km, {plots} plots (tiled default world)"}

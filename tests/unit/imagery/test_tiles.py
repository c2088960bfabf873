from __future__ import annotations

import geopandas as gpd
import numpy as np

from pipeline.imagery.tiles import Tile, group_tiles, job_id_of, plan_tiles
from tests.synthetic import UTM, square


def test_plan_tiles__each_plot_once_and_inside_its_tile():
    rng = np.random.default_rng(1)
    geoms = [square(float(x), float(y), 80) for x, y in rng.uniform(0, 5000, (40, 2))]
    series = gpd.GeoSeries(geoms + [None], crs=UTM)
    ids, tiles = plan_tiles(series, tile_size=2000, resolution=10)
    assert ids[-1] == "" and all(ids[:-1])
    assert sum(t.n_plots for t in tiles) == 40
    by_id = {t.tile_id: t for t in tiles}
    for g, tid in zip(geoms, ids[:-1], strict=True):
        x0, y0, x1, y1 = by_id[tid].bbox
        gx0, gy0, gx1, gy1 = g.bounds
        assert x0 <= gx0 and y0 <= gy0 and x1 >= gx1 and y1 >= gy1
        assert x0 % 10 == 0 and y1 % 10 == 0  # snapped to the pixel grid


def test_plan_tiles__no_geometry_no_tiles():
    ids, tiles = plan_tiles(gpd.GeoSeries([None], crs=UTM), 2000, 10)
    assert tiles == [] and list(ids) == [""]


def _tiles(n: int, side: float = 1000.0) -> list[Tile]:
    return [Tile(f"r0c{k:03d}", (k * side, 0.0, (k + 1) * side, side), 1) for k in range(n)]


def test_group_tiles__contiguous_runs_in_plan_order_covering_every_tile_once():
    tiles = _tiles(10)  # 10 000 px each
    groups = group_tiles(tiles, resolution=10, job_pixels=30_000, min_jobs=1)
    assert [t for g in groups for t in g] == tiles
    assert len(groups) == 4  # ceil(100 000 / 30 000)
    assert max(len(g) for g in groups) - min(len(g) for g in groups) <= 1


def test_group_tiles__at_least_min_jobs_but_never_more_jobs_than_tiles():
    assert len(group_tiles(_tiles(9), 10, job_pixels=10**9, min_jobs=2)) == 2
    assert len(group_tiles(_tiles(1), 10, job_pixels=10**9, min_jobs=2)) == 1
    assert len(group_tiles(_tiles(3), 10, job_pixels=1, min_jobs=1)) == 3
    assert group_tiles([], 10, 1, 2) == []


def test_job_id_of__a_lone_tile_keeps_its_id():
    tiles = _tiles(3)
    assert job_id_of(tiles[:1]) == "r0c000"
    assert job_id_of(tiles) == "r0c000+2"

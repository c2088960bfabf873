from __future__ import annotations

import geopandas as gpd
import numpy as np

from pipeline.imagery.tiles import plan_tiles
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

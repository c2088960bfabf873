"""The numpy coverage weights equal exactextract's (cells, order, shares to its rounding)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from odc.geo.geobox import GeoBox

from pipeline.imagery.coverage import polygon_coverage
from pipeline.imagery.zonal import coverage_weights

CRS = "EPSG:32650"
X0, Y_TOP = 500_000.0, 3_000_000.0


def _plots(n: int, seed: int) -> list:
    """Random quadrilaterals plus the awkward cases: a hole, a multipolygon whose parts
    share cells, edges on grid lines, a plot reaching past the grid, empties."""
    rng = np.random.default_rng(seed)
    size = np.sqrt(rng.uniform(1, 30, n) * 666.67)
    cx, cy = X0 + rng.uniform(100, 2900, n), Y_TOP - rng.uniform(100, 2400, n)
    ang = rng.uniform(0, np.pi / 2, n)
    corners = [np.stack([cx + size * np.cos(ang + k * np.pi / 2 + rng.uniform(-0.2, 0.2, n)),
                         cy + size * np.sin(ang + k * np.pi / 2 + rng.uniform(-0.2, 0.2, n))],
                        axis=1) for k in range(4)]  # fmt: skip
    quads = list(shapely.polygons(np.stack(corners + corners[:1], axis=1)))
    hole = shapely.Polygon(
        [(X0 + 1000, Y_TOP - 1000), (X0 + 1300, Y_TOP - 1000), (X0 + 1300, Y_TOP - 1300),
         (X0 + 1000, Y_TOP - 1300)],
        [[(X0 + 1100, Y_TOP - 1100), (X0 + 1100, Y_TOP - 1200), (X0 + 1203, Y_TOP - 1200),
          (X0 + 1203, Y_TOP - 1103)]],
    )  # fmt: skip
    multi = shapely.MultiPolygon(
        [shapely.box(X0 + 2003, Y_TOP - 2051, X0 + 2047, Y_TOP - 2013),
         shapely.box(X0 + 2049, Y_TOP - 2058, X0 + 2088, Y_TOP - 2013)]
    )  # fmt: skip
    on_lines = shapely.box(X0 + 100, Y_TOP - 300, X0 + 200, Y_TOP - 200)
    past = shapely.box(X0 - 50, Y_TOP - 95, X0 + 55, Y_TOP + 20)
    return quads + [hole, multi, on_lines, past, None, shapely.Polygon()]


@pytest.mark.parametrize("seed", [0, 1])
def test_coverage_weights__numpy_equals_exactextract(seed):
    geoms = gpd.GeoSeries(_plots(300, seed), crs=CRS)
    box = GeoBox.from_bbox((X0, Y_TOP - 2500, X0 + 3000, Y_TOP), crs=CRS, resolution=10)
    fast = coverage_weights(geoms, box, engine="numpy")
    ee = coverage_weights(geoms, box, engine="exactextract")
    np.testing.assert_array_equal(fast.plot, ee.plot)
    np.testing.assert_array_equal(fast.cell, ee.cell)
    np.testing.assert_allclose(fast.coverage, ee.coverage, rtol=0, atol=1e-7)  # float32 of 1
    assert (fast.coverage == ee.coverage).mean() > 0.99  # float32 rounding like exactextract


def test_polygon_coverage__interior_one_boundary_share_and_area():
    # a 25 × 15 m box from (3, 2) m inside a 10 m grid: shares are the overlaps
    poly = shapely.box(X0 + 3, Y_TOP - 17, X0 + 28, Y_TOP - 2)
    plot, cell, share = polygon_coverage(np.array([poly]), X0, Y_TOP, 10.0, (4, 5))
    got = dict(zip(cell.tolist(), share.tolist(), strict=True))
    want = {0: 0.56, 1: 0.8, 2: 0.64, 5: 0.49, 6: 0.7, 7: 0.56}
    assert set(got) == set(want) and (plot == 0).all()
    for k, v in want.items():
        assert got[k] == pytest.approx(v, abs=1e-12)
    assert share.sum() * 100 == pytest.approx(poly.area, rel=1e-12)

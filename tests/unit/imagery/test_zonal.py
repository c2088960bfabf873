from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from odc.geo.geobox import GeoBox

from pipeline.imagery.zonal import coverage_weights, zonal_means
from tests.synthetic import UTM, X0, Y0


def _grid():
    return GeoBox.from_bbox((X0, Y0, X0 + 100, Y0 + 100), crs=UTM, resolution=10)


def test_coverage_weights__sub_pixel_edges_are_exact():
    plot = shapely.box(X0 + 12.5, Y0 + 12.5, X0 + 47.5, Y0 + 33.0)  # 35 m × 20.5 m
    w = coverage_weights(gpd.GeoSeries([plot, None], crs=UTM), _grid())
    assert np.isclose(w.total()[0] * 100, 35 * 20.5)
    assert w.total()[1] == 0
    assert w.coverage.min() < 1  # edge pixels carry partial weights


def test_zonal_means__weighted_mean_and_clear_share():
    plot = shapely.box(X0 + 5, Y0 + 80, X0 + 20, Y0 + 90)  # half of cell (1,0), all of (1,1)
    w = coverage_weights(gpd.GeoSeries([plot], crs=UTM), _grid())
    values = np.zeros((2, 10, 10))
    values[:, 1, 0] = 1.0
    values[:, 1, 1] = 4.0
    values[1, 1, 1] = np.nan  # the fully covered cell is clouded on date 2
    mean, share = zonal_means(values, w)
    assert np.isclose(mean[0, 0], (0.5 * 1 + 1 * 4) / 1.5)
    assert np.isclose(share[0, 0], 1.0)
    assert np.isclose(mean[1, 0], 1.0) and np.isclose(share[1, 0], 0.5 / 1.5)

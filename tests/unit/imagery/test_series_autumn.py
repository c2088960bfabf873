"""Per-pixel site preparation of an autumn planting of the claimed year (秋冬造林 of Y)."""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from odc.geo.geobox import GeoBox

from pipeline.config import Evidence, Imagery
from pipeline.imagery.series import extract_series
from pipeline.imagery.zonal import coverage_weights
from tests.synthetic import UTM, X0, Y0, dn_cube

IMG = Imagery(catalog="x", start=date(2020, 1, 1), end=date(2023, 1, 1))


def _autumn_world(seed: int = 0):
    """Two plots claimed for 2022: A (left) cleared in November 2022, B (right) never; herbs
    brown each autumn on both (the same-month baseline holds the browning)."""
    times = pd.date_range("2020-01-01", "2022-12-31", freq="10D")
    doy = times.day_of_year.to_numpy()[:, None, None]
    ndvi = 0.6 + 0.12 * np.sin(2 * np.pi * (doy - 100) / 365) + np.zeros((len(times), 20, 20))
    ndvi[times >= "2022-11-05", :, :10] = 0.15
    cube = dn_cube(ndvi, times, x0=X0, y_top=Y0 + 200, seed=seed)
    geobox = GeoBox.from_bbox((X0, Y0, X0 + 200, Y0 + 200), crs=UTM, resolution=10)
    plots = gpd.GeoSeries(
        [
            shapely.box(X0 + 12.5, Y0 + 20, X0 + 92.5, Y0 + 180),
            shapely.box(X0 + 112.5, Y0 + 20, X0 + 187.5, Y0 + 180),
        ],
        crs=UTM,
    )
    return cube, coverage_weights(plots, geobox)


def test_extract_series__autumn_site_work_of_the_claimed_year_is_planting():
    cube, weights = _autumn_world()
    rows, years = np.array([0, 1]), np.array([2022, 2022])
    _, pixels = extract_series(cube, weights, rows, years, IMG, Evidence())
    share = pixels.set_index("row")["planted_share"]
    assert share.loc[0] > 0.95 and share.loc[1] < 0.05  # autumn browning is no site work
    _, old = extract_series(cube, weights, rows, years, IMG, Evidence(prep_late_months=0))
    assert old.set_index("row")["planted_share"].loc[0] < 0.05  # unseen by the old window

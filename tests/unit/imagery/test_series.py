from __future__ import annotations

from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from odc.geo.geobox import GeoBox

from pipeline.config import Evidence, Imagery
from pipeline.imagery.series import extract_series, prep_windows
from pipeline.imagery.zonal import coverage_weights
from tests.synthetic import UTM, X0, Y0, dn_cube

IMG = Imagery(catalog="x", start=date(2021, 1, 1), end=date(2023, 1, 1))
EV = Evidence()


def _world(seed: int = 0):
    """Two plots planted 2022: A (left) was cleared in Jan–Mar 2022, B (right) never was."""
    times = pd.date_range("2021-01-01", "2022-12-31", freq="10D")
    ny = nx = 20
    doy = times.day_of_year.to_numpy()[:, None, None]
    ndvi = 0.6 + 0.1 * np.sin(2 * np.pi * (doy - 100) / 365) + np.zeros((len(times), ny, nx))
    cleared = (times >= "2022-01-05") & (times <= "2022-03-30")
    ndvi[cleared, :, :10] = 0.15
    cube = dn_cube(ndvi, times, x0=X0, y_top=Y0 + 200, seed=seed)
    cube["scl"][5:9, :, :] = 9  # a cloudy stretch in spring 2021
    geobox = GeoBox.from_bbox((X0, Y0, X0 + 200, Y0 + 200), crs=UTM, resolution=10)
    plots = gpd.GeoSeries(
        [
            shapely.box(X0 + 12.5, Y0 + 20, X0 + 92.5, Y0 + 180),
            shapely.box(X0 + 112.5, Y0 + 20, X0 + 187.5, Y0 + 180),
        ],
        crs=UTM,
    )
    return cube, coverage_weights(plots, geobox)


def test_prep_windows__from_october_before_to_september_and_the_autumn_of_y():
    start, end = prep_windows(np.array([2022, 0]), EV, late=False)
    assert str(start[0]) == "2021-10-01" and str(end[0]) == "2022-10-01"
    assert np.isnat(start[1])
    start, end = prep_windows(np.array([2022]), EV)  # 秋冬造林 of Y: to the end of December
    assert str(start[0]) == "2021-10-01" and str(end[0]) == "2023-01-01"


def test_extract_series__planted_signal_found_and_absent_one_not():
    cube, weights = _world()
    series, pixels = extract_series(
        cube, weights, np.array([10, 11]), np.array([2022, 2022]), IMG, EV
    )
    assert set(series["row"]) == {10, 11}
    assert len(series) == 2 * cube.sizes["time"]
    a = pixels.set_index("row").loc[10]
    b = pixels.set_index("row").loc[11]
    assert a["planted_share"] > 0.95 and b["planted_share"] < 0.05
    assert a["data_share"] == 1.0
    jan = series[(series["row"] == 10) & (series["date"] == np.datetime64("2022-01-16"))]
    assert abs(float(jan["ndvi"].iloc[0]) - 0.15) < 0.03
    cloudy = series[series["date"] == np.datetime64("2021-02-20")]
    assert (cloudy["clear_share"] == 0).all() and cloudy["ndvi"].isna().all()


def test_extract_series__date_chunking_does_not_change_results():
    cube, weights = _world(seed=3)
    rows, years = np.array([0, 1]), np.array([2022, 2022])
    s1, p1 = extract_series(cube, weights, rows, years, IMG, EV, date_chunk=7)
    s2, p2 = extract_series(cube, weights, rows, years, IMG, EV, date_chunk=50)
    pd.testing.assert_frame_equal(s1, s2)
    pd.testing.assert_frame_equal(p1, p2)


def test_extract_series__without_swir_the_ndvi_test_still_finds_planting():
    """A 4-band sensor (GF-1/GF-6 WFV) has no SWIR: BSI is NaN, NDVI alone must do."""
    cube, weights = _world()
    for band in ("swir16", "swir22"):
        cube[band] = cube[band].astype("float32") * np.nan
        cube[band].attrs["missing"] = True
    series, pixels = extract_series(
        cube, weights, np.array([0, 1]), np.array([2022, 2022]), IMG, EV
    )
    shares = pixels.set_index("row")["planted_share"]
    assert shares[0] > 0.95 and shares[1] < 0.05
    assert series["bsi"].isna().all() and series["ndvi"].notna().any()
    assert series["clear_share"].max() == 1.0  # clear means NDVI seen, not every index


def _bare_world(seed: int = 0):
    """Bare hills (荒山) planted 2022 without clearing: A (left) gains evergreen cover in the
    dry seasons after planting, B (right) stays bare; both green up with weeds every summer.
    Forest (top rows) and bare land (bottom rows) around the plots are the references."""
    times = pd.date_range("2020-06-01", "2024-03-31", freq="10D")
    ny, nx = 30, 20
    doy = times.day_of_year.to_numpy()[:, None, None]
    weeds = 0.2 + 0.15 * np.clip(np.sin(2 * np.pi * (doy - 100) / 365), 0, None)
    ndvi = weeds + np.zeros((len(times), ny, nx))
    years = ((times - pd.Timestamp("2022-04-01")).days.to_numpy() / 365.25)[:, None, None]
    ndvi[:, 5:25, :10] += 0.45 * np.clip(years / 2.5, 0, 1)[:, :, :]
    ndvi[:, :5, :] = 0.8  # evergreen forest
    cube = dn_cube(ndvi, times, x0=X0, y_top=Y0 + 300, seed=seed)
    geobox = GeoBox.from_bbox((X0, Y0, X0 + 200, Y0 + 300), crs=UTM, resolution=10)
    plots = gpd.GeoSeries(
        [
            shapely.box(X0 + 10, Y0 + 60, X0 + 90, Y0 + 240),
            shapely.box(X0 + 110, Y0 + 60, X0 + 190, Y0 + 240),
        ],
        crs=UTM,
    )
    return cube, coverage_weights(plots, geobox)


def test_extract_series__establishment_shows_planting_on_bare_land():
    cube, weights = _bare_world()
    img = Imagery(catalog="x", start=date(2020, 6, 1), end=date(2024, 3, 31))
    series, pixels = extract_series(
        cube, weights, np.array([0, 1]), np.array([2022, 2022]), img, EV
    )
    shares = pixels.set_index("row")["planted_share"]
    assert shares[0] > 0.9 and shares[1] < 0.05
    refs = series.drop_duplicates("date")
    assert (refs["ref_forest"] - refs["ref_open"]).median() > 0.4  # forest vs bare around

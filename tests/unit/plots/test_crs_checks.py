"""Coordinates that cannot belong to the declared CRS are explained with the fix."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
import shapely

from pipeline.errors import PlotDataError
from pipeline.plots.crs_checks import (
    check_coordinates,
    diagnose,
    gk_info,
    plain_epsg,
    prefixed_epsg,
)

LON, LAT = 117.6, 26.5


def _xy(epsg: int) -> tuple[float, float]:
    return pyproj.Transformer.from_crs(4490, epsg, always_xy=True).transform(LON, LAT)


def _cause(declared: int, x: float, y: float) -> tuple[str, str]:
    return diagnose(pyproj.CRS.from_epsg(declared), x, y, "plots.")


def test_gk_codes__zones_and_meridians():
    assert gk_info(pyproj.CRS.from_epsg(4527)) == ("gk3", 39, 117.0)
    assert gk_info(pyproj.CRS.from_epsg(4548)) == ("gk3", 0, 117.0)
    assert gk_info(pyproj.CRS.from_epsg(4498)) == ("gk6", 20, 117.0)
    assert gk_info(pyproj.CRS.from_epsg(4490)) is None
    assert prefixed_epsg(39) == 4527 and prefixed_epsg(20) == 4498 and prefixed_epsg(5) is None
    assert plain_epsg("gk3", 117) == 4548 and plain_epsg("gk6", 117) == 4509


@pytest.mark.parametrize(
    "declared,coords,cause,fix",
    [
        (4548, "swap4548", "swapped", "swap_xy: true"),
        (4490, "swap4490", "swapped", "swap_xy: true"),
        (32650, "swap32650", "swapped", "swap_xy: true"),
        (4548, 4527, "zone prefix 39", "EPSG:4527"),
        (4527, 4548, "no zone prefix", "EPSG:4548"),
        (4528, 4527, "zone 39 but", "EPSG:4527"),
        (4527, 4498, "zone 20 but", "EPSG:4498"),
        (4490, 4527, "zone 39", "EPSG:4527"),
        (4490, 4548, "cannot be read", "EPSG:4548 for 117"),
        (4548, 4490, "degrees", "EPSG:4490"),
    ],
)
def test_diagnose__each_mistake_gets_its_fix(declared, coords, cause, fix):
    if isinstance(coords, str):
        y, x = _xy(int(coords[4:]))  # swapped
    else:
        x, y = _xy(coords)
    got_cause, got_fix = _cause(declared, x, y)
    assert cause in got_cause and fix in got_fix


def test_check_coordinates__file_error_or_single_records():
    x, y = _xy(4548)
    good = [shapely.box(x + 100 * k, y, x + 100 * k + 50, y + 50) for k in range(5)]
    bad = shapely.box(y, x, y + 50, x + 50)
    crs = pyproj.CRS.from_epsg(4548)
    mask = check_coordinates(np.array([*good, bad, None]), crs, "a.shp", "plots.")
    assert mask.tolist() == [False] * 5 + [True, False]
    with pytest.raises(PlotDataError, match=r"a\.shp: 5 of 5 records.*swap_xy"):
        check_coordinates(
            np.array([shapely.box(b[1], b[0], b[3], b[2]) for b in map(lambda g: g.bounds, good)]),
            crs, "a.shp", "plots.",
        )  # fmt: skip

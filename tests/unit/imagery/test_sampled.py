"""Masks and indices at sampled cells equal the whole-grid xarray path bit for bit."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from pipeline.config import Imagery
from pipeline.imagery.bands import CUBE_BANDS
from pipeline.imagery.indices import INDEX_NAMES, compute_indices
from pipeline.imagery.masks import mask_clouds
from pipeline.imagery.sampled import sample_indices

IMG = Imagery(catalog="x", start=date(2021, 1, 1), end=date(2022, 1, 1))


def _random_cube(seed: int, attrs_nan_nodata: bool) -> xr.Dataset:
    """A DN cube (time, y, x) with clouds, NaN, nodata zeros, hazy pixels and zero sums."""
    rng = np.random.default_rng(seed)
    nt, ny, nx = 5, 40, 50
    times = pd.date_range("2021-01-01", periods=nt, freq="10D")
    data = {}
    for band in CUBE_BANDS:
        if band == "scl":
            v = rng.choice([4, 5, 6, 9, 3, 8, 0], (nt, ny, nx), p=[0.6, 0.1, 0.1, 0.05,
                                                                   0.05, 0.05, 0.05])  # fmt: skip
        else:
            v = rng.integers(0, 6000, (nt, ny, nx))
        v = v.astype("float32")
        v[rng.random(v.shape) < 0.03] = np.nan
        data[band] = v
    data["blue"][rng.random((nt, ny, nx)) < 0.05] = 3000  # hazy
    data["red"][:, 3, :] = 0  # with nir 0 too: a zero NDVI denominator where not masked
    data["nir"][:, 3, :] = 0
    attrs = {"scale": 1e-4, "offset": 0.0}
    if attrs_nan_nodata:
        attrs["nodata"] = np.nan
    ds = xr.Dataset(
        {b: (("time", "y", "x"), v, dict(attrs)) for b, v in data.items()},
        coords={"time": times},
    )
    ds["scl"].attrs.update(scale=1.0, offset=0.0)
    return ds


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("dilation", [0, 2])
@pytest.mark.parametrize("nan_nodata", [True, False])
def test_sample_indices__equals_mask_clouds_and_compute_indices(seed, dilation, nan_nodata):
    cube = _random_cube(seed, nan_nodata)
    img = IMG.model_copy(update={"mask_dilation": dilation})
    want = compute_indices(mask_clouds(cube, img))
    rng = np.random.default_rng(seed + 10)
    cells = rng.integers(0, 40 * 50, 700)  # repeated cells too, as overlapping plots give
    rows, cols = np.divmod(cells, 50)
    got = sample_indices(cube, rows, cols, img)
    for name in INDEX_NAMES:
        expect = want[name].values[:, rows, cols]
        assert got[name].dtype == np.float32
        np.testing.assert_array_equal(got[name], expect, err_msg=name)
        assert np.isnan(expect).any() and np.isfinite(expect).any()  # both cases present


def test_sample_indices__a_missing_band_masks_nothing():
    cube = _random_cube(3, True)
    cube["swir16"][:] = np.nan
    cube["swir16"].attrs["missing"] = True
    want = compute_indices(mask_clouds(cube, IMG))
    rows, cols = np.divmod(np.arange(40 * 50), 50)
    got = sample_indices(cube, rows, cols, IMG)
    for name in INDEX_NAMES:
        np.testing.assert_array_equal(got[name], want[name].values.reshape(5, -1), name)
    assert np.isfinite(got["ndvi"]).any() and np.isnan(got["ndmi"]).all()

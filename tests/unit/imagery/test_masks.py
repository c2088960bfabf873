from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from pipeline.config import Imagery
from pipeline.imagery.indices import compute_indices, normalized_difference
from pipeline.imagery.masks import mask_clouds
from tests.synthetic import dn_cube

IMG = Imagery(catalog="x", start=date(2021, 1, 1), end=date(2022, 1, 1))


def _cube():
    times = pd.date_range("2021-01-01", periods=2, freq="10D")
    return dn_cube(np.full((2, 3, 3), 0.8), times)


def test_ndvi__zero_denominator_is_nan():
    import xarray as xr

    a = xr.DataArray(np.array([0.0, 0.3]))
    out = normalized_difference(a, a * 0)
    assert np.isnan(out[0]) and out[1] == 1.0


def test_mask_clouds__scl_nodata_and_haze_are_masked():
    raw = _cube()
    raw["scl"][0, 0, 0] = 9  # cloud high probability
    raw["scl"][0, 0, 1] = 3  # cloud shadow
    raw["red"][0, 1, 1] = 0  # nodata
    raw["blue"][1, 2, 2] = 1500  # thin cloud edge that SCL missed: blue 0.15
    refl = mask_clouds(raw, IMG)
    masked = np.isnan(refl["nir"].values)
    assert masked[0, 0, 0] and masked[0, 0, 1] and masked[0, 1, 1] and masked[1, 2, 2]
    assert masked.sum() == 4


def test_compute_indices__recovers_planted_ndvi():
    refl = mask_clouds(_cube(), IMG)
    idx = compute_indices(refl)
    assert np.allclose(idx["ndvi"].values, 0.8, atol=0.02)
    assert set(idx.data_vars) == {"ndvi", "ndmi", "bsi"}
    assert (idx["bsi"].values < 0).all()  # vegetation: negative bare-soil index


def test_mask_clouds__is_lazy_on_dask_input():
    raw = _cube().chunk({"time": 1})
    out = compute_indices(mask_clouds(raw, IMG))
    assert out["ndvi"].chunks is not None

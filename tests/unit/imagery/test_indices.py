from __future__ import annotations

import numpy as np
import xarray as xr

from pipeline.imagery.bands import S2_CODES
from pipeline.imagery.indices import (
    INDICES,
    compute_index,
    compute_indices,
    evalscript_bands,
    evalscript_terms,
)


def _refl(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {b: rng.uniform(0.01, 0.5, 50) for b in S2_CODES if b != "scl"}


def test_compute_index__numpy_and_xarray_agree():
    refl = _refl()
    ds = xr.Dataset({b: ("x", v) for b, v in refl.items()})
    out = compute_indices(ds)
    for index in INDICES:
        np.testing.assert_allclose(out[index.name].values, compute_index(index, refl), rtol=1e-6)


def test_compute_index__zero_denominator_is_nan_on_both_paths():
    zero = {b: np.zeros(3) for b in S2_CODES}
    for index in INDICES:
        assert np.isnan(compute_index(index, zero)).all()
    ds = xr.Dataset({b: ("x", v) for b, v in zero.items()})
    assert compute_indices(ds).to_array().isnull().all()


def test_compute_index__ndvi_of_planted_canopy():
    ndvi = next(i for i in INDICES if i.name == "ndvi")
    value = compute_index(ndvi, {"nir": np.array([0.3]), "red": np.array([0.03])})
    np.testing.assert_allclose(value, 0.27 / 0.33, rtol=1e-6)


def test_evalscript_terms__same_formulas_in_sentinel_hub_band_codes():
    terms = evalscript_terms()
    assert terms.count("nd(") == len(INDICES)
    assert "nd(s.B08, s.B04)" in terms and "nd(s.B11 + s.B04, s.B08 + s.B02)" in terms
    assert set(evalscript_bands()) == {"B02", "B04", "B08", "B11"}

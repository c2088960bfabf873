"""Cloud masking and indices at chosen cells of a cube chunk, in numpy.

:func:`sample_indices` gives, at the cells asked (the plot–cell pairs and the reference
cells), exactly what :func:`~pipeline.imagery.masks.mask_clouds` followed by
:func:`~pipeline.imagery.indices.compute_indices` gives on the whole grid: the same float32
operations in the same order on the same values, elementwise, so the same bits (tested). The
arithmetic runs on the sampled cells only (plots cover a fraction of a tile), with no xarray
and no float64 temporaries; only the SCL dilation, when asked, needs the whole grid.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from pipeline.config import Imagery
from pipeline.imagery.bands import REFLECTANCE_BANDS
from pipeline.imagery.harmonize import dilate_array
from pipeline.imagery.indices import INDICES
from pipeline.imagery.masks import HAZE_RED_WEIGHT


def sample_indices(
    chunk: xr.Dataset, rows: np.ndarray, cols: np.ndarray, imagery: Imagery
) -> dict[str, np.ndarray]:
    """Every index of :data:`~pipeline.imagery.indices.INDICES` at cells (``rows``, ``cols``)
    of ``chunk`` (DN cube, dims time, y, x, with ``scl``): name -> (time, cells) float32,
    NaN where masked or where the denominator is zero."""
    scl_grid = chunk["scl"].values
    scl = scl_grid[:, rows, cols]
    classes = list(imagery.scl_mask_classes)
    if imagery.mask_dilation > 0:
        bad = dilate_array(np.isin(scl_grid, classes), imagery.mask_dilation)[:, rows, cols]
    else:
        bad = np.isin(scl, classes)
    bad |= np.isnan(scl)
    needed = {b for i in INDICES for b in i.bands} | {"blue", "red"}
    refl: dict[str, np.ndarray] = {}
    for band in REFLECTANCE_BANDS:
        var = chunk[band]
        dn = var.values[:, rows, cols]
        if var.attrs.get("missing"):  # a band this sensor lacks masks nothing
            refl[band] = dn.astype("float32")
            continue
        scale = var.attrs.get("scale", imagery.scale)
        offset = var.attrs.get("offset", imagery.offset)
        nodata = var.attrs.get("nodata", imagery.nodata)
        if dn.dtype.kind == "f":
            bad |= np.isnan(dn)
        if nodata is not None and not (isinstance(nodata, float) and np.isnan(nodata)):
            bad |= dn == nodata
        if band in needed:
            out = dn.astype("float32")  # a copy (the gather already is one when float32)
            out *= np.float32(scale)
            out += np.float32(offset)
            refl[band] = out
    if imagery.haze_max is not None:
        bad |= (refl["blue"] - HAZE_RED_WEIGHT * refl["red"]) > imagery.haze_max
    result = {}
    for index in INDICES:
        a = _band_sum(refl, index.plus)
        b = _band_sum(refl, index.minus)
        den = a + b
        num = a - b
        with np.errstate(invalid="ignore", divide="ignore"):
            np.divide(num, den, out=num)
        num[(den == 0) | bad] = np.nan
        result[index.name] = num
    return result


def _band_sum(refl: dict[str, np.ndarray], names: tuple[str, ...]) -> np.ndarray:
    """``sum(refl[b] for b in names)`` as :func:`~pipeline.imagery.indices.compute_index`
    adds them (left to right, float32), into a new array."""
    out = refl[names[0]].copy()
    for name in names[1:]:
        out += refl[name]
    return out

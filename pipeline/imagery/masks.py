"""Cloud masking: a pure function on (lazy) xarray cubes (indices: :mod:`~.indices`)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from pipeline.config import Imagery
from pipeline.imagery.bands import REFLECTANCE_BANDS
from pipeline.imagery.harmonize import dilate_mask

#: The haze test: blue − HAZE_RED_WEIGHT · red > ``imagery.haze_max`` (reflectance).
HAZE_RED_WEIGHT = 0.5


def mask_clouds(raw: xr.Dataset, imagery: Imagery) -> xr.Dataset:
    """Reflectance (float32, 0–1) with NaN wherever the pixel is nodata, masked by SCL, or hazy.

    ``raw`` holds digital numbers per band (dims ``time, y, x``) plus ``scl``; a variable's
    ``scale`` / ``offset`` / ``nodata`` attrs (set by the sources) override the settings, and NaN
    is always nodata. The SCL mask is grown by ``mask_dilation`` pixels. The haze test
    (blue − 0.5·red > ``haze_max``) catches thin cloud edges that SCL misses.
    """
    scl = raw["scl"]
    bad = dilate_mask(scl.isin(list(imagery.scl_mask_classes)), imagery.mask_dilation)
    bad = bad | scl.isnull()
    out = {}
    for band in REFLECTANCE_BANDS:
        dn = raw[band]
        scale = dn.attrs.get("scale", imagery.scale)
        offset = dn.attrs.get("offset", imagery.offset)
        nodata = dn.attrs.get("nodata", imagery.nodata)
        if dn.attrs.get("missing"):  # a band this sensor lacks masks nothing
            out[band] = dn.astype("float32")
            continue
        bad = bad | dn.isnull() if dn.dtype.kind == "f" else bad
        if nodata is not None and not (isinstance(nodata, float) and np.isnan(nodata)):
            bad = bad | (dn == nodata)
        out[band] = (dn.astype("float32") * np.float32(scale)) + np.float32(offset)
    if imagery.haze_max is not None:
        bad = bad | ((out["blue"] - HAZE_RED_WEIGHT * out["red"]) > imagery.haze_max)
    return xr.Dataset({b: v.where(~bad) for b, v in out.items()}, attrs=raw.attrs)

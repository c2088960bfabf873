"""Harmonisation of scenes from any source to one cube convention: pure functions.

The cube convention: float32 digital numbers per band (dims ``y, x`` per date), NaN where there
is no data, and one cube-wide ``reflectance = DN * scale + offset``. Each scene's own scale and
offset (raster metadata, the local-files description, or the Sentinel-2 BOA offset of
processing baseline >= 04.00) are folded into the DNs here, so series never jump between
scenes of different baselines or sensors.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr
from scipy import ndimage

#: First Sentinel-2 processing baseline with the −1000 DN offset (in force since 2022-01-25).
OFFSET_BASELINE = (4, 0)
BOA_ADD_OFFSET_DN = -1000.0
_BASELINE_KEYS = ("s2:processing_baseline", "processing:version", "processing_baseline")
_APPLIED_KEYS = ("earthsearch:boa_offset_applied", "tushu:boa_offset_applied")


@dataclass(frozen=True)
class Scaling:
    """``reflectance = DN * scale + offset`` of one band of one scene; ``nodata`` in its DNs."""

    scale: float
    offset: float
    nodata: float | None


def processing_baseline(props: Mapping[str, Any]) -> tuple[int, int] | None:
    """The Sentinel-2 processing baseline of an item's properties, e.g. ``(5, 10)``."""
    for key in _BASELINE_KEYS:
        value = props.get(key)
        if value is None:
            continue
        try:
            major, _, minor = str(value).partition(".")
            return int(major), int(minor or 0)
        except ValueError:
            return None
    return None


def needs_boa_offset(props: Mapping[str, Any]) -> bool:
    """True when the item's DNs still carry the +1000 of baseline >= 04.00 (not harmonised)."""
    if any(props.get(k) is True for k in _APPLIED_KEYS):
        return False
    baseline = processing_baseline(props)
    return baseline is not None and baseline >= OFFSET_BASELINE


def scene_scaling(
    props: Mapping[str, Any],
    raster_band: Mapping[str, Any] | None,
    default: Scaling,
    harmonize: bool,
    is_reflectance: bool,
) -> Scaling:
    """Scale / offset / nodata of one band of one item.

    ``raster_band``: the asset's ``raster:bands[0]`` (may be None). A declared non-zero offset
    is trusted as the full conversion (the catalog harmonised it); otherwise the BOA offset is
    added for baseline >= 04.00 items not flagged as harmonised (when ``harmonize``).
    Masks / class bands (``is_reflectance=False``) keep scale 1, offset 0.
    """
    rb = dict(raster_band or {})
    nodata = rb.get("nodata", default.nodata)
    if not is_reflectance:
        return Scaling(1.0, 0.0, nodata)
    scale = float(rb.get("scale") or default.scale)
    declared = rb.get("offset")
    offset = float(declared) if declared is not None else default.offset
    if harmonize and not declared and needs_boa_offset(props):
        offset += BOA_ADD_OFFSET_DN * scale
    return Scaling(scale, offset, nodata)


def to_cube_dn(data: np.ndarray, own: Scaling, cube: Scaling) -> np.ndarray:
    """Convert a scene band's DNs to the cube's convention (float32, NaN for nodata).

    ``data``: any numeric array, dims (y, x). ``cube.nodata`` is ignored (always NaN).
    """
    out = data.astype("float32", copy=True)
    bad = ~np.isfinite(out)
    if own.nodata is not None and np.isfinite(own.nodata):
        bad |= data == own.nodata
    if own.scale != cube.scale or own.offset != cube.offset:
        refl = out * np.float32(own.scale) + np.float32(own.offset)
        out = (refl - np.float32(cube.offset)) / np.float32(cube.scale)
    out[bad] = np.nan
    return out


def dilate_mask(bad: xr.DataArray, pixels: int) -> xr.DataArray:
    """Grow a boolean mask (dims ``time, y, x``, lazily per date chunk) by ``pixels`` cells."""
    if pixels <= 0:
        return bad
    if bad.chunks is None:
        return bad.copy(data=dilate_array(bad.values, pixels))
    grow = functools.partial(dilate_array, pixels=pixels)
    data = bad.data.rechunk({1: -1, 2: -1}).map_blocks(grow, dtype=bool)
    return bad.copy(data=data)


def dilate_array(bad: np.ndarray, pixels: int) -> np.ndarray:
    """:func:`dilate_mask` of a numpy mask (time, y, x): never across dates."""
    if pixels <= 0:
        return bad
    structure = ndimage.generate_binary_structure(3, 1)
    structure[0] = structure[2] = False  # never across dates
    return ndimage.binary_dilation(bad, structure=structure, iterations=pixels)

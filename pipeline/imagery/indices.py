"""The vegetation indices: one definition each, evaluated on numpy, xarray or by Sentinel Hub.

Every index is a normalised difference of band sums, ``(Σ plus − Σ minus) / (Σ plus + Σ minus)``
on surface reflectance (0–1), NaN where the denominator is zero — on every path: the raster
path (:func:`compute_indices`), the Statistical API evalscript (:func:`evalscript_terms`) and
the stand-in server that plays Sentinel Hub in tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from pipeline.imagery.bands import S2_CODES


@dataclass(frozen=True)
class NormalizedDifference:
    """``(Σ plus − Σ minus) / (Σ plus + Σ minus)`` of the named bands."""

    name: str
    plus: tuple[str, ...]
    minus: tuple[str, ...]
    meaning: str

    @property
    def bands(self) -> tuple[str, ...]:
        return self.plus + self.minus


INDICES: tuple[NormalizedDifference, ...] = (
    NormalizedDifference("ndvi", ("nir",), ("red",), "green vegetation"),
    NormalizedDifference("ndmi", ("nir",), ("swir16",), "canopy moisture"),
    NormalizedDifference("bsi", ("swir16", "red"), ("nir", "blue"), "bare soil"),
)
INDEX_NAMES: tuple[str, ...] = tuple(i.name for i in INDICES)


def normalized_difference(a: Any, b: Any) -> Any:
    """(a − b) / (a + b), NaN where the denominator is zero (numpy or xarray, float32)."""
    den = a + b
    if isinstance(den, xr.DataArray):
        return ((a - b) / den.where(den != 0)).astype("float32")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den == 0, np.nan, (a - b) / den).astype("float32")


def compute_index(index: NormalizedDifference, refl: Mapping[str, Any]) -> Any:
    """One index from reflectance arrays keyed by common band name (same dims in and out)."""
    return normalized_difference(
        sum(refl[b] for b in index.plus), sum(refl[b] for b in index.minus)
    )


def compute_indices(refl: xr.Dataset) -> xr.Dataset:
    """Every index of :data:`INDICES` from masked reflectance (dims kept, float32)."""
    return xr.Dataset({i.name: compute_index(i, refl) for i in INDICES})


def evalscript_terms() -> str:
    """The JavaScript array of index expressions for a Sentinel Hub evalscript whose pixel
    argument is ``s`` and which defines ``nd(a, b)`` (see :data:`EVALSCRIPT_ND`)."""

    def side(names: tuple[str, ...]) -> str:
        return " + ".join(f"s.{S2_CODES[b]}" for b in names)

    return "[" + ", ".join(f"nd({side(i.plus)}, {side(i.minus)})" for i in INDICES) + "]"


#: The JavaScript ``nd`` the evalscript terms call: NaN where the denominator is zero.
EVALSCRIPT_ND = "function nd(a, b) { return (a + b) == 0 ? NaN : (a - b) / (a + b); }"


def evalscript_bands() -> list[str]:
    """Sentinel-2 band codes the index terms read."""
    names = dict.fromkeys(b for i in INDICES for b in i.bands)
    return [S2_CODES[b] for b in names]

"""The bands Tushu reads: common names, Sentinel-2 codes, wavelengths and resolutions.

Every source, the demo world, the stand-in server and the docs take band names from here.
Cube order is the order of :data:`BANDS`; ``scl`` is the scene-classification (cloud) band.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Band:
    """One band: common (STAC eo) name, Sentinel-2 code, centre wavelength (µm), pixel (m)."""

    name: str
    s2_code: str
    wavelength_um: float | None
    resolution_m: int


BANDS: tuple[Band, ...] = (
    Band("blue", "B02", 0.49, 10),
    Band("green", "B03", 0.56, 10),
    Band("red", "B04", 0.665, 10),
    Band("nir", "B08", 0.842, 10),
    Band("swir16", "B11", 1.61, 20),
    Band("swir22", "B12", 2.19, 20),
    Band("scl", "SCL", None, 20),
)
CLASS_BAND = "scl"
#: Common band names in cube order (reflectance bands, then ``scl``).
CUBE_BANDS: tuple[str, ...] = tuple(b.name for b in BANDS)
REFLECTANCE_BANDS: tuple[str, ...] = tuple(b.name for b in BANDS if b.name != CLASS_BAND)
#: common name -> Sentinel-2 band code (the asset keys of some catalogs, Sentinel Hub inputs).
S2_CODES: dict[str, str] = {b.name: b.s2_code for b in BANDS}
BY_NAME: dict[str, Band] = {b.name: b for b in BANDS}

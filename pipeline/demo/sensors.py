"""A 4-band sensor without SWIR (GF-1 / GF-6 WFV-like): 16 m scenes and a cloud mask written as
a local-files folder that ``pipeline.imagery.sources.local`` reads through its ``scenes.yaml``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import rasterio
from rasterio.warp import Resampling, reproject

from pipeline.demo.grid import CRS_UTM, Grid
from pipeline.demo.scenes import Scene

WFV_PIXEL_M = 16.0
WFV_BANDS = ("blue", "green", "red", "nir")
#: Cloud-mask codes (0 = no data); resampled with ``max``, so a 16 m pixel takes its worst case.
MASK_CLEAR, MASK_SNOW, MASK_SHADOW, MASK_CLOUD = 1, 2, 3, 4
MASKED_CLASSES = (MASK_SNOW, MASK_SHADOW, MASK_CLOUD)
SCENE_PATTERN = "GFW_{date:%Y%m%d}.tif"
MASK_PATTERN = "GFW_{date:%Y%m%d}_cloud.tif"
_COG = {"driver": "COG", "compress": "DEFLATE", "predictor": 2, "blocksize": 256}


def _wfv_grid(grid: Grid) -> tuple[tuple[int, int], rasterio.Affine]:
    """Shape and transform of the 16 m grid covering the 10 m world grid."""
    rows = int(np.ceil(grid.rows * grid.pixel / WFV_PIXEL_M))
    cols = int(np.ceil(grid.cols * grid.pixel / WFV_PIXEL_M))
    return (rows, cols), rasterio.Affine(WFV_PIXEL_M, 0, grid.x0, 0, -WFV_PIXEL_M, grid.y_top)


def encode_mask(scl: np.ndarray) -> np.ndarray:
    """Binary-style cloud mask from SCL codes (0 no data, 1 clear, 2 snow, 3 shadow, 4 cloud);
    dims as scl, uint8."""
    out = np.full(scl.shape, MASK_CLEAR, np.uint8)
    out[scl == 11] = MASK_SNOW
    out[scl == 3] = MASK_SHADOW
    out[np.isin(scl, (8, 9, 10))] = MASK_CLOUD
    out[scl == 0] = 0
    return out


def _resample(src: np.ndarray, grid: Grid, resampling: Resampling) -> np.ndarray:
    """One 10 m band (nodata 0) on the 16 m grid, same dtype; dims (rows16, cols16)."""
    shape, transform = _wfv_grid(grid)
    dst = np.zeros(shape, src.dtype)
    reproject(
        src,
        dst,
        src_transform=grid.transform,
        src_crs=CRS_UTM,
        src_nodata=0,
        dst_transform=transform,
        dst_crs=CRS_UTM,
        dst_nodata=0,
        resampling=resampling,
    )
    return dst


def write_wfv_scene(folder: Path, date: dt.date, scene: Scene, grid: Grid) -> dict[str, Path]:
    """Write one 4-band 16 m scene (uint16 reflectance × 10000, nodata 0) and its cloud mask."""
    folder.mkdir(parents=True, exist_ok=True)
    shape, transform = _wfv_grid(grid)
    bands = np.stack([_resample(b, grid, Resampling.average) for b in scene.bands10])
    mask = _resample(encode_mask(scene.scl10), grid, Resampling.max)
    mask[(bands == 0).any(axis=0)] = 0
    bands[:, mask == 0] = 0
    profile = dict(height=shape[0], width=shape[1], crs=CRS_UTM, transform=transform, nodata=0)
    paths = {
        "data": folder / SCENE_PATTERN.replace("{date:%Y%m%d}", f"{date:%Y%m%d}"),
        "mask": folder / MASK_PATTERN.replace("{date:%Y%m%d}", f"{date:%Y%m%d}"),
    }
    with rasterio.open(paths["data"], "w", count=4, dtype="uint16", **profile, **_COG) as ds:
        ds.write(bands)
        ds.descriptions = WFV_BANDS
    with rasterio.open(paths["mask"], "w", count=1, dtype="uint8", **profile, **_COG) as ds:
        ds.write(mask, 1)
    return paths


def write_wfv_description(folder: Path) -> Path:
    """The folder's ``scenes.yaml`` (local-files source description)."""
    classes = ", ".join(str(c) for c in MASKED_CLASSES)
    text = (
        "# Synthetic GF-1 / GF-6 WFV-like scenes of a Tushu demo world: 4 bands, no SWIR, 16 m\n"
        "sensor: GFW-demo\n"
        f'pattern: "{SCENE_PATTERN}"\n'
        f"bands: [{', '.join(WFV_BANDS)}]\n"
        "scale: 0.0001\n"
        "nodata: 0\n"
        f'mask: {{file: "{MASK_PATTERN}", classes: [{classes}]}}\n'
    )
    path = folder / "scenes.yaml"
    path.write_text(text, encoding="utf-8")
    return path

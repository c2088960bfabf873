"""The decode floor: the time it takes just to decode every band of every scene once."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import rasterio


def decode_files(paths: Iterable[Path | str]) -> tuple[float, int]:
    """Open and fully decode every band of every file once (GDAL, one thread).

    Returns (seconds, pixels decoded). This is the least any run over the same imagery
    must do, whatever its design.
    """
    t0 = time.perf_counter()
    n = 0
    with rasterio.Env(GDAL_NUM_THREADS="1"):
        for p in paths:
            with rasterio.open(p) as ds:
                arr = ds.read()
                n += int(np.prod(arr.shape))
    return time.perf_counter() - t0, n


def catalog_files(catalog_dir: Path) -> list[Path]:
    """Every GeoTIFF under a (demo world's) static STAC catalog folder."""
    return sorted(Path(catalog_dir).rglob("*.tif"))


def floor_of(paths: list[Path], repeat: int = 2) -> dict:
    """The decode floor (best of ``repeat``; the first pass also warms the page cache)."""
    runs = [decode_files(paths) for _ in range(repeat)]
    best = min(r[0] for r in runs)
    return {"seconds": round(best, 3), "files": len(paths), "megapixels": runs[0][1] / 1e6}


def load_average() -> float:
    """The 1-minute load average (recorded beside every figure)."""
    return round(os.getloadavg()[0], 2)

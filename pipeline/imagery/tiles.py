"""Split the plots' area into tiles so that imagery is loaded and processed tile by tile."""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np


@dataclass(frozen=True)
class Tile:
    """A tile: its id and the grid-aligned box (in the imagery CRS, metres) its plots need."""

    tile_id: str
    bbox: tuple[float, float, float, float]
    n_plots: int


def plan_tiles(
    geoms: gpd.GeoSeries, tile_size: float, resolution: float, margin: float = 30.0
) -> tuple[np.ndarray, list[Tile]]:
    """Assign each plot to the tile holding its representative point.

    ``geoms`` are in the imagery CRS. Returns the tile id per row (``""`` for rows without a
    geometry) and the tiles, each with the snapped bounds of its plots plus ``margin``.
    """
    has = ~(geoms.isna() | geoms.is_empty).to_numpy()
    ids = np.full(len(geoms), "", dtype=object)
    if not has.any():
        return ids, []
    pts = geoms[has].representative_point()
    col = np.floor(pts.x.to_numpy() / tile_size).astype(np.int64)
    row = np.floor(pts.y.to_numpy() / tile_size).astype(np.int64)
    ids[has] = [f"r{r}c{c}".replace("-", "m") for r, c in zip(row, col, strict=True)]
    bounds = geoms.bounds.to_numpy()
    tiles = []
    for tid in sorted(set(ids[has])):
        sel = ids == tid
        b = bounds[sel]
        box = (
            _snap(b[:, 0].min() - margin, resolution, math.floor),
            _snap(b[:, 1].min() - margin, resolution, math.floor),
            _snap(b[:, 2].max() + margin, resolution, math.ceil),
            _snap(b[:, 3].max() + margin, resolution, math.ceil),
        )
        tiles.append(Tile(tile_id=tid, bbox=box, n_plots=int(sel.sum())))
    return ids, tiles


def _snap(value: float, step: float, fn) -> float:
    return float(fn(value / step) * step)

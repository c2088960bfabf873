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


def group_tiles(
    tiles: list[Tile], resolution: float, job_pixels: int, min_jobs: int = 1
) -> list[list[Tile]]:
    """Split the tiles (in plan order) into contiguous runs, one per job.

    A job costs a process start (~1–2 s: Python, the plot table, the scene list) before any
    pixel is read, so small tiles go together: as many jobs as ``job_pixels`` per job asks,
    at least ``min_jobs`` (one per core) when there are enough tiles, balanced by pixel count.
    Contiguous runs keep the plan's order, so the merged outputs are in the same order.
    """
    if not tiles:
        return []
    px = np.array([_pixels(t, resolution) for t in tiles], dtype=float)
    n_jobs = max(math.ceil(px.sum() / max(job_pixels, 1)), min(min_jobs, len(tiles)))
    n_jobs = min(n_jobs, len(tiles))
    # cut where the running pixel sum crosses each k / n_jobs share (never an empty job)
    cum = np.cumsum(px) - px / 2
    cuts = np.floor(cum / px.sum() * n_jobs).astype(int)
    groups: list[list[Tile]] = []
    last = None
    for tile, cut in zip(tiles, cuts, strict=True):
        if cut != last:
            groups.append([])
            last = cut
        groups[-1].append(tile)
    return groups


def job_id_of(group: list[Tile]) -> str:
    """A job's id: its tile's id when alone, else ``<first tile>+<number of others>``."""
    return group[0].tile_id if len(group) == 1 else f"{group[0].tile_id}+{len(group) - 1}"


def _pixels(tile: Tile, resolution: float) -> float:
    x0, y0, x1, y1 = tile.bbox
    return (x1 - x0) / resolution * (y1 - y0) / resolution

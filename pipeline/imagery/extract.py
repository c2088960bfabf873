"""One tile's imagery reduced to per-plot series and site-preparation shares, from any source.

A :class:`~pipeline.imagery.sources.CubeSource` gives a (time, y, x) cube, read and masked,
turned into indices and reduced per plot date chunk by date chunk; a
:class:`~pipeline.imagery.sources.SeriesSource` answers the per-plot series itself. Both give
the same two tables, so the tile step never asks which kind of source it has.
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
import pystac
from odc.geo.geobox import GeoBox

from pipeline.config import Imagery, PrepSettings, RetryOptions
from pipeline.imagery.cache import FetchReport, PieceCache
from pipeline.imagery.cube import group_by_day, iter_chunks, shares_reads
from pipeline.imagery.series import ChunkReducer
from pipeline.imagery.sources import CubeSource, SeriesSource
from pipeline.imagery.zonal import coverage_weights


@dataclass(frozen=True)
class TileSeries:
    """What a tile yields: ``series`` (row, date, ndvi, ndmi, bsi, clear_share), ``pixels``
    (row, n_pixels, data_share, planted_share) and the number of dates read."""

    series: pd.DataFrame
    pixels: pd.DataFrame
    n_dates: int


def extract_tile(
    source: CubeSource | SeriesSource,
    plots: gpd.GeoDataFrame,
    items: list[pystac.Item],
    geobox: GeoBox,
    imagery: Imagery,
    prep: PrepSettings,
    cache: PieceCache,
    report: FetchReport,
    date_chunk: int = 12,
    retry: RetryOptions | None = None,
    executor: Executor | None = None,
) -> TileSeries:
    """Series and planted shares of the tile's ``plots`` (need ``row``, ``planting_year``,
    geometry) over ``items``; ``geobox`` is the tile's grid (cube sources only). The cube is
    read ``date_chunk`` dates at a time, by ``executor`` when given (threads or a dask
    cluster; see :mod:`pipeline.imagery.compute`)."""
    parts = [(plots, geobox)]
    return extract_tiles(source, parts, items, imagery, prep, cache, report, date_chunk, retry,
                         executor)[0]  # fmt: skip


def extract_tiles(
    source: CubeSource | SeriesSource,
    parts: list[tuple[gpd.GeoDataFrame, GeoBox]],
    items: list[pystac.Item],
    imagery: Imagery,
    prep: PrepSettings,
    cache: PieceCache,
    report: FetchReport,
    date_chunk: int = 12,
    retry: RetryOptions | None = None,
    executor: Executor | None = None,
) -> list[TileSeries]:
    """:func:`extract_tile` for several tiles (plots, grid) of one job, reading each scene's
    window once for all of them when that cannot change a value: the tiles' grids are one
    grid (same CRS and pixel size, as planned) and every scene is in that CRS, so a window
    read is a paste or a purely affine resampling (see :func:`shares_reads`). Each tile then
    takes its slice of the shared window, masked and reduced exactly as on its own."""
    if isinstance(source, SeriesSource):
        out = []
        for plots, _ in parts:
            series, pixels = source.read_series(plots, items, cache, report, prep)
            n = int(series["date"].nunique()) if len(series) else 0
            out.append(TileSeries(series, pixels, n))
        return out
    shared = len(parts) > 1 and shares_reads(source, items, parts[0][1].crs)
    groups = [list(range(len(parts)))] if shared else [[k] for k in range(len(parts))]
    n_dates = len(group_by_day(items))
    out: list[TileSeries | None] = [None] * len(parts)
    for group in groups:
        window = union_geobox([parts[k][1] for k in group]) if shared else parts[group[0]][1]
        reducers = {}
        for k in group:
            plots, geobox = parts[k]
            geoms = plots.geometry.to_crs(geobox.crs).reset_index(drop=True)
            years = plots["planting_year"].fillna(0).to_numpy(dtype=int)
            reducers[k] = ChunkReducer(coverage_weights(geoms, geobox), plots["row"].to_numpy(),
                                       years, imagery, prep)  # fmt: skip
        cuts = {k: window_slices(window, parts[k][1]) for k in group}
        chunks = iter_chunks(items, imagery, window, source=source, cache=cache, report=report,
                             date_chunk=date_chunk, retry=retry or RetryOptions(),
                             executor=executor)  # fmt: skip
        for chunk in chunks:
            for k in group:
                ys, xs = cuts[k]
                reducers[k].add(chunk.isel(y=ys, x=xs) if shared else chunk)
        for k in group:
            out[k] = TileSeries(*reducers[k].result(), n_dates)
    return out


def union_geobox(geoboxes: list[GeoBox]) -> GeoBox:
    """The grid box covering several boxes of one grid (same CRS, resolution and alignment)."""
    first = geoboxes[0]
    x0 = min(g.extent.boundingbox.left for g in geoboxes)
    y0 = min(g.extent.boundingbox.bottom for g in geoboxes)
    x1 = max(g.extent.boundingbox.right for g in geoboxes)
    y1 = max(g.extent.boundingbox.top for g in geoboxes)
    return GeoBox.from_bbox((x0, y0, x1, y1), crs=first.crs, resolution=first.resolution)


def window_slices(window: GeoBox, part: GeoBox) -> tuple[slice, slice]:
    """(rows, cols) of ``part`` inside ``window`` (both on one grid)."""
    res = window.resolution.x
    col = round((part.affine.c - window.affine.c) / res)
    row = round((window.affine.f - part.affine.f) / res)
    ny, nx = part.shape
    if col < 0 or row < 0 or row + ny > window.shape[0] or col + nx > window.shape[1]:
        raise ValueError("tile grid is not inside the shared window")
    return slice(row, row + ny), slice(col, col + nx)


def read_groups(
    geoboxes: list[GeoBox], max_pixels: int, max_spread: float = 2.0
) -> list[list[int]]:
    """Consecutive tiles (indices) whose union window is at most ``max_spread`` times their own
    pixels and at most ``max_pixels``: they share reads; a far-away tile starts a new group."""
    groups: list[list[int]] = []
    for i in range(len(geoboxes)):
        if groups:
            cand = groups[-1] + [i]
            union = union_geobox([geoboxes[k] for k in cand])
            own = sum(geoboxes[k].shape[0] * geoboxes[k].shape[1] for k in cand)
            px = union.shape[0] * union.shape[1]
            if px <= max_spread * own and px <= max_pixels:
                groups[-1] = cand
                continue
        groups.append([i])
    return groups

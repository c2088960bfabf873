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
from pipeline.imagery.cube import group_by_day, iter_chunks
from pipeline.imagery.series import reduce_chunks
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
    if isinstance(source, SeriesSource):
        series, pixels = source.read_series(plots, items, cache, report, prep)
        return TileSeries(series, pixels, int(series["date"].nunique()) if len(series) else 0)
    n_dates = len(group_by_day(items))
    chunks = iter_chunks(
        items,
        imagery,
        geobox,
        source=source,
        cache=cache,
        report=report,
        date_chunk=date_chunk,
        retry=retry or RetryOptions(),
        executor=executor,
    )
    weights = coverage_weights(plots.geometry.to_crs(geobox.crs).reset_index(drop=True), geobox)
    years = plots["planting_year"].fillna(0).to_numpy(dtype=int)
    series, pixels = reduce_chunks(chunks, weights, plots["row"].to_numpy(), years, imagery, prep)
    return TileSeries(series, pixels, n_dates)

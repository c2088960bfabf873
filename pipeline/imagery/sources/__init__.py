"""The two imagery source protocols and :func:`open_source`, which picks one from the config.

Every source finds the scenes (as STAC items, whatever the source, so the run records what it
used). A :class:`CubeSource` then reads one date of them onto a grid, harmonised to the cube
convention of :mod:`pipeline.imagery.harmonize`; :func:`pipeline.imagery.cube.load_cube` builds
the same lazy (time, y, x) cube from any of them, with caching, retries and skipping. A
:class:`SeriesSource` (the Sentinel Hub Statistical API) answers per-plot series directly.
:func:`pipeline.imagery.extract.extract_tile` takes either; no step asks which source it has.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np
import pystac
from odc.geo.geobox import GeoBox

from pipeline.config import Imagery, RetryOptions, SeriesPrepSettings
from pipeline.errors import ImageryError

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from pipeline.imagery.cache import FetchReport, PieceCache


class FatalSourceError(ImageryError):
    """A fault no retry fixes (bad credentials, exhausted quota): stop the run, name the fix."""


class ImagerySource(Protocol):
    """What every imagery source offers: finding scenes."""

    #: identifies the source in cache keys (endpoint, collection; never credentials)
    name: str
    #: True when reading means downloading (the cache is on by default then)
    remote: bool

    def find_items(
        self, bbox_lonlat: tuple[float, float, float, float], start: date, end: date
    ) -> list[pystac.Item]:
        """Scenes intersecting the box (WGS 84) in [start, end], sorted by time."""
        ...


@runtime_checkable
class SeriesSource(ImagerySource, Protocol):
    """A source that answers per-plot series (no cube to reduce per pixel)."""

    def read_series(
        self,
        plots: gpd.GeoDataFrame,
        items: list[pystac.Item],
        cache: PieceCache,
        report: FetchReport,
        prep: SeriesPrepSettings,
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Series (row, date, ndvi, ndmi, bsi, clear_share) and per-plot shares (row,
        n_pixels, data_share, planted_share) of the plots, as the cube path makes them."""
        ...


class CubeSource(ImagerySource, Protocol):
    """A source of rasters: one date of scenes at a time, on the tile's grid."""

    def read_date(self, items: list[pystac.Item], geobox: GeoBox) -> np.ndarray:
        """One date's scenes fused on ``geobox``: float32 (band, y, x) in ``bands.CUBE_BANDS``
        order, cube-convention DNs (``reflectance = DN * imagery.scale + imagery.offset``),
        NaN where no scene has data."""
        ...


@dataclass(frozen=True)
class SourceKind:
    """Where a source named in ``imagery.source`` lives, and whether it gives per-plot series."""

    module: str
    cls: str
    series: bool = False


#: ``imagery.source`` -> its implementation (imported only when used).
SOURCE_KINDS: dict[str, SourceKind] = {
    "stac": SourceKind("pipeline.imagery.sources.stac", "StacSource"),
    "sentinelhub": SourceKind("pipeline.imagery.sources.sentinelhub", "SentinelHubSource"),
    "sentinelhub-statistical": SourceKind(
        "pipeline.imagery.sources.statistical", "StatisticalSource", series=True
    ),
    "local": SourceKind("pipeline.imagery.sources.local", "LocalSource"),
}


def open_source(imagery: Imagery, retry: RetryOptions | None = None) -> CubeSource | SeriesSource:
    """The source ``imagery.source`` names, configured from its sub-section; ``retry`` is the
    run's retry policy (``run.retry``)."""
    kind = SOURCE_KINDS.get(imagery.source)
    if kind is None:
        raise ImageryError(
            f"unknown imagery.source {imagery.source!r}; use one of {', '.join(SOURCE_KINDS)}"
        )
    return getattr(importlib.import_module(kind.module), kind.cls)(imagery, retry)


def no_scene_error(where: str, bbox, imagery: Imagery) -> ImageryError:
    """The error for 'nothing covers the plots in the period', naming the settings to check."""
    return ImageryError(
        f"no imagery scene in {where} covers the plots (lon {bbox[0]:.4f}..{bbox[2]:.4f}, "
        f"lat {bbox[1]:.4f}..{bbox[3]:.4f}) between {imagery.start} and {imagery.end} with "
        f"cloud cover <= {imagery.max_cloud_cover}; check imagery.source, imagery.catalog / "
        "imagery.local / imagery.sentinelhub, imagery.start/end and imagery.max_cloud_cover"
    )


def intersects(a, b) -> bool:
    """Whether two (minx, miny, maxx, maxy) boxes overlap; a missing box overlaps all."""
    if a is None:
        return True
    return not (a[2] < b[0] or a[0] > b[2] or a[3] < b[1] or a[1] > b[3])


def fuse_first(stack: list[np.ndarray]) -> np.ndarray:
    """Per pixel, the first non-NaN value over several scenes of one date (band, y, x)."""
    out = stack[0].copy()
    for arr in stack[1:]:
        hole = np.isnan(out)
        out[hole] = arr[hole]
    return out


def source_reads_series(imagery: Imagery) -> bool:
    """Whether the configured source gives per-plot series (not a cube to reduce per pixel)."""
    return SOURCE_KINDS[imagery.source].series

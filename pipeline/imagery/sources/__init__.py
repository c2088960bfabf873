"""The imagery source protocol and :func:`open_source`, which picks one from the run config.

Every source does two things: find the scenes (as STAC items, whatever the source, so the run
records what it used) and read one date of them onto a grid, harmonised to the cube
convention of :mod:`pipeline.imagery.harmonize`. :func:`pipeline.imagery.cube.load_cube` builds
the same lazy (time, y, x) cube from any source on top of that, with caching, retries and skipping.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

import numpy as np
import pystac
from odc.geo.geobox import GeoBox

from pipeline.config import Imagery, RetryOptions
from pipeline.errors import ImageryError

#: Common band names in cube order; ``scl`` is the class / cloud-mask band.
CUBE_BANDS = ("blue", "green", "red", "nir", "swir16", "swir22", "scl")


class FatalSourceError(ImageryError):
    """A fault no retry fixes (bad credentials, exhausted quota): stop the run, name the fix."""


class ImagerySource(Protocol):
    """What the pipeline needs from an imagery source."""

    #: identifies the source in cache keys (endpoint, collection; never credentials)
    name: str
    #: True when reading means downloading (the cache is on by default then)
    remote: bool

    def find_items(
        self, bbox_lonlat: tuple[float, float, float, float], start: date, end: date
    ) -> list[pystac.Item]:
        """Scenes intersecting the box (WGS 84) in [start, end], sorted by time."""
        ...

    def read_date(self, items: list[pystac.Item], geobox: GeoBox) -> np.ndarray:
        """One date's scenes fused on ``geobox``: float32 (band, y, x) in :data:`CUBE_BANDS`
        order, cube-convention DNs (``reflectance = DN * imagery.scale + imagery.offset``),
        NaN where no scene has data."""
        ...


def open_source(imagery: Imagery, retry: RetryOptions | None = None) -> ImagerySource:
    """The source ``imagery.source`` names, configured from its sub-section; ``retry`` is the
    run's retry policy (``run.retry``)."""
    if imagery.source == "stac":
        from pipeline.imagery.sources.stac import StacSource

        return StacSource(imagery, retry)
    if imagery.source in ("sentinelhub", "sentinelhub-statistical"):
        from pipeline.imagery.sources.sentinelhub import SentinelHubSource

        return SentinelHubSource(imagery, retry)
    if imagery.source == "local":
        from pipeline.imagery.sources.local import LocalSource

        return LocalSource(imagery, retry)
    raise ImageryError(f"unknown imagery.source {imagery.source!r}")


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
    return imagery.source == "sentinelhub-statistical"

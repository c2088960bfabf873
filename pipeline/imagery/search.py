"""Finding a run's scenes: the configured source's search, and the CRS of the processing grid."""

from __future__ import annotations

import math

import pystac

from pipeline.config import Imagery, ImagerySearch, RetryOptions
from pipeline.imagery.sources import open_source


def search_items(
    imagery: Imagery | ImagerySearch,
    bbox_lonlat: tuple[float, float, float, float],
    retry: RetryOptions | None = None,
) -> list[pystac.Item]:
    """Scenes intersecting ``bbox_lonlat`` (WGS 84) within the configured dates and cloud cover,
    from the configured source, as STAC items sorted by acquisition time.

    Raises :class:`ImageryError` when none remain.
    """
    return open_source(imagery, retry).find_items(bbox_lonlat, imagery.start, imagery.end)


def item_crs(items: list[pystac.Item]) -> str:
    """The CRS of the first item (``proj:code`` / ``proj:epsg``), else the UTM zone of its box."""
    props = items[0].properties
    if props.get("proj:code"):
        return str(props["proj:code"])
    if props.get("proj:epsg"):
        return f"EPSG:{props['proj:epsg']}"
    bbox = items[0].bbox
    lon, lat = (bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2
    zone = min(int(math.floor((lon + 180) / 6)) + 1, 60)
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"

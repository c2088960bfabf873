"""Imagery entry points used by the steps: find scenes, their CRS, and the lazy tile cube.

The work is done by the source named in ``imagery.source`` (:mod:`pipeline.imagery.sources`) and
the cached, resumable cube builder (:mod:`pipeline.imagery.cube`); this module keeps the names the
steps have always called.
"""

from __future__ import annotations

import math

import pystac

from pipeline.config import Imagery
from pipeline.imagery.cube import FetchReport, load_cube, resolve_cache
from pipeline.imagery.sources import open_source

__all__ = ["FetchReport", "item_crs", "load_cube", "resolve_cache", "search_items"]


def search_items(imagery: Imagery, bbox_lonlat: tuple[float, float, float, float]) -> list:
    """Scenes intersecting ``bbox_lonlat`` (WGS 84) within the configured dates and cloud cover,
    from the configured source, as STAC items sorted by acquisition time.

    Raises :class:`ImageryError` when none remain.
    """
    return open_source(imagery).find_items(bbox_lonlat, imagery.start, imagery.end)


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

"""Imagery from a STAC catalog (static catalog.json or STAC API), loaded lazily (odc-stac)."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, time
from pathlib import Path

import pystac
import xarray as xr
from odc.geo.geobox import GeoBox

from pipeline.config import Imagery
from pipeline.errors import ImageryError


def search_items(imagery: Imagery, bbox_lonlat: tuple[float, float, float, float]) -> list:
    """Items intersecting ``bbox_lonlat`` (WGS 84) within the configured dates and cloud cover.

    Sorted by acquisition time; raises :class:`ImageryError` when none remain.
    """
    start = datetime.combine(imagery.start, time.min, tzinfo=UTC)
    end = datetime.combine(imagery.end, time.max, tzinfo=UTC)
    if _is_url(imagery.catalog):
        items = _search_api(imagery, bbox_lonlat, start, end)
    else:
        items = _walk_static(Path(imagery.catalog), imagery.collection)
    picked = [
        it
        for it in items
        if _in_time(it, start, end)
        and _intersects(it.bbox, bbox_lonlat)
        and it.properties.get("eo:cloud_cover", 0.0) <= imagery.max_cloud_cover
    ]
    if not picked:
        raise ImageryError(
            f"no imagery item in {imagery.catalog} covers the plots ({_fmt(bbox_lonlat)}) between "
            f"{imagery.start} and {imagery.end} with eo:cloud_cover <= {imagery.max_cloud_cover}; "
            "check imagery.catalog, imagery.start/end and imagery.max_cloud_cover"
        )
    return sorted(picked, key=lambda it: (it.datetime, it.id))


def _is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def _walk_static(path: Path, collection: str | None) -> list[pystac.Item]:
    if not path.is_file():
        raise ImageryError(f"STAC catalog {path} not found; set imagery.catalog to a catalog.json")
    try:
        root = pystac.read_file(str(path.resolve()))
    except Exception as err:  # noqa: BLE001 - pystac raises several kinds
        raise ImageryError(f"{path} is not a readable STAC catalog ({err})") from None
    items = list(root.get_items(recursive=True))
    if collection is not None:
        items = [it for it in items if it.collection_id == collection]
    return items


def _search_api(imagery: Imagery, bbox, start: datetime, end: datetime) -> list[pystac.Item]:
    from pystac_client import Client

    try:
        client = Client.open(imagery.catalog)
        search = client.search(
            collections=[imagery.collection] if imagery.collection else None,
            bbox=bbox,
            datetime=(start, end),
        )
        return list(search.items())
    except Exception as err:  # noqa: BLE001 - network and API errors
        raise ImageryError(f"STAC search at {imagery.catalog} failed: {err}") from None


def _in_time(item: pystac.Item, start: datetime, end: datetime) -> bool:
    when = item.datetime
    if when is None:
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return start <= when <= end


def _intersects(a, b) -> bool:
    if a is None:
        return True
    return not (a[2] < b[0] or a[0] > b[2] or a[3] < b[1] or a[1] > b[3])


def _fmt(bbox) -> str:
    return f"lon {bbox[0]:.4f}..{bbox[2]:.4f}, lat {bbox[1]:.4f}..{bbox[3]:.4f}"


def item_crs(items: list[pystac.Item]) -> str:
    """The CRS of the first item (``proj:code`` or ``proj:epsg``)."""
    props = items[0].properties
    if props.get("proj:code"):
        return str(props["proj:code"])
    if props.get("proj:epsg"):
        return f"EPSG:{props['proj:epsg']}"
    raise ImageryError(
        f"item {items[0].id} carries no proj:code / proj:epsg; set imagery.crs in the config"
    )


def load_cube(items: list[pystac.Item], imagery: Imagery, geobox: GeoBox) -> xr.Dataset:
    """Lazily load every configured band on ``geobox`` (dask; ``time`` chunked by date_chunk).

    Returns raw digital numbers (dims ``time, y, x``), one variable per common band name.
    """
    mapping = imagery.bands.model_dump()
    assets = list(mapping.values())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ds = load_items(items, assets, geobox, imagery.date_chunk, mapping["scl"])
        except Exception as err:  # noqa: BLE001
            raise ImageryError(f"loading imagery failed: {err}") from None
    return ds.rename({asset: name for name, asset in mapping.items() if asset != name})


def load_items(items, assets, geobox: GeoBox, date_chunk: int, mask_asset: str) -> xr.Dataset:
    """odc-stac load of ``assets`` on ``geobox``: nearest for the mask band, bilinear otherwise."""
    import odc.stac

    return odc.stac.load(
        items,
        bands=assets,
        geobox=geobox,
        chunks={"time": date_chunk, "x": -1, "y": -1},
        resampling={mask_asset: "nearest", "*": "bilinear"},
        groupby="solar_day",
        fail_on_error=True,
    )

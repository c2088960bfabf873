"""STAC source: a static catalog (on disk or over HTTP(S): a ``catalog.json`` URL) or any STAC
API (pystac-client), read with odc-stac.

Presets fill in the API URL, collection and asset keys of Earth Search, Microsoft Planetary
Computer (asset URLs signed with the ``planetary-computer`` package at read time, so
expired signatures are never stored) and the Copernicus Data Space Ecosystem.
"""

from __future__ import annotations

import functools
import warnings
from datetime import UTC, date, datetime, time
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pystac
from odc.geo.crs import CRS
from odc.geo.geobox import GeoBox
from urllib3.util.retry import Retry

from pipeline.config import Imagery, RetryOptions
from pipeline.errors import ImageryError
from pipeline.imagery.bands import BANDS, CUBE_BANDS, S2_CODES
from pipeline.imagery.harmonize import Scaling, scene_scaling, to_cube_dn
from pipeline.imagery.sources import fuse_first, intersects, no_scene_error

#: preset -> (STAC API URL, collection, common band name -> asset key)
PRESETS: dict[str, tuple[str, str, dict[str, str]]] = {
    "earth-search": (
        "https://earth-search.aws.element84.com/v1",
        "sentinel-2-l2a",
        {b: b for b in CUBE_BANDS},
    ),
    "planetary-computer": (
        "https://planetarycomputer.microsoft.com/api/stac/v1",
        "sentinel-2-l2a",
        dict(S2_CODES),
    ),
    "cdse": (
        "https://stac.dataspace.copernicus.eu/v1",
        "sentinel-2-l2a",
        {b.name: f"{b.s2_code}_{b.resolution_m}m" for b in BANDS},
    ),
}
RETRY_STATUS = (429, 500, 502, 503, 504)


def band_assets(imagery: Imagery) -> dict[str, str]:
    """Common band name -> asset key: the preset's, overridden by keys set in imagery.bands."""
    mapping = imagery.bands.model_dump()
    if imagery.stac.preset is None:
        return mapping
    preset = dict(PRESETS[imagery.stac.preset][2])
    preset.update({k: mapping[k] for k in imagery.bands.model_fields_set})
    return preset


class StacSource:
    """Static catalog or STAC API; odc-stac loads each scene on the tile's grid."""

    #: a window read gives the same pixels as a read of any larger window holding it
    window_invariant = True

    def __init__(self, imagery: Imagery, retry: RetryOptions | None = None):
        self.imagery = imagery
        self.retry = retry or RetryOptions()
        preset = PRESETS.get(imagery.stac.preset or "")
        self.catalog = imagery.catalog or (preset[0] if preset else "")
        self.collection = imagery.collection or (preset[1] if preset else None)
        self.assets = band_assets(imagery)
        self.sign = imagery.stac.preset == "planetary-computer"
        self.name = f"stac:{self.catalog}:{self.collection}"
        self.remote = _is_url(self.catalog)
        self._configured = False

    def find_items(self, bbox_lonlat, start: date, end: date) -> list[pystac.Item]:
        t0 = datetime.combine(start, time.min, tzinfo=UTC)
        t1 = datetime.combine(end, time.max, tzinfo=UTC)
        if _is_url(self.catalog) and not _is_static_url(self.catalog):
            items = self._search_api(bbox_lonlat, t0, t1)
        else:
            items = walk_static(self.catalog, self.collection)
        picked = [
            it
            for it in items
            if _in_time(it, t0, t1)
            and intersects(it.bbox, bbox_lonlat)
            and it.properties.get("eo:cloud_cover", 0.0) <= self.imagery.max_cloud_cover
        ]
        if not picked:
            raise no_scene_error(self.catalog, bbox_lonlat, self.imagery)
        self._check_assets(picked)
        for it in picked:
            for asset in it.assets.values():
                asset.href = asset.get_absolute_href() or asset.href
        if any(_is_url(a.href) for it in picked[:1] for a in it.assets.values()):
            self.remote = True
        return sorted(picked, key=lambda it: (it.datetime, it.id))

    def _check_assets(self, items: list[pystac.Item]) -> None:
        """Refuse a band whose asset most scenes lack (a wrong ``imagery.bands`` key or a
        catalog without it): every date would fail and every plot lack data."""
        for band in CUBE_BANDS:
            key = self.assets[band]
            lacking = sum(key not in it.assets for it in items)
            if lacking * 2 > len(items):
                have = ", ".join(sorted(items[0].assets)) or "none"
                raise ImageryError(
                    f"{lacking} of {len(items)} scenes in {self.catalog} have no asset {key!r} "
                    f"for band {band} (the first scene has: {have}); set imagery.bands.{band} "
                    "to the catalog's asset name"
                )

    def _search_api(self, bbox, t0: datetime, t1: datetime) -> list[pystac.Item]:
        from pystac_client import Client
        from pystac_client.stac_api_io import StacApiIO

        r = self.retry
        stac_io = StacApiIO(
            timeout=r.timeout_s,
            max_retries=Retry(
                total=r.attempts,
                backoff_factor=r.backoff_s,
                status_forcelist=RETRY_STATUS,
                allowed_methods=None,
                respect_retry_after_header=True,
            ),
        )
        try:
            client = Client.open(self.catalog, stac_io=stac_io)
            search = client.search(
                collections=[self.collection] if self.collection else None,
                bbox=bbox,
                datetime=(t0, t1),
            )
            return list(search.items())
        except Exception as err:  # noqa: BLE001 - network and API errors
            raise ImageryError(
                f"STAC search at {self.catalog} failed after {r.attempts} attempts: {err}; "
                "check imagery.catalog (or imagery.stac.preset) and the network"
            ) from None

    def _configure_gdal(self) -> None:
        import odc.stac

        if not self._configured:
            r = self.retry
            odc.stac.configure_rio(
                cloud_defaults=True,
                GDAL_HTTP_MAX_RETRY=str(r.attempts),
                GDAL_HTTP_RETRY_DELAY=str(max(r.backoff_s, 0.1)),
                GDAL_HTTP_TIMEOUT=str(int(r.timeout_s)),
            )
            self._configured = True

    def read_date(self, items: list[pystac.Item], geobox: GeoBox) -> np.ndarray:
        """Each item loaded by odc-stac and harmonised on its own, then fused."""
        self._configure_gdal()
        try:
            return self._read(items, geobox)
        except Exception:
            clear_gdal_http_cache()  # a retry must not re-read a truncated piece from the cache
            raise

    def _read(self, items: list[pystac.Item], geobox: GeoBox) -> np.ndarray:
        keys = [self.assets[b] for b in CUBE_BANDS]
        stack = []
        for item in items:
            if self.sign:
                import planetary_computer

                item = planetary_computer.sign(item)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                bands = read_item_bands(item, keys, geobox, self._resampling())
            stack.append(self._harmonise(item, bands))
        return fuse_first(stack)

    def _resampling(self) -> dict[str, str]:
        return {self.assets["scl"]: "nearest", "*": "bilinear"}

    def _harmonise(self, item: pystac.Item, ds) -> np.ndarray:
        img = self.imagery
        cube = Scaling(img.scale, img.offset, None)
        default = Scaling(img.scale, img.offset, img.nodata)
        out = []
        for band in CUBE_BANDS:
            key = self.assets[band]
            bands = item.assets[key].extra_fields.get("raster:bands") or [None]
            own = scene_scaling(item.properties, bands[0], default, img.harmonize, band != "scl")
            if band == "scl":
                own = Scaling(1.0, 0.0, own.nodata)
                out.append(to_cube_dn(ds[key], own, Scaling(1.0, 0.0, None)))
            else:
                out.append(to_cube_dn(ds[key], own, cube))
        return np.stack(out)


def read_item_bands(
    item: pystac.Item, keys: list[str], geobox: GeoBox, resampling: dict[str, str]
) -> dict[str, np.ndarray]:
    """One item's assets ``keys`` on ``geobox`` (asset key -> (y, x) array in the asset's
    dtype, its nodata where the scene has no data).

    The reads odc-stac's ``load`` makes (the same metadata parsing, load parameters and
    odc-loader ``rio_read``), without building an xarray Dataset and its graph per scene:
    each asset window is opened and read once, all bands of the date together. A band whose
    grid is the tile's at twice the pixel size (Sentinel-2's 20 m bands on the 10 m grid) is
    read at its own resolution and doubled in numpy, exactly as GDAL's warp would
    (:func:`~pipeline.imagery.upsample.read_upsampled`; ~2× cheaper than the warp).
    """
    from odc.loader import resolve_load_cfg, resolve_src_nodata
    from odc.loader._builder import fuser_for_nodata, resolve_dst_fill_value
    from odc.loader._rio import capture_rio_env, rio_env, rio_read

    parsed = odc_parse_item(item)
    cfgs = resolve_load_cfg(
        parsed.collection.resolve_bands(keys), resampling, use_overviews=True, fail_on_error=True
    )
    srcs = parsed.resolve_bands(keys)
    out = {}
    with rio_env(**capture_rio_env()):
        for key in keys:
            cfg, src = cfgs[key], srcs.get(key)
            dst = np.empty(geobox.shape, dtype=cfg.dtype)
            fill = resolve_dst_fill_value(dst.dtype, cfg, resolve_src_nodata(cfg.fill_value, cfg))
            np.copyto(dst, fill)
            if src is not None:
                pix = read_doubled(src, cfg, geobox)
                if pix is not None:
                    fuser_for_nodata(fill)(dst, pix)
                else:
                    roi, pix = rio_read(src, cfg, geobox)
                    fuser_for_nodata(fill)(dst[roi], pix)
            out[key] = dst
    return out


def read_doubled(src, cfg, geobox: GeoBox) -> np.ndarray | None:
    """odc-loader's ``rio_read`` of a band whose grid is ``geobox``'s, or ``geobox``'s at twice
    the pixel size, in one open and without the warper: the same pixels (dtype, nodata, GDAL's
    bilinear or nearest), or None when the band is on another grid (then the caller warps)."""
    import rasterio
    from odc.loader import resolve_src_nodata
    from odc.loader._reader import resolve_dst_dtype, resolve_dst_nodata

    from pipeline.imagery.upsample import read_upsampled

    if not isinstance(src.band, int) or cfg.resampling not in ("bilinear", "nearest"):
        return None
    with rasterio.open(src.uri, "r", sharing=False) as ds:
        if ds.crs is None or not same_crs(ds.crs.to_wkt(), str(geobox.crs)) or ds.count < src.band:
            return None
        src_nodata = resolve_src_nodata(ds.nodatavals[src.band - 1], cfg)
        dtype = resolve_dst_dtype(ds.dtypes[src.band - 1], cfg)
        dst_nodata = resolve_dst_nodata(dtype, cfg, src_nodata)
        if src_nodata is None or dst_nodata is None or dtype != np.dtype(ds.dtypes[src.band - 1]):
            return None
        if dtype.type(src_nodata) != src_nodata or dst_nodata != src_nodata:
            return None
        pix = read_upsampled(ds, src.band, src_nodata, geobox.affine, geobox.shape,
                             cfg.resampling == "bilinear")  # fmt: skip
    return pix


@functools.lru_cache(maxsize=64)
def same_crs(wkt: str, other: str) -> bool:
    """Whether two CRS texts name one CRS (cached: compared once per pair)."""
    return CRS(wkt) == CRS(other)


def odc_parse_item(item: pystac.Item):
    """odc-stac's parsed view of an item (bands, their files and metadata)."""
    from odc.stac import parse_item

    return parse_item(item)


def _is_url(text: str) -> bool:
    return str(text).startswith(("http://", "https://"))


def _is_static_url(url: str) -> bool:
    """A URL of a static catalog file (``…/catalog.json``) rather than a STAC API root."""
    return urlsplit(url).path.lower().endswith(".json")


def walk_static(catalog: str, collection: str | None) -> list[pystac.Item]:
    """Every item of a static catalog (a file or a URL), following child and item links; an
    unreadable catalog, collection or item is an error naming it."""
    if not _is_url(catalog):
        path = Path(catalog)
        if not path.is_file():
            raise ImageryError(
                f"STAC catalog {path} not found; set imagery.catalog to a catalog.json"
            )
        catalog = str(path.resolve())
    items: list[pystac.Item] = []
    _walk(catalog, _read_stac(catalog, catalog, "catalog"), items, catalog)
    if collection is not None:
        items = [it for it in items if it.collection_id == collection]
    return items


def _read_stac(href: str, catalog: str, what: str):
    try:
        return pystac.read_file(href)
    except Exception as err:  # noqa: BLE001 - I/O, JSON and STAC errors alike
        fix = "set imagery.catalog to a catalog.json" if href == catalog else (
            f"repair it, or remove it and its link from the catalog {catalog}")  # fmt: skip
        raise ImageryError(f"STAC {what} {href} cannot be read ({err}); {fix}") from None


def _walk(href: str, node, items: list[pystac.Item], catalog: str) -> None:
    if isinstance(node, pystac.Item):
        items.append(node)
        return
    if not isinstance(node, pystac.Catalog):
        raise ImageryError(f"{href} is not a STAC catalog; set imagery.catalog to a catalog.json")
    for link in node.links:
        if link.rel in ("child", "item"):
            target = link.get_absolute_href() or link.href
            what = "item" if link.rel == "item" else "catalog"
            _walk(target, _read_stac(target, catalog, what), items, catalog)


def _in_time(item: pystac.Item, start: datetime, end: datetime) -> bool:
    when = item.datetime
    if when is None:
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return start <= when <= end


def clear_gdal_http_cache() -> None:
    """Forget GDAL's /vsicurl/ caches (file sizes, blocks), so that a retry downloads again a
    piece that arrived truncated. rasterio has no binding for ``VSICurlClearCache``; call it in
    the libgdal rasterio loaded (best effort: without it the retry may fail, and the date is
    then skipped and fetched on the next run)."""
    import ctypes
    import ctypes.util
    import glob
    import os

    import rasterio

    libs = glob.glob(
        os.path.join(os.path.dirname(rasterio.__file__), "..", "rasterio.libs", "libgdal*")
    )
    try:
        lib = ctypes.CDLL(libs[0] if libs else ctypes.util.find_library("gdal"))
        lib.VSICurlClearCache()
    except (OSError, AttributeError, TypeError):
        pass

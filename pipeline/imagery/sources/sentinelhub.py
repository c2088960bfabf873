"""Sentinel Hub source (sentinelhub-py): Catalog API for the scenes, Process API for the pixels.

Credentials come from ``SH_CLIENT_ID`` / ``SH_CLIENT_SECRET`` or the sentinelhub config
profile ``imagery.sentinelhub.profile``; they are never logged or written to run files.
``imagery.sentinelhub.base_url`` selects the deployment (e.g. CDSE's
``https://sh.dataspace.copernicus.eu``). sentinelhub-py retries 429 (honouring
``Retry-After``), 5xx and timeouts; here an expired token is refreshed once, a rejected login
or an exhausted quota stops the run with an error naming the setting.
"""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pystac
from odc.geo.geobox import GeoBox, GeoboxTiles

from pipeline.config import Imagery, RetryOptions
from pipeline.errors import ImageryError
from pipeline.imagery.bands import CUBE_BANDS
from pipeline.imagery.sources import FatalSourceError, no_scene_error

CDSE_TOKEN = (
    "https://identity.dataspace.copernicus.eu/auth/realms/CDSE/protocol/openid-connect/token"
)
#: UINT16 DNs (reflectance × 10000, harmonised by the service) + SCL + dataMask.
EVALSCRIPT = """//VERSION=3
function setup() {
  return {input: [{bands: ["B02","B03","B04","B08","B11","B12","SCL","dataMask"], units: "DN"}],
          output: {bands: 8, sampleType: "UINT16"}};
}
function evaluatePixel(s) {
  return [s.B02, s.B03, s.B04, s.B08, s.B11, s.B12, s.SCL, s.dataMask];
}
"""
_LOCK = threading.Lock()
_COLLECTIONS: dict[tuple[str, str], Any] = {}
CREDENTIALS_HINT = (
    "set the environment variables SH_CLIENT_ID and SH_CLIENT_SECRET, or "
    "imagery.sentinelhub.profile to a sentinelhub config profile holding them"
)


def sh_config(imagery: Imagery, retry: RetryOptions | None = None):
    """An SHConfig for the settings' deployment with the retry policy; credentials from the
    environment or the profile."""
    from sentinelhub import SHConfig

    opts = imagery.sentinelhub
    try:
        config = SHConfig(opts.profile) if opts.profile else SHConfig()
    except KeyError:
        raise FatalSourceError(
            f"sentinelhub config profile {opts.profile!r} not found; fix imagery.sentinelhub."
            "profile (list profiles with `sentinelhub.config --show`)"
        ) from None
    base = opts.base_url.rstrip("/")
    config.sh_base_url = base
    if opts.token_url:
        config.sh_token_url = opts.token_url
    elif "dataspace.copernicus.eu" in base:
        config.sh_token_url = CDSE_TOKEN
    else:
        config.sh_token_url = f"{base}/auth/realms/main/protocol/openid-connect/token"
    retry = retry or RetryOptions()
    config.max_download_attempts = retry.attempts
    config.download_sleep_time = retry.backoff_s
    config.download_timeout_seconds = retry.timeout_s
    config.max_retries = retry.attempts
    if not (config.sh_client_id and config.sh_client_secret):
        raise FatalSourceError(f"no Sentinel Hub credentials found; {CREDENTIALS_HINT}")
    return config


def data_collection(imagery: Imagery):
    """The Sentinel-2 L2A collection bound to the configured service URL."""
    from sentinelhub import DataCollection

    key = (imagery.sentinelhub.base_url, imagery.sentinelhub.collection)
    with _LOCK:
        if key not in _COLLECTIONS:
            _COLLECTIONS[key] = DataCollection.SENTINEL2_L2A.define_from(
                f"tushu-{abs(hash(key))}", service_url=imagery.sentinelhub.base_url.rstrip("/")
            )
        return _COLLECTIONS[key]


def translate_error(err: Exception) -> Exception:
    """Map a sentinelhub-py failure to a fatal error (credentials, quota) or leave it be."""
    from sentinelhub.exceptions import DownloadFailedException, OutOfRequestsException

    if isinstance(err, OutOfRequestsException):
        return FatalSourceError(
            "Sentinel Hub keeps answering 429 (rate limit or exhausted quota); wait, raise the "
            "account's quota, or set imagery.source to another source"
        )
    response = getattr(getattr(err, "request_exception", None), "response", None)
    status = getattr(response, "status_code", None)
    text = str(err).lower()
    if status == 403 or (isinstance(err, DownloadFailedException) and "403" in text):
        return FatalSourceError(
            "Sentinel Hub refused the request (403): the account's processing units are "
            "exhausted or it has no access to this collection; check the subscription, "
            "imagery.sentinelhub.base_url / collection, or set imagery.source to another source"
        )
    if "invalid_client" in text or "unauthorized_client" in text or "401" in text:
        return FatalSourceError(f"Sentinel Hub rejected the credentials; {CREDENTIALS_HINT}")
    return err


def reset_sessions() -> None:
    """Drop cached OAuth sessions so the next request fetches a fresh token."""
    from sentinelhub.download.sentinelhub_client import SentinelHubDownloadClient

    SentinelHubDownloadClient._CACHED_SESSIONS.clear()


def call_service(fn, *args, **kwargs):
    """Run one sentinelhub-py call; on a 401 refresh the token and try once more."""
    try:
        return fn(*args, **kwargs)
    except Exception as err:  # noqa: BLE001
        if "401" in str(err) or "expired" in str(err).lower():
            reset_sessions()
            try:
                return fn(*args, **kwargs)
            except Exception as again:  # noqa: BLE001
                raise translate_error(again) from None
        raise translate_error(err) from None


class SentinelHubSource:
    """Scenes from the Catalog API; one Process API request per date and sub-box of a tile."""

    remote = True

    def __init__(self, imagery: Imagery, retry: RetryOptions | None = None):
        self.imagery = imagery
        self.retry = retry or RetryOptions()
        opts = imagery.sentinelhub
        self.name = f"sentinelhub:{opts.base_url}:{opts.collection}:{opts.upsampling}"

    def find_items(self, bbox_lonlat, start: date, end: date) -> list[pystac.Item]:
        from sentinelhub import CRS, BBox, SentinelHubCatalog

        config = sh_config(self.imagery, self.retry)

        def search() -> list[dict]:
            catalog = SentinelHubCatalog(config=config)
            found = catalog.search(
                data_collection(self.imagery),
                bbox=BBox(bbox_lonlat, crs=CRS.WGS84),
                time=(start.isoformat(), end.isoformat()),
                filter=f"eo:cloud_cover <= {self.imagery.max_cloud_cover}",
            )
            return list(found)

        try:
            features = call_service(search)
        except FatalSourceError:
            raise
        except Exception as err:  # noqa: BLE001
            raise ImageryError(
                f"Sentinel Hub catalog search at {self.imagery.sentinelhub.base_url} failed: "
                f"{err}; check imagery.sentinelhub.base_url and the network"
            ) from None
        items = [pystac.Item.from_dict(f) for f in features]
        if not items:
            raise no_scene_error(self.imagery.sentinelhub.base_url, bbox_lonlat, self.imagery)
        return sorted(items, key=lambda it: (it.datetime, it.id))

    def read_date(self, items: list[pystac.Item], geobox: GeoBox) -> np.ndarray:
        """Process API: the date's mosaic on ``geobox``, split into ≤ ``max_pixels`` requests."""
        day = items[0].datetime.date()
        out = np.full((len(CUBE_BANDS), *geobox.shape), np.nan, dtype="float32")
        n = self.imagery.sentinelhub.max_pixels
        tiles = GeoboxTiles(geobox, (n, n))
        for idx in np.ndindex(tiles.shape.yx):
            sub = tiles[idx]
            rows, cols = tiles.roi[idx]
            out[:, rows, cols] = self._request(sub, day)
        return out

    def _request(self, geobox: GeoBox, day: date) -> np.ndarray:
        from sentinelhub import CRS, BBox, MimeType, SentinelHubRequest

        t0 = datetime(day.year, day.month, day.day)
        request = SentinelHubRequest(
            evalscript=EVALSCRIPT,
            input_data=[
                SentinelHubRequest.input_data(
                    data_collection=data_collection(self.imagery),
                    time_interval=(t0, t0 + timedelta(days=1) - timedelta(seconds=1)),
                    upsampling=self.imagery.sentinelhub.upsampling,
                )
            ],
            responses=[SentinelHubRequest.output_response("default", MimeType.TIFF)],
            bbox=BBox(tuple(geobox.extent.boundingbox), crs=CRS(geobox.crs.epsg)),
            size=(geobox.shape.x, geobox.shape.y),
            config=sh_config(self.imagery, self.retry),
        )
        data = call_service(request.get_data)[0]  # (y, x, 8) uint16
        if data.shape[:2] != tuple(geobox.shape):
            raise ImageryError(f"Process API returned {data.shape}, expected {geobox.shape}")
        arr = np.moveaxis(data, -1, 0).astype("float32")
        valid = arr[-1] > 0
        out = arr[:-1]
        out[:, ~valid] = np.nan
        # reflectance = DN / 10000 from the service; convert to the cube's scale / offset
        img = self.imagery
        if img.scale != 1e-4 or img.offset != 0:
            out[:-1] = (out[:-1] * 1e-4 - img.offset) / img.scale
        return out

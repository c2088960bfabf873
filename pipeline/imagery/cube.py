"""The lazy imagery cube of one tile, from any source, cached per date and resumable.

One dask task per acquisition date: read the cache entry, or fetch the date from the source
(with retries and exponential backoff), store it atomically, return it. A rerun (or a
Snakemake retry after a crash) therefore fetches only the dates that were not finished. A date
that still fails after the retries is logged and left out of the cube as NaN (its plots show
one observation fewer) and is not cached, so the next run tries it again; faults no retry can
fix (bad credentials, exhausted quota) stop the run with an error naming the setting.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from pathlib import Path

import dask
import dask.array as da
import numpy as np
import pystac
import tenacity
import xarray as xr
from odc.geo.geobox import GeoBox
from odc.geo.xr import xr_coords
from tenacity import (
    retry_if_not_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from pipeline.config import Imagery, RetryOptions, RunOptions
from pipeline.imagery.bands import CUBE_BANDS
from pipeline.imagery.cache import FetchReport, PieceCache, cache_key
from pipeline.imagery.sources import CubeSource, FatalSourceError, ImagerySource, open_source

LOG = logging.getLogger(__name__)
#: a tile stops when this many dates failed before any could be read (a band or asset missing
#: or damaged in every scene), instead of retrying every date and judging nothing
FAIL_FAST_DATES = 3


def group_by_day(items: list[pystac.Item]) -> dict[str, list[pystac.Item]]:
    """Items per acquisition day (UTC date, ISO string), in time order."""
    days: dict[str, list[pystac.Item]] = defaultdict(list)
    for it in sorted(items, key=lambda i: (i.datetime, i.id)):
        days[it.datetime.date().isoformat()].append(it)
    return dict(days)


def resolve_cache(
    run: RunOptions,
    source: ImagerySource,
    output_dir: Path | None,
    items: list[pystac.Item] = (),
) -> PieceCache:
    """The cache the run options ask for: ``run.cache`` on / off / auto (on when the source is
    remote or the items' assets are URLs); under ``run.cache_dir`` or ``<output_dir>/cache``."""
    remote = source.remote or any(
        a.href.startswith(("http://", "https://")) for it in items[:1] for a in it.assets.values()
    )
    on = run.cache == "on" or (run.cache == "auto" and remote)
    if not on:
        return PieceCache(None)
    root = run.cache_dir or (Path(output_dir) / "cache" if output_dir else None)
    return PieceCache(root)


def _grid_key(geobox: GeoBox) -> dict:
    a = geobox.affine
    return {"crs": str(geobox.crs), "affine": [a.a, a.b, a.c, a.d, a.e, a.f], "shape": geobox.shape}


def fetch_date(
    source: CubeSource,
    items: list[pystac.Item],
    geobox: GeoBox,
    imagery: Imagery,
    cache: PieceCache,
    report: FetchReport,
    day: str,
    retry: RetryOptions,
) -> np.ndarray:
    """One date on ``geobox`` (float32 band, y, x): cache, else source with retries, else NaN."""
    key = cache_key(
        source.name,
        _grid_key(geobox),
        day,
        CUBE_BANDS,
        {"items": [it.id for it in items], "harmonize": imagery.harmonize},
    )
    arr = cache.get(key)
    if arr is not None:
        with report.lock:
            report.cached.append(day)
        return arr

    @tenacity.retry(
        stop=stop_after_attempt(retry.attempts),
        wait=wait_exponential(multiplier=retry.backoff_s, max=60),
        retry=retry_if_not_exception_type(FatalSourceError),
        reraise=True,
    )
    def read() -> np.ndarray:
        return source.read_date(items, geobox)

    try:
        arr = read()
    except FatalSourceError:
        raise
    except Exception as err:  # noqa: BLE001 - any read fault of one scene: skip it
        ids = ", ".join(it.id for it in items)
        LOG.warning("scene(s) %s of %s could not be read, skipped: %s", ids, day, err)
        with report.lock:
            report.skipped[day] = f"{ids}: {type(err).__name__}: {err}"[:500]
            stop = len(report.skipped) >= FAIL_FAST_DATES and not (report.fetched or report.cached)
        if stop:
            raise FatalSourceError(
                f"the first {len(report.skipped)} dates read all failed (last: {ids}: "
                f"{type(err).__name__}: {str(err)[:300]}); a band or asset is likely missing "
                "or damaged in every scene: check imagery.bands (the asset names) and the "
                "catalog's files"
            ) from None
        return np.full((len(CUBE_BANDS), *geobox.shape), np.nan, dtype="float32")
    arr = np.asarray(arr, dtype="float32")
    cache.put(key, arr)
    with report.lock:
        report.fetched.append(day)
    return arr


def load_cube(
    items: list[pystac.Item],
    imagery: Imagery,
    geobox: GeoBox,
    *,
    cache: PieceCache | None = None,
    report: FetchReport | None = None,
    source: CubeSource | None = None,
    date_chunk: int = 12,
    retry: RetryOptions | None = None,
) -> xr.Dataset:
    """Lazy cube on ``geobox``: one float32 variable per common band (dims ``time, y, x``),
    ``time`` chunked by ``date_chunk`` (``run.date_chunk``); attrs ``scale``/``offset``
    (reflectance = DN × scale + offset) and ``nodata`` (NaN) on every variable; the CRS as
    ``spatial_ref``."""
    retry = retry or RetryOptions()
    source = source or open_source(imagery, retry)
    cache = cache or PieceCache(None)
    report = report if report is not None else FetchReport()
    days = group_by_day(items)
    shape = (len(CUBE_BANDS), *geobox.shape)
    pieces = [
        da.from_delayed(
            dask.delayed(fetch_date, pure=False)(
                source, its, geobox, imagery, cache, report, day, retry
            ),
            shape=shape,
            dtype="float32",
        )
        for day, its in days.items()
    ]
    data = da.stack(pieces, axis=0).rechunk((date_chunk, -1, -1, -1))
    coords = dict(xr_coords(geobox))
    coords["time"] = np.array(list(days), dtype="datetime64[ns]")
    attrs = {"scale": imagery.scale, "offset": imagery.offset, "nodata": np.nan}
    variables = {
        band: xr.DataArray(data[:, i], dims=("time", "y", "x"), attrs=dict(attrs))
        for i, band in enumerate(CUBE_BANDS)
    }
    variables["scl"].attrs.update(scale=1.0, offset=0.0)
    for band in getattr(source, "missing_bands", ()):
        variables[band].attrs["missing"] = True  # the sensor lacks it: all NaN, not "no data"
    return xr.Dataset(variables, coords=coords)

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
import math
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import Executor
from pathlib import Path

import dask
import dask.array as da
import numpy as np
import pystac
import tenacity
import xarray as xr
from odc.geo import geom
from odc.geo.crs import CRS
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
from pipeline.imagery.sources import (
    CubeSource,
    FatalSourceError,
    ImagerySource,
    intersects,
    open_source,
)

LOG = logging.getLogger(__name__)
#: side (pixels) of the imagery cache's blocks, on a grid fixed by the CRS and resolution
CACHE_BLOCK = 512
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
    arr, outcome = read_date_outcome(source, items, geobox, imagery, cache, day, retry)
    record_outcome(report, day, outcome)
    return arr


def read_date_outcome(
    source: CubeSource,
    items: list[pystac.Item],
    geobox: GeoBox,
    imagery: Imagery,
    cache: PieceCache,
    day: str,
    retry: RetryOptions,
) -> tuple[np.ndarray, str]:
    """:func:`fetch_date` without side effects on a report (so it can run on a dask worker):
    the array and what happened, ``"cached"``, ``"fetched"`` or ``"skipped: <why>"``."""
    if cache.root is not None and shares_reads(source, items, geobox.crs):
        return read_date_blocks(source, items, geobox, imagery, cache, day, retry)
    key = cache_key(
        source.name,
        _grid_key(geobox),
        day,
        CUBE_BANDS,
        {"items": [it.id for it in items], "harmonize": imagery.harmonize},
    )
    arr = cache.get(key)
    if arr is not None:
        return arr, "cached"
    arr, why = _read_with_retries(source, items, geobox, retry, day)
    if why:
        return arr, why
    cache.put(key, arr)
    return arr, "fetched"


def _read_with_retries(source, items, geobox: GeoBox, retry: RetryOptions, day: str):
    """(array, "") read with retries and backoff; (NaN array, "skipped: ...") when the date
    still fails; faults no retry fixes are raised."""

    @tenacity.retry(
        stop=stop_after_attempt(retry.attempts),
        wait=wait_exponential(multiplier=retry.backoff_s, max=60),
        retry=retry_if_not_exception_type(FatalSourceError),
        reraise=True,
    )
    def read() -> np.ndarray:
        return source.read_date(items, geobox)

    try:
        return np.asarray(read(), dtype="float32"), ""
    except FatalSourceError:
        raise
    except Exception as err:  # noqa: BLE001 - any read fault of one scene: skip it
        ids = ", ".join(it.id for it in items)
        LOG.warning("scene(s) %s of %s could not be read, skipped: %s", ids, day, err)
        nan = np.full((len(CUBE_BANDS), *geobox.shape), np.nan, dtype="float32")
        return nan, f"skipped: {ids}: {type(err).__name__}: {err}"[:509]


def read_date_blocks(
    source: CubeSource,
    items: list[pystac.Item],
    geobox: GeoBox,
    imagery: Imagery,
    cache: PieceCache,
    day: str,
    retry: RetryOptions,
) -> tuple[np.ndarray, str]:
    """One date on ``geobox`` through the cache's fixed blocks (:data:`CACHE_BLOCK` pixels of
    the CRS's grid, whatever the run): each block is keyed by source, grid, block, date, bands
    and the scenes that touch it, so runs over other or overlapping plots, and re-runs, share
    entries. Missing blocks are read in one window (the window-invariant sources only: the
    values equal a read of ``geobox`` itself) and stored; the answer is cut from the blocks."""
    res = abs(geobox.resolution.x)
    side = CACHE_BLOCK * res
    ny, nx = geobox.shape
    x0, y1 = geobox.affine.c, geobox.affine.f
    bx0, bx1 = math.floor(x0 / side), math.ceil((x0 + nx * res) / side)
    by0, by1 = math.floor((y1 - ny * res) / side), math.ceil(y1 / side)
    keys = {}
    for j in range(by0, by1):
        for i in range(bx0, bx1):
            box = geom.box(i * side, j * side, (i + 1) * side, (j + 1) * side, geobox.crs)
            lonlat = box.to_crs("EPSG:4326").boundingbox
            ids = [it.id for it in items if intersects(it.bbox, tuple(lonlat))]
            area = {"crs": str(geobox.crs), "resolution": res, "block": [i, j], "size": CACHE_BLOCK}
            extra = {"items": ids, "harmonize": imagery.harmonize}
            keys[(i, j)] = cache_key(source.name, area, day, CUBE_BANDS, extra)
    blocks = {b: cache.get(k) for b, k in keys.items()}
    wide = GeoBox.from_bbox((bx0 * side, by0 * side, bx1 * side, by1 * side), crs=geobox.crs,
                            resolution=res)  # fmt: skip
    outcome = "cached"
    if any(b is None for b in blocks.values()):
        arr, why = _read_with_retries(source, items, wide, retry, day)
        if why:
            return np.full((len(CUBE_BANDS), ny, nx), np.nan, dtype="float32"), why
        for (i, j), block in blocks.items():
            if block is None:
                r, c = (by1 - 1 - j) * CACHE_BLOCK, (i - bx0) * CACHE_BLOCK
                piece = np.ascontiguousarray(arr[:, r : r + CACHE_BLOCK, c : c + CACHE_BLOCK])
                cache.put(keys[(i, j)], piece)
        outcome = "fetched"
    else:
        arr = np.empty((len(CUBE_BANDS), *wide.shape), dtype="float32")
        for (i, j), block in blocks.items():
            r, c = (by1 - 1 - j) * CACHE_BLOCK, (i - bx0) * CACHE_BLOCK
            arr[:, r : r + CACHE_BLOCK, c : c + CACHE_BLOCK] = block
    r0 = round((wide.affine.f - y1) / res)
    c0 = round((x0 - wide.affine.c) / res)
    return np.ascontiguousarray(arr[:, r0 : r0 + ny, c0 : c0 + nx]), outcome


def shares_reads(source, items: list[pystac.Item], crs) -> bool:
    """Whether a read of a larger window gives exactly the pixels of a read of ``crs`` grid
    windows inside it: the source reads files (not a server rendering each request) and every
    scene declares ``crs`` (no reprojection, whose approximate transformer depends on the
    window)."""
    if not getattr(source, "window_invariant", False):
        return False
    want = CRS(str(crs))
    for it in items:
        code = it.properties.get("proj:code") or (
            f"EPSG:{it.properties['proj:epsg']}" if it.properties.get("proj:epsg") else None
        )
        if code is None or CRS(code) != want:
            return False
    return True


def record_outcome(report: FetchReport, day: str, outcome: str) -> None:
    """Note one date's outcome (from :func:`read_date_outcome`) in the tile's report; stop
    the tile (:class:`FatalSourceError`) when its first :data:`FAIL_FAST_DATES` dates all
    failed."""
    why = outcome.removeprefix("skipped: ")
    with report.lock:
        if outcome == "cached":
            report.cached.append(day)
        elif outcome == "fetched":
            report.fetched.append(day)
        else:
            report.skipped[day] = why
        stop = (
            outcome.startswith("skipped: ")
            and len(report.skipped) >= FAIL_FAST_DATES
            and not (report.fetched or report.cached)
        )
    if stop:
        raise FatalSourceError(
            f"the first {len(report.skipped)} dates read all failed (last: {why[:400]}); a band "
            "or asset is likely missing or damaged in every scene: check imagery.bands (the "
            "asset names) and the catalog's files"
        )


def iter_chunks(
    items: list[pystac.Item],
    imagery: Imagery,
    geobox: GeoBox,
    *,
    source: CubeSource,
    cache: PieceCache,
    report: FetchReport,
    date_chunk: int,
    retry: RetryOptions,
    executor: Executor | None = None,
) -> Iterator[xr.Dataset]:
    """The cube of :func:`load_cube`, in memory ``date_chunk`` dates at a time (numpy-backed
    Datasets, same variables and attrs): no dask graph. The dates of a chunk are read by
    ``executor`` (threads, or a dask.distributed cluster's executor) when given."""
    days = group_by_day(items)
    names = list(days)
    for a in range(0, len(names), date_chunk):
        part = names[a : a + date_chunk]
        args = [(source, days[d], geobox, imagery, cache, d, retry) for d in part]
        if executor is None:
            results = [read_date_outcome(*x) for x in args]
        else:
            results = [f.result() for f in [executor.submit(read_date_outcome, *x) for x in args]]
        for day, (_, outcome) in zip(part, results, strict=True):
            record_outcome(report, day, outcome)
        data = np.empty((len(results), len(CUBE_BANDS), *geobox.shape), dtype="float32")
        for k in range(len(results)):  # each date copied in, then freed: one chunk in memory
            data[k] = results[k][0]
            results[k] = None
        yield cube_dataset(data, part, geobox, imagery, source)


def cube_dataset(data, days: list[str], geobox: GeoBox, imagery: Imagery, source) -> xr.Dataset:
    """The cube Dataset of ``data`` (time, band, y, x; numpy or dask) on ``geobox``."""
    coords = dict(xr_coords(geobox))
    coords["time"] = np.array(days, dtype="datetime64[ns]")
    attrs = {"scale": imagery.scale, "offset": imagery.offset, "nodata": np.nan}
    variables = {
        band: xr.DataArray(data[:, i], dims=("time", "y", "x"), attrs=dict(attrs))
        for i, band in enumerate(CUBE_BANDS)
    }
    variables["scl"].attrs.update(scale=1.0, offset=0.0)
    for band in getattr(source, "missing_bands", ()):
        variables[band].attrs["missing"] = True  # the sensor lacks it: all NaN, not "no data"
    return xr.Dataset(variables, coords=coords)


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
    return cube_dataset(data, list(days), geobox, imagery, source)

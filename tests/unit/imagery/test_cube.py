"""Reading dates: a failing date is skipped; a tile whose every first date fails stops; chunks
read with or without an executor; the block cache shared by overlapping windows."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

import numpy as np
import pystac
import pytest
from odc.geo.geobox import GeoBox

from pipeline.config import Imagery, RetryOptions
from pipeline.imagery.bands import CUBE_BANDS
from pipeline.imagery.cache import FetchReport, PieceCache
from pipeline.imagery.cube import FAIL_FAST_DATES, fetch_date, iter_chunks, load_cube
from pipeline.imagery.sources import FatalSourceError
from tests.synthetic import UTM, X0, Y0

GEOBOX = GeoBox.from_bbox((0, 0, 40, 40), crs="EPSG:32650", resolution=10)
IMAGERY = Imagery(catalog="c.json", start=dt.date(2022, 1, 1), end=dt.date(2022, 12, 31))
NO_WAIT = RetryOptions(attempts=1, backoff_s=0)


class Source:
    name, remote = "fake", False

    def __init__(self, good_days: set[str]):
        self.good = good_days

    def read_date(self, items, geobox):
        day = items[0].id
        if day not in self.good:
            raise OSError(f"{day}/swir16.tif: not a TIFF file")
        return np.ones((len(CUBE_BANDS), *geobox.shape), dtype="float32")


def _fetch(source, day: str, report: FetchReport) -> np.ndarray:
    item = pystac.Item(day, None, None, dt.datetime.fromisoformat(day), {})
    return fetch_date(source, [item], GEOBOX, IMAGERY, PieceCache(None), report, day, NO_WAIT)


def test_fetch_date__an_unreadable_date_is_skipped_after_a_good_one():
    report = FetchReport()
    days = [f"2022-01-{d:02d}" for d in range(1, 8)]
    source = Source({days[0]})
    arrays = [_fetch(source, d, report) for d in days]
    assert np.isfinite(arrays[0]).all() and all(np.isnan(a).all() for a in arrays[1:])
    assert sorted(report.skipped) == days[1:]


def test_fetch_date__every_first_date_failing_stops_the_tile_naming_the_file():
    report = FetchReport()
    source = Source(set())
    for d in range(1, FAIL_FAST_DATES):
        _fetch(source, f"2022-01-{d:02d}", report)
    with pytest.raises(FatalSourceError, match=r"swir16\.tif: not a TIFF.*imagery\.bands"):
        _fetch(source, f"2022-01-{FAIL_FAST_DATES:02d}", report)


IMG = Imagery(catalog="x", start=date(2021, 1, 1), end=date(2022, 1, 1))
RETRY = RetryOptions(attempts=1, backoff_s=0)
GEOBOX = GeoBox.from_bbox((X0, Y0, X0 + 60, Y0 + 40), crs=UTM, resolution=10)


class FakeSource:
    """Every date a distinct constant per band; the scene ``bad`` fails to read."""

    name = "fake"
    remote = False

    def read_date(self, items, geobox):
        if any(it.id == "bad" for it in items):
            raise OSError("truncated")
        day = items[0].datetime.timetuple().tm_yday
        out = np.empty((len(CUBE_BANDS), *geobox.shape), dtype="float32")
        out[:] = (day * 10 + np.arange(len(CUBE_BANDS)))[:, None, None]
        return out


def _items() -> list[pystac.Item]:
    days = [datetime(2021, 1, 1 + 3 * k, tzinfo=UTC) for k in range(7)]
    ids = [f"s{k}" for k in range(7)]
    ids[4] = "bad"
    return [pystac.Item(i, None, None, d, {}) for i, d in zip(ids, days, strict=True)]


def _read(executor=None, date_chunk: int = 3):
    report = FetchReport()
    chunks = list(iter_chunks(_items(), IMG, GEOBOX, source=FakeSource(), cache=PieceCache(None),
                              report=report, date_chunk=date_chunk, retry=RETRY,
                              executor=executor))  # fmt: skip
    return chunks, report


def test_iter_chunks__same_cube_as_the_lazy_one_chunk_by_chunk():
    chunks, report = _read()
    assert [c.sizes["time"] for c in chunks] == [3, 3, 1]
    lazy = load_cube(_items(), IMG, GEOBOX, source=FakeSource(), retry=RETRY, date_chunk=3)
    for band in CUBE_BANDS:
        got = np.concatenate([c[band].values for c in chunks])
        np.testing.assert_array_equal(got, lazy[band].values)
    assert len(report.fetched) == 6 and list(report.skipped) == ["2021-01-13"]
    assert np.isnan(chunks[1]["red"].values[1]).all()  # the failed date is NaN


def test_iter_chunks__threads_read_the_same_dates_and_record_the_same_outcomes():
    serial, rep1 = _read()
    with ThreadPoolExecutor(2) as ex:
        threaded, rep2 = _read(ex)
    for a, b in zip(serial, threaded, strict=True):
        assert a.identical(b)
    assert sorted(rep1.fetched) == sorted(rep2.fetched) and rep1.skipped == rep2.skipped


class GridSource(FakeSource):
    """Window-invariant: each pixel's value is a function of its position and the date."""

    window_invariant = True

    def __init__(self):
        self.reads = 0

    def read_date(self, items, geobox):
        self.reads += 1
        x, y = np.meshgrid(geobox.coords["x"].values, geobox.coords["y"].values)
        day = items[0].datetime.timetuple().tm_yday
        base = (x - X0) / 10 + (y - Y0) / 1000 + day
        return np.stack([base + b for b in range(len(CUBE_BANDS))]).astype("float32")


def _scenes(n: int = 2) -> list[pystac.Item]:
    box = [110.0, 20.0, 130.0, 30.0]
    return [pystac.Item(f"g{k}", None, box, datetime(2021, 3, 1 + k, tzinfo=UTC),
                        {"proj:code": UTM}) for k in range(n)]  # fmt: skip


def test_block_cache__overlapping_windows_share_entries_and_values(tmp_path):
    cache, source = PieceCache(tmp_path), GridSource()
    a = GeoBox.from_bbox((X0 + 100, Y0, X0 + 900, Y0 + 500), crs=UTM, resolution=10)
    b = GeoBox.from_bbox((X0 + 300, Y0 + 200, X0 + 1200, Y0 + 600), crs=UTM, resolution=10)

    def read(geobox):
        report = FetchReport()
        chunks = iter_chunks(_scenes(), IMG, geobox, source=source, cache=cache, report=report,
                             date_chunk=5, retry=RETRY)  # fmt: skip
        return next(chunks), report

    first, rep_a = read(a)
    reads = source.reads
    second, rep_b = read(b)  # inside the blocks a's read stored: nothing read again
    assert len(rep_a.fetched) == 2 and len(rep_b.cached) == 2 and source.reads == reads
    for got, geobox in ((first, a), (second, b)):
        direct = np.stack([source.read_date([it], geobox) for it in _scenes()])
        np.testing.assert_array_equal(got["red"].values, direct[:, CUBE_BANDS.index("red")])

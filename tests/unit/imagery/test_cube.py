"""Reading dates: a failing date is skipped; a tile whose every first date fails stops."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pystac
import pytest
from odc.geo.geobox import GeoBox

from pipeline.config import Imagery, RetryOptions
from pipeline.imagery.bands import CUBE_BANDS
from pipeline.imagery.cache import FetchReport, PieceCache
from pipeline.imagery.cube import FAIL_FAST_DATES, fetch_date
from pipeline.imagery.sources import FatalSourceError

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


def _read(source, day: str, report: FetchReport) -> np.ndarray:
    item = pystac.Item(day, None, None, dt.datetime.fromisoformat(day), {})
    return fetch_date(source, [item], GEOBOX, IMAGERY, PieceCache(None), report, day, NO_WAIT)


def test_fetch_date__an_unreadable_date_is_skipped_after_a_good_one():
    report = FetchReport()
    days = [f"2022-01-{d:02d}" for d in range(1, 8)]
    source = Source({days[0]})
    arrays = [_read(source, d, report) for d in days]
    assert np.isfinite(arrays[0]).all() and all(np.isnan(a).all() for a in arrays[1:])
    assert sorted(report.skipped) == days[1:]


def test_fetch_date__every_first_date_failing_stops_the_tile_naming_the_file():
    report = FetchReport()
    source = Source(set())
    for d in range(1, FAIL_FAST_DATES):
        _read(source, f"2022-01-{d:02d}", report)
    with pytest.raises(FatalSourceError, match=r"swir16\.tif: not a TIFF.*imagery\.bands"):
        _read(source, f"2022-01-{FAIL_FAST_DATES:02d}", report)

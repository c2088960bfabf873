"""The background prefetch: draws the flagged plots' chart, chips and basemap into the review
cache, at most its limit, the worklist's rows first."""

from __future__ import annotations

import threading

import pytest

import pipeline.review.prefetch as prefetch_module
from pipeline.results import open_run
from pipeline.review.prefetch import Prefetcher
from tests.servers.review import copy_for_review


@pytest.fixture(scope="module")
def run(tiny_run, tmp_path_factory):
    return open_run(copy_for_review(tiny_run, tmp_path_factory.mktemp("prefetch") / "run"))


def test_prefetcher__draws_flagged_plots_up_to_its_limit(run):
    flagged = run.plots.loc[run.plots["status"] != "consistent", "row"].tolist()[:3]
    prefetch = Prefetcher(run, limit=2)
    prefetch.want(flagged)
    assert prefetch.wait(timeout=300)
    assert prefetch.drawn == flagged[:2] and not prefetch.failed
    for row in flagged[:2]:
        folder = run.layout.review_cache / str(row)
        assert (folder / "series.png").is_file() and (folder / "chips.json").is_file()
        assert any(folder.glob("*-before-true-*.png")) or any(folder.glob("*-strip-*.png"))
    assert not (run.layout.review_cache / str(flagged[2])).exists()
    assert list((run.layout.review_cache / "basemap").glob("*.png"))
    prefetch.want(flagged)  # over its limit: nothing more
    assert prefetch.wait(timeout=300) and prefetch.drawn == flagged[:2]


def test_prefetcher__shown_rows_go_first(run, monkeypatch):
    release, drawn = threading.Event(), []

    def draw(run, row, basemap):
        release.wait(timeout=60)
        drawn.append(row)
        return []

    monkeypatch.setattr(prefetch_module, "draw_evidence", draw)
    prefetch = Prefetcher(run, limit=10)
    prefetch.want([1, 2, 3, 4])
    prefetch.want([4, 9], first=True)
    release.set()
    assert prefetch.wait(timeout=60)
    assert sorted(drawn) == [1, 2, 3, 4, 9]
    assert drawn.index(4) < drawn.index(2) and drawn.index(9) < drawn.index(2)

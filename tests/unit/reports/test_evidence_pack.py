"""Evidence packs written in chunks: the imagery dates kept between packs, and the processes."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from pipeline.reports import evidence_pack


def _fake_run(tiles: list):
    plots = pd.DataFrame({"row": range(len(tiles)), "tile": tiles})
    return SimpleNamespace(plots=plots.set_index(plots["row"].rename(None)))


def _recording(seen: dict):
    def write(run, row, path, context, render, memory=None):
        seen[row] = sorted(memory)  # the dates kept from the packs before
        memory[f"date of tile {run.plots.loc[row, 'tile']}"] = row
        return Path(path)

    return write


def test_write_evidence_packs__dates_kept_within_a_tile_dropped_at_the_next(monkeypatch):
    seen: dict = {}
    monkeypatch.setattr(evidence_pack, "write_evidence_pack", _recording(seen))
    run = _fake_run(["a", "a", "b", "b", None])
    done = evidence_pack.write_evidence_packs(run, [0, 1, 2, 3, 4], lambda r: f"p{r}", {}, None)
    assert [p.name for p in done] == ["p0", "p1", "p2", "p3", "p4"]
    assert seen[1] == ["date of tile a"]  # the second plot of tile a reuses its dates
    assert seen[2] == [] and seen[3] == ["date of tile b"]  # tile b starts afresh
    assert seen[4] == []  # a plot without a tile keeps nothing


@pytest.mark.skipif("fork" not in mp.get_all_start_methods(), reason="no fork here")
def test_write_evidence_packs__two_workers_this_process_and_one_fork(monkeypatch):
    seen: dict = {}
    monkeypatch.setattr(evidence_pack, "write_evidence_pack", _recording(seen))
    run = _fake_run(["a"] * 4 + ["b"] * 4)
    done = evidence_pack.write_evidence_packs(run, list(range(8)), lambda r: f"p{r}", {}, None, 2)
    assert [p.name for p in done] == [f"p{r}" for r in range(8)]  # in the order asked
    assert sorted(seen) == [0, 1, 2, 3]  # this process wrote the first chunk; a fork the rest

"""The start-level grid of large pools (peers.GRID_MIN_PEERS) in the other band readings."""

from __future__ import annotations

import numpy as np

import pipeline.judgement.peers as peers
from pipeline.judgement.expectation import _box_counts, band_counts


def test_band_counts__grid_counts_between_the_narrower_and_wider_bands():
    """A large pool's counts are those of the query's grid cell centre: at least the exact
    count within band − step/2, at most within band + step/2; a small pool's are exact."""
    rng = np.random.default_rng(10)
    n, band, half = peers.GRID_MIN_PEERS + 300, 0.3, peers.GRID_STEP / 2
    level = rng.uniform(-0.2, 1.0, (n, 2))
    level[rng.random(level.shape) < 0.03] = np.nan
    data = np.flatnonzero(rng.random(n) < 0.99)
    query = rng.choice(n, 400, replace=False)
    assert peers.uses_grid(len(data))
    got = band_counts(level, data, query, band)
    inner = _box_counts(level, data, query, band - half)
    outer = _box_counts(level, data, query, band + half)
    assert (inner <= got).all() and (got <= outer).all()
    assert (got != _box_counts(level, data, query, band)).any()  # the grid is in use
    small = data[: peers.GRID_MIN_PEERS - 1]
    assert (band_counts(level, small, query, band) == _box_counts(level, small, query, band)).all()


def test_band_counts__grid_query_counts_itself():
    """A plot of the pool counts itself under the grid too (its cell centre is within half a
    step of it), so the callers' self-subtraction stays right."""
    rng = np.random.default_rng(11)
    n = peers.GRID_MIN_PEERS + 10
    level = rng.uniform(0, 1, (n, 2))
    data = np.arange(n)
    lonely = rng.choice(n, 50, replace=False)
    level[lonely, 0] = 5.0 + 10 * np.arange(50)  # nobody else within the band
    assert (band_counts(level, data, lonely, 0.3) == 1).all()

from __future__ import annotations

import warnings

import numpy as np

from pipeline.judgement.peers import (
    masked_medians,
    member_chunks,
    nanmedian,
    near_peers,
    unique_rows,
    within_band,
)


def _nanmedian(a: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(a, 0)


def test_masked_medians__equal_nanmedian_both_ways():
    """Sorted, counted and ranked medians equal np.nanmedian over each set's rows bit for bit,
    with repeated rows, NaNs, infinities, empty and all-NaN sets."""
    rng = np.random.default_rng(1)
    for trial in range(30):
        n, d, g = rng.integers(1, 60), rng.integers(1, 9), rng.integers(1, 12)
        base = rng.normal(size=(max(1, n // 3), d))
        base[rng.random(base.shape) < 0.3] = np.nan
        base[rng.random(base.shape) < 0.03] = np.inf
        values = base[rng.integers(0, len(base), n)]
        masks = rng.random((g, n)) < rng.uniform(0, 1)
        coords = rng.normal(size=(n, 2)) if trial % 2 else None
        for how in ("sorted", "counted", "ranked"):
            med, count = masked_medians(values, masks, coords=coords, how=how)
            for k in range(g):
                rows = values[masks[k]]
                want = _nanmedian(rows) if len(rows) else np.full(d, np.nan)
                assert np.array_equal(med[k], want, equal_nan=True), (trial, how, k)
                assert (count[k] == np.isfinite(rows).sum(0)).all()


def test_masked_medians__ranked_equals_nanmedian_on_overlapping_bands():
    """Every plot its own near peers (distinct start levels, sets overlapping as bands do):
    the ranked way gives np.nanmedian's values bit for bit; a planted
    outlier row moves no median where it is outside the set."""
    rng = np.random.default_rng(4)
    n, d = 400, 6
    levels = rng.uniform(0, 1, (n, 2))
    values = rng.normal(size=(n, d)).round(2)  # ties between rows
    values[rng.random(values.shape) < 0.2] = np.nan
    values[0] = 1e6  # an outlier peer at the corner (0.9, 0.9) of the levels
    levels[0] = 0.9
    sets = near_peers(levels, np.arange(n), np.ones(n, bool), 0.15)
    med, count = masked_medians(
        values[sets.peers], sets.masks, coords=levels[sets.peers], how="ranked"
    )
    for g, mask in enumerate(sets.masks):
        rows = values[sets.peers[mask]]
        assert np.array_equal(med[g], _nanmedian(rows), equal_nan=True), g
        assert (count[g] == np.isfinite(rows).sum(0)).all()
    far = ~sets.masks[:, np.flatnonzero(sets.peers == 0)[0]]
    assert far.any() and (np.abs(med[far]) < 1e3).all()


def test_near_peers__same_sets_as_within_band():
    """Each member's set is within_band's, NaN levels counting as near; equal sets shared."""
    rng = np.random.default_rng(2)
    levels = np.round(rng.uniform(-0.5, 1.2, (200, 2)), 1)  # repeated levels
    levels[rng.random(levels.shape) < 0.1] = np.nan
    is_peer = rng.random(200) < 0.6
    members = np.flatnonzero(rng.random(200) < 0.5)
    sets = near_peers(levels, members, is_peer, 0.3)
    for m, i in enumerate(members):
        want = is_peer & within_band(levels, i, 0.3)
        got = np.zeros(200, bool)
        got[sets.peers[sets.masks[sets.of_member[m]]]] = True
        assert (got == want).all(), i
    assert len(sets.masks) < len(members)
    assert len(unique_rows(np.packbits(sets.masks, axis=1))[0]) == len(sets.masks)


def test_nanmedian__equals_numpy_along_either_axis():
    rng = np.random.default_rng(3)
    for shape in [(50, 7), (3, 400), (1, 1), (20, 0)]:
        a = rng.normal(size=shape)
        a[rng.random(shape) < 0.4] = np.nan
        a[rng.random(shape) < 0.02] = -np.inf
        a[:1] = np.nan  # an all-NaN lane
        for axis in (0, 1):
            assert np.array_equal(nanmedian(a, axis), _nanmedian(a if axis == 0 else a.T),
                                  equal_nan=True), (shape, axis)  # fmt: skip


def test_member_chunks__every_plot_once_and_whole_where_it_fits(monkeypatch):
    """Pieces hold every item once, of nearby levels; one piece where the sets fit."""
    import pipeline.judgement.peers as peers

    rng = np.random.default_rng(5)
    levels = rng.uniform(0, 1, (500, 2))
    levels[rng.random(levels.shape) < 0.05] = np.nan
    items = rng.permutation(500)[:300]
    whole = member_chunks(levels[items], items, 100)
    assert len(whole) == 1 and (whole[0] == items).all()
    monkeypatch.setattr(peers, "MAX_SET_CELLS", 100 * 40)
    parts = member_chunks(levels[items], items, 100)
    assert len(parts) == 8 and all(len(p) <= 40 for p in parts)
    assert np.array_equal(np.sort(np.concatenate(parts)), np.sort(items))
    spread = [np.nanmax(levels[p, 0]) - np.nanmin(levels[p, 0]) for p in parts]
    assert np.median(spread) < 0.5  # nearby levels, not a random draw


def test_compute_evidence__near_peer_sets_in_pieces_give_the_same_values(monkeypatch):
    """Near-peer sets built a few plots at a time (as for a province) change no value."""
    import pandas as pd

    import pipeline.judgement.peers as peers
    from pipeline.config import Evidence
    from pipeline.judgement.evidence import compute_evidence
    from tests.synthetic import series_frame

    kinds = (["genuine"] * 6 + ["forest", "none", "loss", "low"]) * 4
    times = pd.date_range("2021-01-01", "2024-12-31", freq="10D")
    plots = pd.DataFrame({"row": range(len(kinds)), "planting_year": 2022, "is_design": False,
                          "geom_status": "ok", "geom_area_mu": 20.0})  # fmt: skip
    share = {"genuine": 0.95, "forest": 0.0, "none": 0.02, "loss": 0.95, "low": 0.9}
    pixels = pd.DataFrame({"row": range(len(kinds)), "n_pixels": 130.0, "data_share": 1.0,
                           "planted_share": [share[k] for k in kinds]})  # fmt: skip
    series = series_frame(kinds, times, 7)
    whole = compute_evidence(plots, series, pixels, Evidence())
    monkeypatch.setattr(peers, "MAX_SET_CELLS", 30)
    pieces = compute_evidence(plots, series, pixels, Evidence())
    assert whole.equals(pieces)
    assert np.isfinite(whole["winter_gap_peers"]).any()

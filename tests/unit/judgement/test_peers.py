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


def test_near_peers__exact_below_grid_min_peers():
    """A pool smaller than GRID_MIN_PEERS keeps every member's own set (within_band's)."""
    import pipeline.judgement.peers as peers

    rng = np.random.default_rng(6)
    n = peers.GRID_MIN_PEERS - 1
    levels = rng.uniform(-0.2, 1.0, (n, 2))
    members = rng.choice(n, 50, replace=False)
    sets = near_peers(levels, members, np.ones(n, bool), 0.3)
    for m, i in enumerate(members):
        assert (sets.masks[sets.of_member[m]] == within_band(levels, i, 0.3)).all(), i
    assert len(sets.masks) == len(members)


def test_near_peers__grid_sets_lie_between_the_narrower_and_wider_bands():
    """In a large pool each member's set holds every peer within band − step/2 of it and none
    beyond band + step/2 (NaN levels still near); members of one grid cell share a set."""
    import pipeline.judgement.peers as peers

    rng = np.random.default_rng(7)
    n, band, half = peers.GRID_MIN_PEERS + 500, 0.3, peers.GRID_STEP / 2
    levels = rng.uniform(0.0, 0.6, (n, 2))  # 30 × 30 cells
    levels[rng.random(levels.shape) < 0.02] = np.nan
    is_peer = rng.random(n) < 0.95
    assert peers.uses_grid(int(is_peer.sum()))
    members = np.flatnonzero(rng.random(n) < 0.5)
    sets = near_peers(levels, members, is_peer, band)
    assert len(sets.masks) <= 31 * 31 + 62 < len(members)  # shared per cell (NaN: own)
    for m in rng.choice(len(members), 60, replace=False):
        i = members[m]
        got = np.zeros(n, bool)
        got[sets.peers[sets.masks[sets.of_member[m]]]] = True
        inner = is_peer & within_band(levels, i, band - half)
        outer = is_peer & within_band(levels, i, band + half)
        assert (got[inner]).all() and not (got & ~outer).any(), i


def test_near_peers__grid_medians_within_the_bound_of_the_exact_ones():
    """Seeded large cohort, peer NDVI a smooth function of start level (0.4 and 0.2 per unit of
    forest-likeness) plus noise (sd 0.03): the medians over grid sets sit within |exact △ grid|
    ranks of the exact set's median (the bound the sandwich gives) and, in value, within what
    moving the plot's start level by GRID_STEP / 2 does (Σ gradient × step / 2 = 0.006)."""
    import pipeline.judgement.peers as peers

    rng = np.random.default_rng(8)
    n, d, band, slope = peers.GRID_MIN_PEERS + 1000, 12, 0.3, np.array([0.4, 0.2])
    levels = rng.uniform(-0.2, 1.0, (n, 2))
    values = (levels @ slope + rng.normal(0, 0.03, (d, n))).T  # peers × dates
    values[rng.random(values.shape) < 0.1] = np.nan
    values[0] = 50.0  # an outlier peer: in or out of a set, it moves a median by one rank
    sets = near_peers(levels, np.arange(n), np.ones(n, bool), band)
    med, _ = masked_medians(values[sets.peers], sets.masks, coords=sets.levels)
    errors = []
    for i in rng.choice(n, 150, replace=False):
        exact = within_band(levels, i, band)
        grid = np.zeros(n, bool)
        grid[sets.peers[sets.masks[sets.of_member[i]]]] = True
        moved = int((exact != grid).sum())
        want = _nanmedian(values[exact])
        got = med[sets.of_member[i]]
        for c in range(d):
            col = np.sort(values[exact, c][np.isfinite(values[exact, c])])
            r = (len(col) - 1) / 2
            lo = col[max(0, int(np.floor(r)) - moved)]
            hi = col[min(len(col) - 1, int(np.ceil(r)) + moved)]
            assert lo <= got[c] <= hi, (i, c, moved)
        errors.extend(np.abs(got - want))
    shift = peers.GRID_STEP / 2 * slope.sum()
    assert np.quantile(errors, 0.95) <= shift and np.median(errors) <= shift / 3
    assert max(errors) <= 2 * shift


def test_member_chunks__one_piece_where_grid_cells_fit(monkeypatch):
    """A large pool's members go as one piece where their occupied grid cells' sets fit."""
    import pipeline.judgement.peers as peers

    rng = np.random.default_rng(9)
    levels = rng.uniform(0, 0.2, (3000, 2))  # 10 × 10 cells at most
    items = np.arange(3000)
    monkeypatch.setattr(peers, "MAX_SET_CELLS", 200 * peers.GRID_MIN_PEERS)
    assert len(member_chunks(levels, items, peers.GRID_MIN_PEERS)) == 1
    assert len(member_chunks(levels, items, peers.GRID_MIN_PEERS - 1)) > 1


def test_masked_medians__one_large_set_by_selection_equals_nanmedian():
    """One set of many rows (the all-peers fallback) goes by selection: np.nanmedian's values
    bit for bit, with ties, NaNs, infinities and an all-NaN column."""
    rng = np.random.default_rng(12)
    values = rng.normal(size=(30_000, 40)).round(2)
    values[rng.random(values.shape) < 0.2] = np.nan
    values[:7] = np.inf
    values[7:9] = -np.inf
    values[:, 5] = np.nan
    values[:-1, 6] = np.nan  # one value
    med, count = masked_medians(values, np.ones((1, len(values)), bool))
    assert np.array_equal(med[0], _nanmedian(values), equal_nan=True)
    assert (count[0] == np.isfinite(values).sum(0)).all()

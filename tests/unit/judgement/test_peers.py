from __future__ import annotations

import warnings

import numpy as np

from pipeline.judgement.peers import masked_medians, nanmedian, near_peers, unique_rows, within_band


def _nanmedian(a: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(a, 0)


def test_masked_medians__equal_nanmedian_both_ways():
    """Sorted and counted medians equal np.nanmedian over each set's rows bit for bit, with
    repeated rows, NaNs, empty and all-NaN sets."""
    rng = np.random.default_rng(1)
    for trial in range(30):
        n, d, g = rng.integers(1, 60), rng.integers(1, 9), rng.integers(1, 12)
        base = rng.normal(size=(max(1, n // 3), d))
        base[rng.random(base.shape) < 0.3] = np.nan
        base[rng.random(base.shape) < 0.03] = np.inf
        values = base[rng.integers(0, len(base), n)]
        masks = rng.random((g, n)) < rng.uniform(0, 1)
        for counted in (False, True):
            med, count = masked_medians(values, masks, counted=counted)
            for k in range(g):
                rows = values[masks[k]]
                want = _nanmedian(rows) if len(rows) else np.full(d, np.nan)
                assert np.array_equal(med[k], want, equal_nan=True), (trial, counted, k)
                assert (count[k] == np.isfinite(rows).sum(0)).all()


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

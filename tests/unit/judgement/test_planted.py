from __future__ import annotations

import numpy as np

from pipeline.config import Evidence
from pipeline.judgement.planted import relative_shares

EV = Evidence()


def _land(n_bare: int, n_shrub: int) -> np.ndarray:
    """Start levels (plots × 2): bare hills near 0, shrub hills near 0.5 (beyond the band)."""
    rng = np.random.default_rng(0)
    level = np.r_[np.zeros(n_bare), np.full(n_shrub, 0.5)] + rng.normal(0, 0.02, n_bare + n_shrub)
    return np.stack([level, level], 1)


def test_relative_shares__full_planting_on_land_the_test_half_sees_is_full():
    # bare hills: the per-pixel test finds ~0.6 of planted pixels; shrub hills: ~0.95
    share = np.array([0.6, 0.62, 0.58, 0.61, 0.3, 0.95, 0.96, 0.94, 0.97])
    years = np.full(9, 2023)
    got = relative_shares(share, years, np.ones(9, bool), _land(5, 4), EV)
    rel = got["planted_share_rel"].to_numpy()
    assert (rel[:4] >= EV.planted_share_full).all()  # full plantings of bare land: not partial
    assert rel[4] < EV.planted_share_full  # half of a bare plot planted: still partial
    assert np.allclose(rel[5:], np.minimum(1, share[5:] / np.median(share[5:])))
    assert np.isclose(got["planted_share_rate"][0], 0.6, atol=0.02)


def test_relative_shares__no_rate_without_peers_and_never_below_the_share():
    share = np.array([0.5, 0.9, 0.05, np.nan])
    years = np.array([2022, 2023, 2023, 0])
    got = relative_shares(share, years, np.ones(4, bool), _land(4, 0), EV)
    assert got["planted_share_rate"].isna().all()  # fewer than min_peers planted peers
    assert np.allclose(got["planted_share_rel"].to_numpy()[:3], share[:3])
    assert np.isnan(got["planted_share_rel"][3])


def test_relative_shares__unplanted_plots_are_no_peers_and_keep_their_share():
    share = np.array([0.9, 0.92, 0.88, 0.02, 0.03, 0.01, 0.04])
    years = np.full(7, 2022)
    got = relative_shares(share, years, np.ones(7, bool), _land(7, 0), EV)
    assert np.isclose(got["planted_share_rate"][3], 0.9)  # the planted peers' median
    assert (got["planted_share_rel"].to_numpy()[3:] < EV.planted_share_none).all()

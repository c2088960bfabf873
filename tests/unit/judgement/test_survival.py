from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.config import Evidence
from pipeline.judgement.survival import growing_levels, nearest_peers, survival_gaps

EV = Evidence()


def _world(low: int | None, seed: int = 0):
    """Two land kinds planted in 2022: ``bare`` plots (start −0.3) gain ~0.5 per due season,
    ``shrub`` plots (start 0.5) ~0.0; plot ``low`` (a shrub plot) gains 0.3 less."""
    rng = np.random.default_rng(seed)
    kind = np.array([0] * 10 + [1] * 6)  # 0 bare, 1 shrub
    start = np.where(kind[:, None] == 0, -0.3, 0.5) + rng.normal(0, 0.03, (len(kind), 2))
    seasons = {}
    for k in (2023, 2024, 2025):
        base = np.where(kind == 0, 0.25 * (k - 2022), 0.0)
        seasons[k] = base + rng.normal(0, 0.03, len(kind))
        if low is not None and k >= 2024:
            seasons[k][low] -= 0.3
    years = np.full(len(kind), 2022)
    peers = np.ones(len(kind), dtype=bool)
    return seasons, years, peers, start


def test_survival_gaps__a_plot_lagging_its_own_kind_is_found():
    seasons, years, peers, start = _world(low=12)
    gap, n = survival_gaps(seasons, years, peers, np.zeros(len(years), bool), start, EV)
    assert gap[12] < -EV.survival_gap  # read against shrub plots, not the faster bare ones
    assert n[12] == 2  # 2024 and 2025 are due (survival_min_years = 2)
    others = np.delete(np.arange(len(gap)), 12)
    assert (np.abs(gap[others]) < EV.survival_gap).all()


def test_survival_gaps__no_lag_no_flag_although_kinds_differ():
    seasons, years, peers, start = _world(low=None)
    gap, _ = survival_gaps(seasons, years, peers, np.zeros(len(years), bool), start, EV)
    assert (np.abs(gap) < EV.survival_gap).all()


def test_survival_gaps__lost_peers_are_no_yardstick():
    seasons, years, peers, start = _world(low=None)
    lost = np.zeros(len(years), bool)
    lost[[10, 11, 13]] = True  # three shrub plots felled: their gains collapse
    for k in (2024, 2025):
        seasons[k][[10, 11, 13]] -= 0.8
    gap, _ = survival_gaps(seasons, years, peers, lost, start, EV)
    assert abs(gap[12]) < EV.survival_gap  # the remaining shrub plots still set the level
    with_lost, _ = survival_gaps(seasons, years, peers, np.zeros(len(years), bool), start, EV)
    assert with_lost[12] > gap[12]  # a felled peer drags the yardstick down and hides a lag


def test_nearest_peers__takes_the_closest_candidates_only():
    start = np.array([[0.0, 0.0], [0.1, 0.1], [1.0, 1.0], [0.05, np.nan], [0.2, 0.2]])
    near = nearest_peers(start, 0, np.array([False, True, True, True, True]), 2)
    assert near.tolist() == [False, True, False, True, False]


def test_growing_levels__median_of_growing_months_per_year():
    dates = pd.date_range("2023-01-05", "2024-12-25", freq="10D")
    D = np.where(np.isin(dates.month, (6, 7, 8)), 1.0, 0.0)[None, :].repeat(2, 0)
    D[1, dates.year == 2024] = np.nan
    levels = growing_levels(D, dates, 3)
    assert set(levels) == {2023, 2024}
    assert np.isfinite(levels[2023]).all() and np.isnan(levels[2024][1])

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.config import Evidence
from pipeline.judgement.survival import growing_levels, nearest_peers, run_noise, survival_gaps

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


def _within_band_ref(start_level, i, band):
    return np.all(~(np.abs(start_level - start_level[i]) > band), 1)


def _pools_ref(group, i, base, min_n):
    """The pools plot ``i`` reads in turn: its class (where ``min_n`` others share it), then the
    classes no faster than its own; every plot of ``base`` only for an unknown class."""
    if group is None or not group[i]:
        return [base]
    pace = ("slow", "medium", "fast")
    if group[i] in pace:
        slower = np.isin(group, pace[: pace.index(group[i]) + 1])
    else:
        slower = group == group[i]
    narrowed = base & (group == group[i])
    if narrowed.sum() - bool(narrowed[i]) >= min_n:
        return [narrowed, base & slower]
    return [base & slower]


def survival_gaps_ref(seasons, years, is_peer, lost, start_level, ev, group=None, spread=None):
    """The full-mask loop (O(plots²)): the reference the cohort version must equal."""
    n = len(years)
    total = np.zeros(n)
    count = np.zeros(n, dtype=int)
    scatter = np.zeros(n)
    usable = is_peer & ~lost
    band = ev.peer_baseline_band
    for i in np.flatnonzero(years > 0):
        cohort = usable & (years == years[i])
        base = cohort if cohort.sum() - bool(cohort[i]) >= ev.min_peers else usable
        for pool in _pools_ref(group, i, base, ev.min_peers):
            if count[i]:
                break
            pool = pool.copy()
            pool[i] = False
            for k, gain in seasons.items():
                if k - years[i] < ev.survival_min_years or not np.isfinite(gain[i]):
                    continue
                same_kind = pool & np.isfinite(gain) & _within_band_ref(start_level, i, band)
                near = nearest_peers(start_level, i, same_kind, ev.survival_peers)
                if near.sum() < 2:
                    continue
                med = float(np.median(gain[near]))
                total[i] += gain[i] - med
                count[i] += 1
                scatter[i] += 1.4826 * float(np.median(np.abs(gain[near] - med)))
    mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    if spread is not None:
        spread[:] = np.where(count > 0, scatter / np.maximum(count, 1), np.nan)
    return mean, count


def random_world(n: int, seed: int, quantized: bool = False):
    """Plots of several cohorts (one of them tiny, one without planting year), growth classes
    with unknowns, NaN levels and gains, and (``quantized``) many tied levels and gains."""
    rng = np.random.default_rng(seed)
    years = rng.choice([0, 2019, 2020, 2021, 2022], n, p=[0.1, 0.02, 0.3, 0.3, 0.28])
    if quantized:
        start = rng.integers(-6, 7, (n, 2)) * 0.05
    else:
        start = rng.uniform(-0.8, 0.8, (n, 2))
    start[rng.random((n, 2)) < 0.1] = np.nan
    seasons = {}
    for k in (2021, 2022, 2023, 2024):
        gain = (rng.integers(0, 5, n) * 0.1) if quantized else rng.normal(0.2, 0.3, n)
        gain[rng.random(n) < 0.15] = np.nan
        seasons[k] = gain
    is_peer = rng.random(n) < 0.8
    lost = rng.random(n) < 0.1
    group = rng.choice(np.array(["", "fast", "slow", "medium"], dtype=object), n)
    group[rng.random(n) < 0.03] = "economic"  # a rare class: too few peers to narrow
    return seasons, years, is_peer, lost, start, group


def _assert_same(got, want):
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_array_equal(np.isnan(got[0]), np.isnan(want[0]))
    assert np.array_equal(got[0], want[0], equal_nan=True)  # bit for bit


def test_survival_gaps__equals_the_full_mask_loop():
    cases = [(0, 300, False), (1, 400, True), (2, 60, False), (3, 25, True), (4, 1200, False)]
    for seed, n, quantized in cases:
        seasons, years, is_peer, lost, start, group = random_world(n, seed, quantized)
        for ev in (EV, Evidence(min_peers=5, survival_peers=3, peer_baseline_band=0.1)):
            for g in (None, group):
                got = survival_gaps(seasons, years, is_peer, lost, start, ev, g)
                want = survival_gaps_ref(seasons, years, is_peer, lost, start, ev, g)
                _assert_same(got, want)


def test_survival_gaps__small_cohort_falls_back_to_all_usable_plots():
    seasons, years, is_peer, lost, start, group = random_world(200, 5)
    years[:3] = 2018  # a cohort of three: fewer than min_peers others
    is_peer[:3] = True
    lost[:3] = False
    got = survival_gaps(seasons, years, is_peer, lost, start, EV, group)
    _assert_same(got, survival_gaps_ref(seasons, years, is_peer, lost, start, EV, group))
    assert (got[1][:3] > 0).any()


def test_survival_gaps__no_usable_peer_at_all():
    seasons, years, is_peer, lost, start, group = random_world(30, 6)
    is_peer[:] = False
    gap, n = survival_gaps(seasons, years, is_peer, lost, start, EV, group)
    assert np.isnan(gap).all() and (n == 0).all()
    one = np.zeros(30, dtype=bool)
    one[0] = True  # a pool of one plot: no yardstick for it, one peer for the others
    _assert_same(
        survival_gaps(seasons, years, one, lost, start, EV, group),
        survival_gaps_ref(seasons, years, one, lost, start, EV, group),
    )


def test_survival_gaps__replicated_plots_tie_at_the_tree_edge():
    """Many exact copies of a few plots (as a bench replicates a world) tie at the k-th nearest
    distance: the ball of every plot as near is read (not the whole pool), with the same
    result as the full mask loop."""
    seasons, years, is_peer, lost, start, group = random_world(40, 5)
    reps = 30
    seasons = {k: np.tile(v, reps) for k, v in seasons.items()}
    years, is_peer, lost = np.tile(years, reps), np.tile(is_peer, reps), np.tile(lost, reps)
    start, group = np.tile(start, (reps, 1)), np.tile(group, reps)
    for g in (None, group):
        got = survival_gaps(seasons, years, is_peer, lost, start, EV, g)
        _assert_same(got, survival_gaps_ref(seasons, years, is_peer, lost, start, EV, g))


def test_closed_canopy_level__read_only_for_listed_species_once_due():
    from pipeline.judgement.survival import closed_canopy_level

    years = np.array([2022, 2022, 2023, 2022, 0])
    species = pd.Series(["桉树", "马尾松", "桉树、木荷", "杨树", "桉树"])
    levels = {2024: np.array([0.3, 0.2, 0.1, 0.1, 0.9]), 2025: np.array([0.8, 0.3, 0.2, 0.1, 0.9])}
    got = closed_canopy_level(levels, years, species, {"桉树": 3})
    # planted 2022: season 2025 is the third after the planting year; 2023's is not due yet;
    # 马尾松 and the deciduous 杨树 are not listed; no planting year, no reading
    assert got[0] == 0.8
    assert np.isnan(got[1:]).all()
    levels[2025][0] = np.nan  # the due season not observed: no reading from an earlier one
    assert np.isnan(closed_canopy_level(levels, years, species, {"桉树": 3})[0])
    assert np.isnan(closed_canopy_level(levels, years, None, {"桉树": 3})).all()


def _paced_world(low: int | None):
    """Bare plots planted in 2022: six fast (gain 0.6 per due season), three medium (0.4),
    three slow (0.2) and plot 12, a slow one with no slow peer near its start (it starts on
    shrub, 0.5, beside the fast shrub plots 13–15, which gain 0.3): ``low`` gains 0.3 less."""
    start = np.array([[-0.3, -0.3]] * 12 + [[0.5, 0.5]] * 4) + np.linspace(0, 0.02, 16)[:, None]
    group = np.array(["fast"] * 6 + ["medium"] * 3 + ["slow"] * 4 + ["fast"] * 3, dtype=object)
    pace = {"fast": 0.6, "medium": 0.4, "slow": 0.2}
    gain = np.array([pace[g] for g in group])
    gain[12:] = [0.0, 0.3, 0.3, 0.3]  # shrub: the cleared cover grows back slowly
    seasons = {2024: gain.copy(), 2025: gain.copy()}
    if low is not None:
        for v in seasons.values():
            v[low] -= 0.3
    return seasons, np.full(16, 2022), np.ones(16, bool), start, group


def test_survival_gaps__a_slow_plot_is_never_read_against_faster_peers():
    seasons, years, peers, start, group = _paced_world(low=None)
    lost = np.zeros(16, bool)
    gap, n = survival_gaps(seasons, years, peers, lost, start, EV, group)
    # the slow shrub plot lags the fast shrub plots by its species alone: no yardstick
    assert np.isnan(gap[12]) and n[12] == 0
    blind, _ = survival_gaps(seasons, years, peers, lost, start, EV)  # classes unknown
    assert blind[12] < -EV.survival_gap  # what the class-blind reading accused
    assert (gap[:12] > -EV.survival_gap).all()  # no bare plot is accused


def test_survival_gaps__slower_classes_are_the_yardstick_of_a_rare_class():
    seasons, years, peers, start, group = _paced_world(low=7)
    group[6] = "slow"  # two medium plots left: too few to narrow to, so medium + slow
    for v in seasons.values():
        v[6] = 0.2  # (growing as the slow plots do)
        v[7] -= 0.2  # the low medium plot lags even the slow ones
    lost = np.zeros(16, bool)
    gap, _ = survival_gaps(seasons, years, peers, lost, start, EV, group)
    assert gap[7] < -EV.survival_gap  # the low medium plot is found against medium and slow
    assert gap[8] >= 0  # the honest medium plot is not (it grows faster than slow peers)


def test_canopy_closure__the_planting_must_rise_beyond_the_spared_trees():
    from pipeline.judgement.survival import canopy_closure

    level = np.array([0.57, 0.57, 0.9, 0.4, np.nan, 0.5])
    start = np.array([0.56, -0.3, 0.5, np.nan, 0.0, 1.2])
    got = canopy_closure(level, start)
    assert got[0] < 0.05  # sparse forest at 0.56 reading 0.57: the spared trees, no canopy
    assert got[1] == 0.57  # bare land: the level itself
    assert abs(got[2] - 0.8) < 1e-9  # shrub at 0.5 reading 0.9: 80 % of the way to forest
    assert got[3] == 0.4  # start unknown: as open land
    assert np.isnan(got[4]) and np.isnan(got[5])  # no level; started forest-like


def test_survival_gaps__spread_is_the_scatter_of_the_yardstick():
    seasons, years, peers, start = _world(low=12, seed=3)
    lost = np.zeros(len(years), bool)
    spread = np.full(len(years), np.nan)
    gap, n = survival_gaps(seasons, years, peers, lost, start, EV, None, spread)
    assert np.isfinite(spread).all() and (spread < 0.1).all()  # peers scatter by ~0.03
    loud = {k: v + np.random.default_rng(1).normal(0, 0.3, len(v)) for k, v in seasons.items()}
    noisy = np.full(len(years), np.nan)
    survival_gaps(loud, years, peers, lost, start, EV, None, noisy)
    assert run_noise(noisy) > 3 * run_noise(spread)  # a noisy landscape reads a larger scatter
    assert np.isnan(run_noise(np.array([0.1, np.nan, 0.2])))  # too few plots to know it


def test_survival_gaps__spread_equals_the_full_mask_loop():
    seasons, years, is_peer, lost, start, group = random_world(300, 2)
    spread = np.full(len(years), np.nan)
    survival_gaps(seasons, years, is_peer, lost, start, EV, group, spread)
    want = np.full(len(years), np.nan)
    survival_gaps_ref(seasons, years, is_peer, lost, start, EV, group, want)
    assert np.array_equal(spread, want, equal_nan=True)


def test_survival_gaps__batches_of_any_size_equal_the_full_mask_loop(monkeypatch):
    """The nearest-peer gaps read many plots of a pool at once: one plot a batch or all at
    once, the same gaps, seasons and spread bit for bit as the full-mask reference loop, on
    plain, quantized (tied) and replicated (ties at the tree edge) worlds."""
    import pipeline.judgement.survival as survival

    worlds = [random_world(900, 13), random_world(700, 14, quantized=True)]
    seasons, years, is_peer, lost, start, group = random_world(40, 5)
    reps = 30  # exact copies: ties at the k-th nearest, read by the per-plot path
    worlds.append(
        (
            {k: np.tile(v, reps) for k, v in seasons.items()},
            *(np.tile(a, reps) for a in (years, is_peer, lost)),
            np.tile(start, (reps, 1)),
            np.tile(group, reps),
        )
    )
    for seasons, years, is_peer, lost, start, group in worlds:
        for g in (None, group):
            want_spread = np.full(len(years), np.nan)
            want = survival_gaps_ref(seasons, years, is_peer, lost, start, EV, g, want_spread)
            for cells in (1, 10**9):
                monkeypatch.setattr(survival, "MAX_CELLS", cells)
                spread = np.full(len(years), np.nan)
                got = survival.survival_gaps(seasons, years, is_peer, lost, start, EV, g, spread)
                _assert_same(got, want)
                assert np.array_equal(spread, want_spread, equal_nan=True)

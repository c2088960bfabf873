"""Seeded tests of the grounds NO_PLANTING_EVIDENCE needs, autumn site work of the claimed year,
the own-level loss check and growth-class peers (issue 8: what 10 m imagery can settle)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.config import Evidence
from pipeline.judgement.decide import flag_plots
from pipeline.judgement.evidence import compute_evidence
from pipeline.judgement.expectation import clearing_read, planting_expectation
from pipeline.judgement.growth import growth_class, same_class
from pipeline.judgement.own_level import own_step
from pipeline.judgement.survival import survival_gaps
from tests.synthetic import series_frame

EV = Evidence()
TIMES = pd.date_range("2020-01-01", "2024-12-31", freq="10D")  # a baseline with autumns


def _frame(ndvi: dict[int, np.ndarray], times: pd.DatetimeIndex) -> pd.DataFrame:
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "row": r,
                    "date": times,
                    "ndvi": v,
                    "ndmi": v - 0.3,
                    "bsi": 0.1 - 0.45 * v,
                    "clear_share": 1.0,
                }
            )  # fmt: skip
            for r, v in ndvi.items()
        ],
        ignore_index=True,
    )


def _plots(n: int, year: int, species: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row": range(n),
            "planting_year": year,
            "is_design": False,
            "geom_status": "ok",
            "geom_area_mu": 20.0,
            "species": species,
        }
    )


def _pixels(shares: list[float]) -> pd.DataFrame:
    n = len(shares)
    return pd.DataFrame(
        {"row": range(n), "n_pixels": 130.0, "data_share": 1.0, "planted_share": shares}
    )


def _bare_hill(kind: str, seed: int, planted: str = "2023-03-01") -> np.ndarray:
    """NDVI of a bare hill (荒山: nothing to clear) planted ``planted`` with a ``fast`` species
    (an evergreen rise of 0.3 NDVI within two years), a ``slow`` one (0.02) or ``none``."""
    rng = np.random.default_rng(seed)
    t = np.clip((TIMES - pd.Timestamp(planted)).days.to_numpy() / 365.25, 0, None)
    gain = {"fast": 0.15, "slow": 0.01, "none": 0.0}[kind]
    return 0.22 + gain * t + rng.normal(0, 0.01, len(TIMES))


def _judge(plots, series, pixels):
    ev = compute_evidence(plots, series, pixels, EV)
    desk = pd.DataFrame({"desk_reasons": [[] for _ in range(len(plots))]}, index=plots["row"])
    return ev, flag_plots(plots, desk, ev, EV)[0]


def test_young_slow_planting_on_bare_land__suspect_not_no_planting():
    """Six slow plantings and one unplanted claim on bare hills, 1–2 years on: the imagery
    cannot tell them apart yet, so none is refuted; each is ESTABLISHMENT_NOT_YET_VISIBLE."""
    kinds = ["slow"] * 6 + ["none"]
    series = _frame({i: _bare_hill(k, i) for i, k in enumerate(kinds)}, TIMES)
    plots = _plots(len(kinds), 2023, ["马尾松"] * len(kinds))
    ev, out = _judge(plots, series, _pixels([0.0] * len(kinds)))
    assert (ev["prep_ndvi_drop"] < EV.prep_ndvi_drop).all()  # nothing to clear
    assert (ev["years_after_planting"] < EV.establish_years).all()
    assert set(out["reasons"]) == {"ESTABLISHMENT_NOT_YET_VISIBLE"}
    assert set(out["status"]) == {"suspect"}
    assert out["planted_area_mu"].isna().all()  # not settled: no area either way


def test_established_peers_and_unestablished_plot__no_planting():
    """Fast plantings on the same bare land have established by now; the claim beside them
    that shows nothing is refuted (peer-relative expectation, read in the same imagery)."""
    kinds = ["fast"] * 6 + ["none"]
    series = _frame({i: _bare_hill(k, i) for i, k in enumerate(kinds)}, TIMES)
    plots = _plots(len(kinds), 2023, ["桉树"] * len(kinds))
    shares = [0.95] * 6 + [0.0]
    ev, out = _judge(plots, series, _pixels(shares))
    assert ev.loc[6, "peer_establish_share"] >= EV.peer_expect_share
    assert out.loc[6, "reasons"] == "NO_PLANTING_EVIDENCE"
    assert (out.loc[:5, "status"] == "consistent").all()


def test_planting_expectation__grounds_from_cleared_peers_established_peers_or_years():
    years = np.array([2022] * 5)
    start = np.zeros((5, 2))
    cand = np.ones(5, dtype=bool)
    rise = np.array([0.5, 0.5, 0.5, 0.5, 0.0])
    none_cleared = np.zeros(5, dtype=bool)
    group = np.array(["fast"] * 4 + ["slow"], dtype=object)
    last = np.full(5, 2024.0)
    got = planting_expectation(years, cand, start, none_cleared, rise, group, last, EV)
    # the slow plot has no peer of its class: no establishment expectation
    assert np.isnan(got.loc[4, "peer_establish_share"])
    assert got.loc[4, "peer_clear_share"] == 0.0 and got.loc[4, "years_after_planting"] == 2
    group[:] = "fast"
    got = planting_expectation(years, cand, start, ~none_cleared, rise, group, last, EV)
    assert got.loc[4, "peer_establish_share"] == 1.0 and got.loc[4, "peer_clear_share"] == 1.0
    far = start.copy()
    far[:4] = 0.8  # the peers started on other land (shrub, not bare): no expectation
    got = planting_expectation(years, cand, far, ~none_cleared, rise, group, last, EV)
    assert got.loc[4, ["peer_clear_share", "peer_establish_share"]].isna().all()


def _herb_cleared(when: str, seed: int) -> np.ndarray:
    """A herb-covered plot (summer green, winter brown) cleared at ``when`` and planted."""
    rng = np.random.default_rng(seed)
    season = 0.5 + 0.5 * np.sin(2 * np.pi * (TIMES.day_of_year.to_numpy() - 110) / 365.25)
    herb = 0.42 + 0.33 * season
    t = (TIMES - pd.Timestamp(when)).days.to_numpy() / 365.25
    tree = 0.85 * np.clip(t / 3.0, 0, 1) ** 1.5
    regrow = np.clip(t / 0.5, 0.35, 1)
    ndvi = np.where(t < 0, herb, tree * 0.82 + (1 - tree) * herb * regrow)
    return ndvi + rng.normal(0, 0.015, len(TIMES))


def test_autumn_planting_of_the_claimed_year__site_work_found_and_no_loss():
    """Claimed 2022; six plots planted in spring 2022, two in November 2022 (秋冬造林 of Y):
    the autumn site work is planting evidence, and the loss test starts after it."""
    when = ["2022-02-20"] * 6 + ["2022-11-10", "2022-11-25"]
    series = _frame({i: _herb_cleared(w, i) for i, w in enumerate(when)}, TIMES)
    plots = _plots(len(when), 2022, ["杉木"] * len(when))
    ev, out = _judge(plots, series, _pixels([0.95] * len(when)))
    assert (ev["prep_ndvi_drop"] >= EV.prep_ndvi_drop).all()
    assert (ev.loc[6:, "site_work_late"] == 1).all() and (ev.loc[:5, "site_work_late"] == 0).all()
    assert not out["reasons"].str.contains("NO_PLANTING|VEGETATION_LOSS").any()
    main_only = Evidence(prep_late_months=0)  # the old window: the autumn work is unseen
    old = compute_evidence(plots, series, _pixels([0.95] * len(when)), main_only)
    assert (old.loc[6:, "prep_ndvi_drop"] < EV.prep_ndvi_drop).all()


def test_own_step__peer_swing_is_no_drop_a_clearing_is():
    t = np.arange(0, 700, 10, dtype=float)
    flat = 0.5 + np.random.default_rng(0).normal(0, 0.01, len(t))
    assert abs(own_step(t, flat, 400.0, min_obs=3, before_days=400, after_days=120)) < 0.05
    cleared = np.where(t >= 400, 0.15, flat)
    step = own_step(t, cleared, 400.0, min_obs=3, before_days=400, after_days=120)
    assert step > 0.3
    assert np.isnan(own_step(t[:3], flat[:3], 20.0, min_obs=3, before_days=400, after_days=120))


def test_compute_evidence__loss_against_swinging_peers_needs_an_own_drop():
    """A bare plot whose own NDVI never falls, among herb-covered peers that green each spring:
    its level against the peers may step down, but it is no VEGETATION_LOSS; a real clearing
    among the same peers still is."""
    kinds = ["genuine"] * 6 + ["loss"]
    series = series_frame(kinds, TIMES, 3)
    rng = np.random.default_rng(9)
    flat = 0.3 + rng.normal(0, 0.01, len(TIMES))
    flat[TIMES < "2022-02-01"] += 0.12  # cleared once, for planting, then flat
    series = pd.concat([series, _frame({7: flat}, TIMES)], ignore_index=True)
    plots = _plots(8, 2022, ["杉木"] * 8)
    ev, out = _judge(plots, series, _pixels([0.95] * 8))
    assert not ev.loc[7, "loss_own_drop"] >= EV.loss_own_drop  # NaN: no break passed (loss_z 6)
    assert "VEGETATION_LOSS" not in out.loc[7, "reasons"]
    assert ev.loc[6, "loss_own_drop"] >= EV.loss_own_drop
    assert out.loc[6, "reasons"] == "VEGETATION_LOSS"


def test_growth_class__first_species_names_it_unknown_is_blank():
    got = growth_class(pd.Series(["马尾松", "桉树、木荷", None, "银杏"]), 4)
    assert list(got) == ["slow", "fast", "", ""]
    assert list(growth_class(None, 2)) == ["", ""]


def test_same_class__narrows_only_with_enough_peers():
    group = np.array(["slow", "slow", "slow", "slow", "fast", "fast"], dtype=object)
    pool = np.ones(6, dtype=bool)
    assert same_class(group, 0, pool, 3).sum() == 4
    assert same_class(group, 4, pool, 3).sum() == 6  # one other fast plot: all peers
    assert same_class(np.array([""] * 6, dtype=object), 0, pool, 3).sum() == 6


def test_survival_gaps__a_slow_species_is_read_against_slow_peers():
    """Four slow plantings gaining 0.1 and five fast ones gaining 0.6: against all peers the
    slow ones lag (a false LOW_SURVIVAL); against their growth class they do not, and a slow
    plot that truly lags its class still shows."""
    gain = np.array([0.1, 0.1, 0.1, 0.1, -0.3, 0.6, 0.6, 0.6, 0.6, 0.6])
    seasons = {2024: gain}
    years = np.full(10, 2022)
    peer = np.ones(10, dtype=bool)
    lost = np.zeros(10, dtype=bool)
    start = np.zeros((10, 2))
    group = np.array(["slow"] * 5 + ["fast"] * 5, dtype=object)
    mixed, _ = survival_gaps(seasons, years, peer, lost, start, EV)
    by_class, _ = survival_gaps(seasons, years, peer, lost, start, EV, group)
    assert (mixed[:4] < -EV.survival_gap).all()
    assert (np.abs(by_class[:4]) < EV.survival_gap).all()
    assert by_class[4] < -EV.survival_gap and (np.abs(by_class[5:]) < EV.survival_gap).all()


def test_planting_expectation__clearing_is_expected_from_plantings_of_the_same_kind():
    """Eucalyptus is cleared whole, pines are planted in pits a plot mean hardly shows: an
    uncleared pine plot beside cleared eucalyptus has no clearing grounds when enough pines of
    the cohort were not cleared either; a plot of a class with too few plots reads the cohort."""
    years = np.array([2023] * 9)
    start, cand = np.zeros((9, 2)), np.ones(9, dtype=bool)
    group = np.array(["fast"] * 5 + ["slow"] * 4, dtype=object)
    cleared = np.array([True] * 5 + [False] * 4)
    rise, last = np.full(9, np.nan), np.full(9, 2024.0)
    got = planting_expectation(years, cand, start, cleared, rise, group, last, EV)
    assert (got.loc[5:, "peer_clear_share"] == 0.0).all()  # pines: none of the 3 others cleared
    assert (got.loc[:4, "peer_clear_share"] == 1.0).all()
    few = group.copy()
    few[6:] = "medium"  # one slow plot left: read against the whole cohort
    got = planting_expectation(years, cand, start, cleared, rise, few, last, EV)
    assert got.loc[5, "peer_clear_share"] == 5 / 8


def test_planting_expectation__peers_without_readable_site_work_do_not_count_as_uncleared():
    """Three of seven cohort peers had too few clear views in the prep window to tell site
    work (INSUFFICIENT_DATA): unknown, not uncleared. Read as uncleared they keep the share of
    cleared peers under ``peer_expect_share`` (3 of 7); set aside, three of the four peers that
    can be read were cleared: the claim that shows no site work has clearing grounds."""
    years = np.array([2022] * 8)
    start, cand = np.zeros((8, 2)), np.ones(8, dtype=bool)
    group = np.array(["slow"] * 8, dtype=object)
    cleared = np.array([True, True, True, False, False, False, False, False])
    read = np.array([True, True, True, False, False, False, True, True])
    rise, last = np.full(8, np.nan), np.full(8, 2024.0)
    got = planting_expectation(years, cand, start, cleared, rise, group, last, EV)
    assert got.loc[7, "peer_clear_share"] == 3 / 7 < EV.peer_expect_share
    got = planting_expectation(years, cand, start, cleared, rise, group, last, EV, read)
    assert got.loc[7, "peer_clear_share"] == 3 / 4 >= EV.peer_expect_share
    assert got.loc[3, "peer_clear_share"] == 3 / 5  # an unknown plot: the five read peers
    # absence: where the peers that can be read were not cleared either, there are no grounds
    none = np.zeros(8, dtype=bool)
    got = planting_expectation(years, cand, start, none, rise, group, last, EV, read)
    assert got.loc[7, "peer_clear_share"] == 0.0


def test_clearing_read__partial_planting_that_failed_the_gates_tells_nothing_of_its_site_work():
    """Half of a shrub plot cleared (NDVI drop 0.25 there): its plot mean drops 0.125, under
    the gate, yet the planted half was cleared: as a clearing peer it is unknown, not
    uncleared. A partial planting that passes the gates despite the dilution was cleared; a
    fully planted plot and a plot showing no planting count as they read; a plot with too few
    prep-window views is unknown."""
    cleared = np.array([False, True, False, False, False])
    share = np.array([0.5, 0.5, 0.9, 0.0, 0.9])
    n_prep = np.array([20, 20, 20, 20, 1])
    got = clearing_read(n_prep, n_prep, cleared, share, share, EV)
    assert got.tolist() == [False, True, True, True, False]
    # partial relative to what planted land like this shows: a share of 0.5 where planted
    # peers show 0.55 is a full planting found weakly; a share under planted_share_none is
    # no planting, whatever the rate
    rel = np.array([0.91, np.nan, np.nan, 0.3, np.nan])
    got = clearing_read(n_prep, n_prep, cleared, share, rel, EV)
    assert got.tolist() == [True, True, True, True, False]
    # the planting year's part of the window decides alike
    one = np.array([1.0])
    assert not clearing_read(np.array([20]), np.array([1]), np.array([True]), one, one, EV)[0]
    # a cohort: three cleared peers and four uncleared partial ones -> grounds (3/3, not 3/7)
    years, start = np.array([2022] * 8), np.zeros((8, 2))
    cand, group = np.ones(8, dtype=bool), np.array(["medium"] * 8, dtype=object)
    cl = np.array([True] * 3 + [False] * 5)
    sh = np.array([0.95] * 3 + [0.45, 0.4, 0.5, 0.3, 0.0])
    rise, last = np.full(8, np.nan), np.full(8, 2024.0)
    read = clearing_read(np.full(8, 20), np.full(8, 20), cl, sh, sh, EV)
    got = planting_expectation(years, cand, start, cl, rise, group, last, EV, read)
    assert got.loc[7, "peer_clear_share"] == 1.0
    plain = planting_expectation(years, cand, start, cl, rise, group, last, EV)
    assert plain.loc[7, "peer_clear_share"] == 3 / 7 < EV.peer_expect_share
    # absence: uncleared fully planted peers still count against the grounds
    sh[3:7] = 0.95
    read = clearing_read(np.full(8, 20), np.full(8, 20), cl, sh, sh, EV)
    got = planting_expectation(years, cand, start, cl, rise, group, last, EV, read)
    assert got.loc[7, "peer_clear_share"] == 3 / 7


def planting_expectation_ref(
    years, candidates, start_level, cleared, rise, group, last, ev, prep_read=None
):
    """The former full-mask loop (O(plots²)): the reference the tree version must equal."""
    n = len(years)
    read = np.ones(n, dtype=bool) if prep_read is None else prep_read
    clear_share = np.full(n, np.nan)
    est_share = np.full(n, np.nan)
    has_rise = np.isfinite(rise)
    established = has_rise & (rise >= ev.establish_rise)
    for i in np.flatnonzero(years > 0):
        band = ~(np.abs(start_level - start_level[i]) > ev.peer_baseline_band)
        near = candidates & (years == years[i]) & np.all(band, 1)
        near[i] = False
        seen = near & read  # peers whose site preparation is read
        if seen.sum() >= ev.min_peers:
            clear_share[i] = cleared[seen].mean()
        kind = seen & (group == group[i])
        if group[i] and kind.sum() >= ev.min_peers:
            clear_share[i] = cleared[kind].mean()
        alike = near & has_rise & ((group == group[i]) if group[i] else True)
        if alike.sum() >= ev.min_peers:
            est_share[i] = established[alike].mean()
    after = np.where(years > 0, last - years, np.nan)
    return pd.DataFrame(
        {
            "peer_clear_share": clear_share,
            "peer_establish_share": est_share,
            "years_after_planting": after,
            "prep_work_share": np.full(len(years), np.nan),  # no drops given
        }
    )


def test_planting_expectation__equals_the_full_mask_loop():
    for seed, n, quantized in [(0, 400, False), (1, 500, True), (2, 40, True), (3, 12, False)]:
        rng = np.random.default_rng(seed)
        years = rng.choice([0, 2019, 2020, 2021, 2022], n, p=[0.1, 0.02, 0.3, 0.3, 0.28])
        start = rng.integers(-6, 7, (n, 2)) * 0.05 if quantized else rng.uniform(-0.8, 0.8, (n, 2))
        start[rng.random((n, 2)) < 0.15] = np.nan
        cand = rng.random(n) < 0.8
        cleared = rng.random(n) < 0.5
        rise = rng.normal(0.1, 0.2, n)
        rise[rng.random(n) < 0.2] = np.nan
        group = rng.choice(np.array(["", "fast", "slow", "economic"], dtype=object), n)
        last = np.where(rng.random(n) < 0.1, np.nan, 2024.0)
        read = rng.random(n) < 0.9
        for ev in (EV, Evidence(min_peers=5, peer_baseline_band=0.1)):
            args = (years, cand, start, cleared, rise, group, last, ev)
            got = planting_expectation(*args)
            want = planting_expectation_ref(*args)
            pd.testing.assert_frame_equal(got, want, check_exact=True)
            got = planting_expectation(*args, prep_read=read)
            want = planting_expectation_ref(*args, prep_read=read)
            pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_planting_expectation__work_share_against_the_cohorts_cleared_plots():
    years = np.array([2021] * 6 + [2022] * 5)
    drop = np.array([0.30, 0.20, 0.25, 0.40, 0.08, 0.01, 0.3, 0.3, 0.3, 0.1, 0.05])
    cleared = drop >= 0.15
    n = len(years)
    got = planting_expectation(
        years, np.ones(n, bool), np.zeros((n, 2)), cleared, np.full(n, np.nan),
        np.full(n, "", dtype=object), np.full(n, 2024.0), EV, drop=drop,
    )  # fmt: skip
    share = got["prep_work_share"].to_numpy()
    assert share[4] == 0.08 / 0.275 and share[5] == 0.01 / 0.275  # its cohort's, not 2022's
    assert share[0] == 0.30 / 0.25  # itself left out
    assert share[9] == 0.1 / 0.3  # 2022: three cleared, enough (min_peers 3) for the others
    assert np.isnan(share[6])  # one of the three: two others are too few

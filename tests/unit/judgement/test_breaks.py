from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.judgement.breaks import detect_break, detect_breaks
from pipeline.judgement.single import read_series

DATES = pd.date_range("2015-01-01", "2020-12-31", freq="16D")
FELL = pd.Timestamp("2018-07-12")


def _plantation(seed: int, fell: bool) -> np.ndarray:
    """MODIS-like 16-day NDVI of an evergreen plantation: season, slow growth, noise; a
    clear-fell drops it to bare soil that greens slowly."""
    rng = np.random.default_rng(seed)
    doy = DATES.day_of_year.to_numpy()
    years = (DATES - DATES[0]).days.to_numpy() / 365.25
    ndvi = 0.72 + 0.01 * years + 0.08 * np.sin(2 * np.pi * (doy - 100) / 365.25)
    if fell:
        since = (DATES - FELL).days.to_numpy()
        after = since >= 0
        ndvi = np.where(after, 0.3 + 0.1 * np.clip(since / 730, 0, 1), ndvi)
    ndvi = ndvi + rng.normal(0, 0.02, len(DATES))
    ndvi[rng.random(len(DATES)) < 0.15] = np.nan  # cloudy composites
    return ndvi


def test_read_series__dates_a_clear_fell_within_one_observation():
    for seed in range(5):
        ndvi = _plantation(seed, fell=True)
        out = read_series(DATES, ndvi)
        assert out["loss"] is not None
        clear = DATES[np.isfinite(ndvi)]
        first = np.searchsorted(clear, FELL)  # the first clear composite after the felling
        found = clear.get_loc(pd.Timestamp(out["loss"]["date"]))
        assert first - 1 <= found <= first + 1, (seed, out["loss"]["date"])
        assert out["loss"]["magnitude"] > 0.3 and 0.5 < out["loss"]["confidence"] <= 1


def test_read_series__seasonal_change_and_noise_stay_silent():
    for seed in range(5):
        out = read_series(DATES, _plantation(seed, fell=False))
        assert out["loss"] is None, seed
        assert len(out["dry_season_levels"]) >= 5


def test_read_series__reference_removes_the_season():
    ref = pd.Series(_plantation(99, fell=False), index=DATES).interpolate()
    out = read_series(DATES, _plantation(3, fell=True), reference=ref)
    assert abs((pd.Timestamp(out["loss"]["date"]) - FELL).days) <= 16


def test_detect_break__gradual_decline_is_not_a_break():
    t = np.arange(0, 1500, 10.0)
    y = 0.8 - 0.3 * t / 1500 + np.random.default_rng(0).normal(0, 0.01, len(t))
    hit = detect_break(t, y, min_drop=0.15, min_z=4.0, trend=True)
    assert hit is not None and not hit.passed


def test_detect_break__onset_is_the_first_low_observation():
    t = np.arange(0, 1000, 10.0)
    y = np.where(t >= 505, 0.2, 0.8) + np.random.default_rng(1).normal(0, 0.01, len(t))
    hit = detect_break(t, y, min_drop=0.15, min_z=4.0)
    assert hit.passed and hit.day == 510.0


def _batch_case(seed: int, n_series: int = 60) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seeded series on one date axis: season + noise, a planted drop in every other one,
    clouds and a late start (the after-planting window) varying per series."""
    rng = np.random.default_rng(seed)
    t = 19000 + np.cumsum(rng.integers(3, 15, 150)).astype(float)
    Y = 0.1 * np.sin(2 * np.pi * t / 365.25)[None] + rng.normal(0, 0.03, (n_series, len(t)))
    for p in range(0, n_series, 2):
        Y[p, rng.integers(20, len(t) - 10) :] -= rng.uniform(0.2, 0.8)
    usable = rng.random(Y.shape) > rng.uniform(0.1, 0.7, (n_series, 1))
    for p in range(n_series):
        usable[p, : rng.integers(0, 60)] = False
    return t, np.where(usable, Y, np.nan), usable


def test_detect_breaks__equals_the_per_series_test():
    """The batch test finds, dates and gates each series as detect_break does (the history
    fits agree to rounding), with planted drops found and their absence not flagged."""
    kw = dict(min_drop=0.35, min_z=4.0, min_obs=3, before_days=400, after_days=120,
              trend=True, season=True)  # fmt: skip
    for seed in range(3):
        t, Y, usable = _batch_case(seed)
        batch = detect_breaks(t, Y, usable, max_cells=20_000, **kw)  # several chunks
        for p in range(len(Y)):
            one = detect_break(t[usable[p]], Y[p, usable[p]], **kw)
            assert batch.found[p] == (one is not None)
            if one is None:
                continue
            assert batch.day[p] == one.day and batch.passed[p] == one.passed, (seed, p)
            assert t[batch.index[p]] == one.day
            got = [batch.step[p], batch.z[p], batch.confidence[p]]
            np.testing.assert_allclose(got, [one.step, one.z, one.confidence], rtol=1e-9)
        assert batch.passed[0::2].mean() > 0.5 and batch.passed[1::2].mean() < 0.1


def test_detect_breaks__plain_level_and_short_series():
    """Without trend and season, and where no split has enough observations (not found)."""
    t, Y, usable = _batch_case(7, n_series=20)
    usable[3, 10:] = False  # too few observations: no testable split
    batch = detect_breaks(t, Y, usable, min_drop=0.2, min_z=3.0, before_days=240)
    assert not batch.found[3]
    for p in range(len(Y)):
        one = detect_break(t[usable[p]], Y[p, usable[p]], min_drop=0.2, min_z=3.0)
        assert batch.found[p] == (one is not None)
        if one is not None:
            assert batch.day[p] == one.day and abs(batch.step[p] - one.step) < 1e-12


#: A felled plot of a cloudy southern world (the demo's south-cloudy, row 16), as its loss test
#: reads it: clear-view days (from the first) and its NDVI minus its peers' median (change
#: units; 0 where the plot is its peers' median). After the felling on day 509 the next clear
#: views come 80, 130 and 150 days later, so a monitor of 120 days holds only two of them,
#: and every split tested later has the felling inside its history.
CLOUDY_DAYS = 19342.0 + np.array(
    [
        0,
        10,
        20,
        70,
        180,
        220,
        310,
        330,
        350,
        360,
        370,
        380,
        390,
        420,
        450,
        470,
        510,
        590,
        640,
        660,
        670,
        690,
        710,
        720,
        740,
    ],
    dtype=float,
)  # fmt: skip  (days since 1970-01-01: 2022-12-16 to 2024-12-25; the felling 2024-05-09)
FELLED = np.array(
    [0, 0, 0, 0, 0, 0, -0.023, 0, 0, 0, 0, 0, 0, 0, 0, 0,
     -0.567, -0.468, -0.39, -0.355, -0.352, -0.322, -0.32, -0.313, -0.305]
)  # fmt: skip


def _cloudy_anomaly(step: float) -> tuple[np.ndarray, np.ndarray]:
    """:data:`FELLED` (``step`` 1) or the same days with the step scaled (0: no felling)."""
    return CLOUDY_DAYS, np.where(CLOUDY_DAYS >= 19852, step * FELLED, FELLED)


def test_detect_break__a_clearing_before_a_cloudy_summer_is_tested_and_found():
    t, y = _cloudy_anomaly(1.0)
    hit = detect_break(
        t, y, min_drop=0.35, min_z=4.0, before_days=400, trend=True, season=True, after_days=240
    )
    assert hit is not None and hit.passed and hit.day == 19852.0
    # a monitor of 120 days holds two clear views after the clearing: it is never tested
    short = detect_break(
        t, y, min_drop=0.35, min_z=4.0, before_days=400, trend=True, season=True, after_days=120
    )
    assert short is None or not short.passed


def test_detect_break__the_same_cloud_gaps_without_a_step_stay_silent():
    t, y = _cloudy_anomaly(0.0)
    hit = detect_break(
        t, y, min_drop=0.35, min_z=4.0, before_days=400, trend=True, season=True, after_days=240
    )
    assert hit is not None and not hit.passed

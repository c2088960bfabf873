from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.judgement.site_work import baseline_scatter, work_shares


def _series(
    rng: np.random.Generator, n: int, sd: np.ndarray, swing: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """n plots × 4 years of 5-day NDVI: a seasonal cycle of amplitude ``swing``, each plot its
    own noise ``sd``."""
    dates = pd.date_range("2019-01-01", "2022-12-31", freq="5D")
    season = 0.4 + swing * np.sin(2 * np.pi * dates.dayofyear.to_numpy() / 365)
    N = season[None, :] + rng.normal(0, 1, (n, len(dates))) * sd[:, None]
    return N, dates.month.to_numpy()


def test_baseline_scatter__finds_each_plots_own_noise_about_its_season():
    rng = np.random.default_rng(3)
    sd = np.array([0.01, 0.03, 0.06])
    N, months = _series(rng, 3, sd)
    N[:, ::7] = np.nan  # clouds
    before = np.ones_like(N, dtype=bool)
    got = baseline_scatter(N, before, months)
    np.testing.assert_allclose(got, sd, rtol=0.15)  # the season itself is not scatter
    wide = baseline_scatter(*_series(rng, 3, sd, swing=0.3)[:1], before, months)
    assert (np.diff(wide) > 0).all() and (wide >= sd).all()  # a month's own slope counts in it


def test_baseline_scatter__reads_only_the_baseline_and_needs_three_degrees():
    rng = np.random.default_rng(4)
    N, months = _series(rng, 2, np.array([0.02, 0.02]))
    before = np.zeros_like(N, dtype=bool)
    before[0, :150] = True
    N[0, 150:] -= 0.3  # site work after the baseline does not widen it
    before[1, :2] = True  # two observations: no scatter to read
    got = baseline_scatter(N, before, months)
    assert abs(got[0] - 0.02) < 0.005 and np.isnan(got[1])


def test_work_shares__drop_over_the_median_of_the_cleared_others():
    drop = np.array([0.30, 0.20, 0.25, 0.40, 0.10, 0.02, np.nan])
    cleared = np.array([0, 1, 2, 3])
    got = work_shares(drop, cleared, np.arange(7), min_peers=3)
    assert got[4] == 0.10 / 0.275 and got[5] == 0.02 / 0.275  # median of 0.20..0.40
    assert got[0] == 0.30 / 0.25  # itself left out: median of 0.20, 0.25, 0.40
    assert np.isnan(got[6])
    few = work_shares(drop, cleared[:3], np.arange(7), min_peers=3)
    assert np.isnan(few[:3]).all() and few[4] == 0.10 / 0.25  # 2 others: none; 3: a share

from __future__ import annotations

import numpy as np

from pipeline.judgement.spread import robust_scores


def test_robust_scores__a_planted_outlier_stands_out_and_noise_does_not():
    rng = np.random.default_rng(0)
    steps = np.abs(rng.normal(0.15, 0.1, 40))  # a noisy landscape: honest steps up to ~0.4
    steps[7] = 1.0
    z = robust_scores(steps, 0.035)
    assert z[7] > 5
    assert (np.delete(z, 7) < 3.5).all()


def test_robust_scores__too_few_values_give_no_score():
    z = robust_scores(np.array([0.1, 0.9, np.nan, 0.2]), 0.035)
    assert np.isnan(z).all()


def test_robust_scores__identical_values_use_the_floor():
    z = robust_scores(np.array([0.1] * 9 + [0.2]), 0.05)
    assert z[-1] == 2.0 and (z[:-1] == 0).all()

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.reports.fieldwork import draw_sample, estimate_rate


def _plots(n_a: int, n_b: int, ok_a: float, ok_b: float, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    county = ["甲县"] * n_a + ["乙县"] * n_b
    ok = np.r_[rng.random(n_a) < ok_a, rng.random(n_b) < ok_b]
    return pd.DataFrame({"row": range(n_a + n_b), "plot_id": [f"p{i}" for i in range(n_a + n_b)],
                         "county": county,
                         "status": np.where(ok, "consistent", "suspect")})  # fmt: skip


def test_draw_sample__proportional_per_county_without_repeats():
    plots = _plots(300, 100, 0.9, 0.5)
    sample = draw_sample(plots, 40, seed=2)
    assert sample.groupby("stratum")["row"].size().to_dict() == {"乙县": 10, "甲县": 30}
    assert sample["row"].is_unique and set(sample["weight"]) == {10.0}


def test_estimate_rate__finds_the_planted_compliance_rate():
    plots = _plots(3000, 1000, 0.9, 0.5)
    truth = (plots["status"] == "consistent").mean()
    est = estimate_rate(draw_sample(plots, 400, seed=5))
    assert est["low"] <= truth <= est["high"]
    assert est["high"] - est["low"] < 0.12
    assert est["rate"] == pytest.approx(truth, abs=0.06)


def test_estimate_rate__census_has_no_sampling_error():
    plots = _plots(20, 10, 0.7, 0.4)
    est = estimate_rate(draw_sample(plots, 30, seed=0))
    assert est["low"] == est["rate"] == est["high"]

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pipeline.config import Evidence
from pipeline.errors import ConfigError
from pipeline.judgement.calibrate import (
    LabelledRun,
    apply_thresholds,
    fit_thresholds,
    load_thresholds,
    save_thresholds,
)
from pipeline.judgement.evidence import EVIDENCE_COLUMNS


def _run(gaps_low: list[float], n_genuine: int = 40, seed: int = 0) -> LabelledRun:
    """A judged run whose genuine plots lag their peers by ~0 (noise 0.03) and whose
    LOW_SURVIVAL plots (truth) lag by ``gaps_low``; everything else is benign."""
    rng = np.random.default_rng(seed)
    gaps = np.concatenate([rng.normal(0, 0.03, n_genuine), gaps_low])
    n = len(gaps)
    ev = pd.DataFrame(np.nan, index=range(n), columns=list(EVIDENCE_COLUMNS))
    ev = ev.assign(
        n_baseline_obs=20.0,
        baseline_forest_index=0.1,
        n_prep_obs=8.0,
        n_planting_year_obs=5.0,
        data_share=1.0,
        planted_share=0.95,
        prep_ndvi_drop=0.3,
        loss_drop=0.05,
        loss_z=1.0,
        n_survival_winter_obs=6.0,
        years_observed=2.0,
        winter_gap_peers=gaps,
        survival_gap_mean=gaps,
    )
    result = ev.assign(
        row=np.arange(n),
        is_design=False,
        geom_status="valid",
        planting_year=2022,
        geom_area_mu=10.0,
        reasons="",
    )
    truth = pd.DataFrame(
        {"row": np.arange(n), "reasons": [""] * n_genuine + ["LOW_SURVIVAL"] * len(gaps_low)}
    )
    return LabelledRun(f"synthetic {seed}", result, truth)


GRID = {"survival_gap": (0.05, 0.08, 0.1, 0.15, 0.2, 0.3)}


def test_fit_thresholds__finds_a_survival_gap_that_catches_planted_low_survival():
    runs = [_run([-0.12, -0.11, -0.13, -0.12], seed=s) for s in (0, 1)]
    fitted = fit_thresholds(runs, grid=GRID)
    assert fitted.values["survival_gap"] <= 0.1  # the default 0.15 misses every one
    assert fitted.scores["found"]["LOW_SURVIVAL"] == 8
    assert fitted.scores["genuine_pooled"]["suspect"] <= 0.05


def test_fit_thresholds__without_low_survival_keeps_genuine_plots_unflagged():
    runs = [_run([], seed=s) for s in (0, 1)]
    fitted = fit_thresholds(runs, grid=GRID)
    assert fitted.values["survival_gap"] >= 0.1  # the genuine noise (0.03) is never read as low
    assert all(g["suspect"] == 0 for g in fitted.scores["genuine"])


def test_fit_thresholds__refuses_per_pixel_keys():
    with pytest.raises(ConfigError, match="per pixel"):
        fit_thresholds([_run([])], grid={"establish_rise": (0.2, 0.3)})


def test_save_thresholds__round_trips_and_a_config_key_wins(tmp_path):
    fitted = fit_thresholds([_run([-0.12, -0.12, -0.13])], grid=GRID)
    path = save_thresholds(fitted, tmp_path / "m")
    assert load_thresholds(tmp_path / "m") == fitted.values
    assert json.loads(path.read_text())["fitted_on"] == ["synthetic 0"]
    ev = apply_thresholds(Evidence(thresholds=path))
    assert ev.survival_gap == fitted.values["survival_gap"] and ev.thresholds is None
    mine = apply_thresholds(Evidence(thresholds=path, survival_gap=0.27))
    assert mine.survival_gap == 0.27
    assert apply_thresholds(Evidence()) == Evidence()


def test_load_thresholds__a_bad_file_names_the_fix(tmp_path):
    bad = tmp_path / "thresholds.json"
    bad.write_text('{"evidence": {"no_such_key": 1}}')
    with pytest.raises(ConfigError, match="unknown evidence keys"):
        load_thresholds(bad)
    bad.write_text("not json")
    with pytest.raises(ConfigError, match="not a thresholds file"):
        load_thresholds(bad)

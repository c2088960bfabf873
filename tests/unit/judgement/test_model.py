from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from pipeline.config import Evidence
from pipeline.errors import TushuError
from pipeline.judgement.judge import judge_with_trace
from pipeline.judgement.model import (
    FEATURES,
    MODEL_REASONS,
    fit_model,
    load_model,
    predict_reasons,
    save_model,
)
from tests.synthetic import series_frame
from tests.unit.judgement.test_evidence import KINDS, TIMES, _pixels, _plots


def _table(n: int = 120, seed: int = 0) -> pd.DataFrame:
    """Evidence features with a planted rule: low ``winter_gap_peers`` means LOW_SURVIVAL."""
    rng = np.random.default_rng(seed)
    table = pd.DataFrame(rng.normal(0, 1, (n, len(FEATURES))), columns=list(FEATURES))
    for code in MODEL_REASONS:
        table[code] = 0
    table["LOW_SURVIVAL"] = (table["winter_gap_peers"] < -0.5).astype(int)
    return table


@pytest.fixture(scope="module")
def model():
    return fit_model(_table(), ["synthetic"])


def test_fit_model__learns_a_planted_signal_and_the_card_says_what_it_is(model, tmp_path):
    assert list(model.classifiers) == ["LOW_SURVIVAL"]  # the others have no positives
    m = model.card["metrics_out_of_fold"]["LOW_SURVIVAL"]
    assert m["recall"] > 0.8 and m["brier"] < 0.1
    assert model.card["metrics_out_of_fold"]["VEGETATION_LOSS"]["skipped"]
    folder = save_model(model, tmp_path / "m")
    again = load_model(folder)
    probe = pd.DataFrame({f: [0.0, 0.0] for f in FEATURES}).assign(winter_gap_peers=[-2.0, 2.0])
    p = predict_reasons(again, probe)["p_LOW_SURVIVAL"]
    assert p[0] > 0.8 and p[1] < 0.2
    assert len(again.card["sha256"]) == 64


def test_load_model__a_replaced_model_file_is_refused(model, tmp_path):
    folder = save_model(model, tmp_path / "m")
    (folder / "model.joblib").write_bytes(b"not the model")
    with pytest.raises(TushuError, match="hash"):
        load_model(folder)


def test_judge_with_trace__a_model_keeps_the_rule_trace_intact(model, tmp_path):
    folder = save_model(model, tmp_path / "m")
    plots = gpd.GeoDataFrame(
        _plots(KINDS).assign(plot_id=[f"P{i}" for i in range(len(KINDS))], claimed_area_mu=20.0),
        geometry=[shapely.box(0, 0, 1, 1)] * len(KINDS),
    )
    desk = pd.DataFrame({"desk_reasons": [[] for _ in KINDS]}, index=plots["row"])
    series = series_frame(KINDS, TIMES, 5)
    ev = Evidence()
    plain, plain_trace = judge_with_trace(plots, desk, series, _pixels(KINDS), ev)
    reported, rep_trace = judge_with_trace(
        plots, desk, series, _pixels(KINDS), ev.model_copy(update={"model": folder})
    )
    pd.testing.assert_frame_equal(plain_trace, rep_trace)
    assert (plain["reasons"] == reported["reasons"]).all()
    assert reported["p_LOW_SURVIVAL"].between(0, 1).all()
    added, add_trace = judge_with_trace(
        plots,
        desk,
        series,
        _pixels(KINDS),
        ev.model_copy(update={"model": folder, "model_policy": "add"}),
    )
    rules_part = add_trace[add_trace["metric"] != "p_LOW_SURVIVAL"].reset_index(drop=True)
    pd.testing.assert_frame_equal(plain_trace, rules_part)


def test_fit_model__a_feature_no_plot_has_is_left_out_and_predictions_work():
    """Runs on 4-band imagery have no bare-soil features: the model is fitted without them
    (scikit-learn cannot bin an all-missing column) and predicts from what it has."""
    table = _table()
    gone = FEATURES[-1] if FEATURES[-1] != "winter_gap_peers" else FEATURES[0]
    table[gone] = np.nan
    fitted = fit_model(table, ["synthetic, 4-band"])
    assert gone not in fitted.card["features"] and "winter_gap_peers" in fitted.card["features"]
    p = predict_reasons(fitted, table)["p_LOW_SURVIVAL"]
    assert p[table["LOW_SURVIVAL"] == 1].mean() > 0.7 > p[table["LOW_SURVIVAL"] == 0].mean()

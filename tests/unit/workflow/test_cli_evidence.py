from __future__ import annotations

import json

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from pipeline.workflow.cli import app
from tests.unit.judgement.test_breaks import DATES, FELL, _plantation


def test_series__prints_the_loss_date_as_json(tmp_path):
    ndvi = _plantation(2, fell=True)
    pd.DataFrame({"day": DATES, "v": ndvi}).to_csv(tmp_path / "s.csv", index=False)
    out = CliRunner().invoke(
        app, ["series", str(tmp_path / "s.csv"), "--date", "day", "--value", "v"]
    )
    assert out.exit_code == 0, out.output
    got = json.loads(out.output)
    clear = DATES[np.isfinite(ndvi)]
    first = clear[np.searchsorted(clear, FELL)]
    assert abs((pd.Timestamp(got["loss"]["date"]) - first).days) <= 16
    assert set(got) >= {"dry_season_levels", "establishment", "loss"}


def test_series__a_missing_column_is_named(tmp_path):
    pd.DataFrame({"date": DATES, "x": 0.5}).to_csv(tmp_path / "s.csv", index=False)
    out = CliRunner().invoke(app, ["series", str(tmp_path / "s.csv")])
    assert out.exit_code == 2 and "ndvi" in out.output


def test_train__writes_the_model_and_the_rule_thresholds_fitted_on_the_runs(tmp_path):
    """Two labelled runs whose LOW_SURVIVAL plots lag their peers by 0.12–0.25: `tushu train`
    writes the model and a thresholds.json whose survival gap catches them."""
    import geopandas as gpd
    import shapely

    from pipeline.judgement.calibrate import load_thresholds
    from tests.unit.judgement.test_calibrate import _run

    args = ["train", "--models-dir", str(tmp_path / "models"), "--name", "m"]
    for seed in (0, 1):
        labelled = _run([-0.12, -0.18, -0.25, -0.15, -0.2, -0.22], seed=seed)
        folder = tmp_path / f"run{seed}"
        folder.mkdir()
        points = shapely.points(np.arange(len(labelled.result)), 0)
        gpd.GeoDataFrame(labelled.result, geometry=points, crs=4547).to_parquet(
            folder / "plots.parquet"
        )
        truth = labelled.truth.assign(scenario=labelled.truth["reasons"].replace("", "GENUINE"))
        truth.to_csv(folder / "truth.csv", index=False)
        args += ["--run", str(folder), "--truth", str(folder / "truth.csv")]
    out = CliRunner().invoke(app, args)
    assert out.exit_code == 0, out.output
    assert (tmp_path / "models" / "m" / "model.joblib").is_file()
    fitted = load_thresholds(tmp_path / "models" / "m")
    assert fitted["survival_gap"] in (0.1, 0.15)  # default 0.15 or tighter: all six caught
    assert "Rule thresholds written" in out.output

    out = CliRunner().invoke(app, [*args[:4], "m2", *args[5:], "--no-thresholds"])
    assert out.exit_code == 0, out.output
    assert not (tmp_path / "models" / "m2" / "thresholds.json").exists()

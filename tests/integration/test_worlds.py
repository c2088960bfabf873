"""A demo world of the 4-band sensor (no SWIR, 16 m, cloud-mask files) runs end to end with the
settings its preset gives (local-files source), and its forest and no-planting plots are found."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from pipeline.demo import PRESETS, make_world
from pipeline.demo.settings import demo_settings
from pipeline.workflow.inprocess import run_in_process


def test_run__wfv_world_runs_from_its_demo_settings(tmp_path, monkeypatch):
    monkeypatch.setitem(
        PRESETS, "tiny-wfv", replace(PRESETS["tiny"], name="tiny-wfv", sensor="wfv")
    )
    world = make_world(tmp_path / "world", preset="tiny-wfv", seed=3).root
    result = run_in_process(demo_settings(world, tmp_path / "run", "tiny-wfv"))
    truth = pd.read_csv(world / "truth.csv", keep_default_na=False)
    assert len(result) == len(truth) and result["status"].notna().all()
    series = pd.read_parquet(tmp_path / "run" / "timeseries.parquet")
    assert series["bsi"].isna().all() and series["ndvi"].notna().any()
    found = result.set_index("row")["reasons"].fillna("")
    for code in ("PRE_EXISTING_FOREST", "NO_PLANTING_EVIDENCE"):
        rows = truth.loc[truth["reasons"] == code, "row"]
        assert len(rows) and all(code in found[r] for r in rows), code
    genuine = truth.loc[truth["reasons"] == "", "row"]
    assert (result.set_index("row").loc[genuine, "status"] != "inconsistent").mean() >= 0.8

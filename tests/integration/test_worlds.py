"""A demo world of the 4-band sensor (no SWIR, 16 m, cloud-mask files) runs end to end with the
settings its preset gives (local-files source); its forest plots are found and its unplanted
claims flagged."""

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
    forest = truth.loc[truth["reasons"] == "PRE_EXISTING_FOREST", "row"]
    assert len(forest) and all("PRE_EXISTING_FOREST" in found[r] for r in forest)
    # an unplanted claim is refuted where the imagery has grounds (its similar-land peers were
    # cleared) and otherwise sent to a verifier (ESTABLISHMENT_NOT_YET_VISIBLE): never passed
    unplanted = truth.loc[truth["reasons"] == "NO_PLANTING_EVIDENCE", "row"]
    flagged = ("NO_PLANTING_EVIDENCE", "ESTABLISHMENT_NOT_YET_VISIBLE")
    assert len(unplanted) and all(any(c in found[r] for c in flagged) for r in unplanted)
    assert any("NO_PLANTING_EVIDENCE" in found[r] for r in unplanted)
    genuine = truth.loc[truth["reasons"] == "", "row"]
    assert (result.set_index("row").loc[genuine, "status"] != "inconsistent").mean() >= 0.8

"""A 4-band sensor (no SWIR) runs end to end: the tiny world read as local files without the
SWIR bands."""

from __future__ import annotations

import pandas as pd

from pipeline.config import Imagery, LocalOptions
from pipeline.demo.settings import demo_settings
from pipeline.workflow.inprocess import run_in_process

SCENES = """sensor: S2-4band
pattern: "stac/S2_DEMO_{date:%Y%m%d}/{band}.tif"
bands: {blue: blue, green: green, red: red, nir: nir, scl: scl}
scale: 0.0001
offset: 0.0
nodata: 0
mask: {band: scl}
"""


def test_run__ndvi_only_imagery_runs_end_to_end(tiny_world, tmp_path):
    (tmp_path / "scenes.yaml").write_text(SCENES, encoding="utf-8")
    s = demo_settings(tiny_world, tmp_path / "out", "tiny")
    local = LocalOptions(path=tiny_world, description=tmp_path / "scenes.yaml")
    imagery = Imagery(source="local", local=local, start=s.imagery.start, end=s.imagery.end)
    result = run_in_process(s.model_copy(update={"imagery": imagery}))
    truth = pd.read_csv(tiny_world / "truth.csv")
    assert len(result) == len(truth) and result["status"].notna().all()
    series = pd.read_parquet(tmp_path / "out" / "timeseries.parquet")
    assert series["bsi"].isna().all() and series["ndvi"].notna().any()
    found = result.set_index("row")["reasons"].fillna("")
    for code in ("PRE_EXISTING_FOREST", "NO_PLANTING_EVIDENCE"):
        rows = truth.loc[truth["reasons"].fillna("") == code, "row"]
        assert all(code in found[r] for r in rows), code
    lost = found.str.contains("VEGETATION_LOSS")
    assert result.set_index("row").loc[~lost, "loss_date"].isna().all()

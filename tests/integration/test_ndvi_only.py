"""A 4-band sensor (no SWIR) runs end to end: the tiny world read as local files without the
SWIR bands."""

from __future__ import annotations

import pandas as pd

from pipeline.workflow.inprocess import run_in_process
from tests.servers.runs import settings_for, write_local_folder

NO_SWIR = (
    "sensor: S2-4band\n"
    'pattern: "S2_{date:%Y%m%d}_{band}.tif"\n'
    "bands: {blue: B02, green: B03, red: B04, nir: B08, scl: SCL}\n"
    "scale: 0.0001\n"
    "nodata: 0\n"
    "mask: {band: scl}\n"
)


def test_run__ndvi_only_imagery_runs_end_to_end(tiny_world, tmp_path):
    folder = write_local_folder(tiny_world, tmp_path / "scenes")
    (folder / "scenes.yaml").write_text(NO_SWIR, encoding="utf-8")
    s = settings_for(tiny_world, tmp_path / "run", source="local", local={"path": folder})
    result = run_in_process(s)
    truth = pd.read_csv(tiny_world / "truth.csv")
    assert len(result) == len(truth) and result["status"].notna().all()
    series = pd.read_parquet(tmp_path / "run" / "timeseries.parquet")
    assert series["bsi"].isna().all() and series["ndvi"].notna().any()
    found = result.set_index("row")["reasons"].fillna("")
    for code in ("PRE_EXISTING_FOREST", "NO_PLANTING_EVIDENCE"):
        rows = truth.loc[truth["reasons"].fillna("") == code, "row"]
        assert len(rows) and all(code in found[r] for r in rows), code
    lost = found.str.contains("VEGETATION_LOSS")
    assert result.set_index("row").loc[~lost, "loss_date"].isna().all()

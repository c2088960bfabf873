"""The demo's plots exported as a GBK shapefile (EPSG:4490, no .cpg) and as a FileGDB in a
zone-prefixed Gauss-Krüger zone give the same statuses and reasons as the original; the
ingest report and the plan record what was read and how."""

from __future__ import annotations

import json
import os

import geopandas as gpd
import pandas as pd
import pytest

from pipeline.config import PlotSource
from pipeline.demo import make_world
from pipeline.demo.settings import demo_settings
from pipeline.workflow import inprocess


def _run(settings) -> gpd.GeoDataFrame:
    return inprocess.run_in_process(settings)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("ingest")
    world = root / "world"
    make_world(world, preset="tiny", seed=3)
    plots = gpd.read_file(world / "plots.gpkg", layer="plots")
    shp = root / "export" / "县级图斑.shp"
    shp.parent.mkdir()
    plots.to_file(shp, encoding="GBK", engine="pyogrio")
    os.remove(shp.with_suffix(".cpg"))
    gdb = root / "export" / "plots.gdb"
    plots.to_crs("EPSG:4527").to_file(
        gdb, layer="造林图斑", driver="OpenFileGDB", engine="pyogrio", promote_to_multi=True
    )
    base = demo_settings(world, root / "original", "tiny")
    out = {"original": (base, _run(base))}
    for name, path in (("shapefile", shp), ("filegdb", gdb)):
        s = base.model_copy(update={"output_dir": root / name, "plots": PlotSource(path=path)})
        out[name] = (s, _run(s))
    return out


@pytest.mark.parametrize("name", ["shapefile", "filegdb"])
def test_exported_plots__same_statuses_and_reasons_as_original(runs, name):
    _, original = runs["original"]
    _, got = runs[name]
    assert len(got) == len(original)
    assert got["row"].tolist() == original["row"].tolist()
    assert got["plot_id"].fillna("").tolist() == original["plot_id"].fillna("").tolist()
    pd.testing.assert_series_equal(got["status"], original["status"])
    pd.testing.assert_series_equal(got["reasons"], original["reasons"])
    ratio = (got["geom_area_mu"] + 1e-9) / (original["geom_area_mu"] + 1e-9)
    assert ((ratio - 1).abs() < 0.001).all()


def test_exported_plots__ingest_report_and_plan_record(runs):
    settings, result = runs["shapefile"]
    out = settings.output_dir
    report = pd.read_csv(out / "ingest_report.csv", encoding="utf-8-sig")
    assert set(report["row"]) <= set(result["row"])
    assert (report["source_file"].str.endswith("县级图斑.shp")).all()
    empty = result.loc[result["geom_status"] == "empty", "row"]
    assert set(empty) <= set(report.loc[report["code"] == "GEOMETRY_EMPTY", "row"])
    plan = json.loads((out / "work" / "plan.json").read_text(encoding="utf-8"))
    (path,) = plan["column_mapping"]
    assert path.endswith("县级图斑.shp")
    assert plan["column_mapping"][path]["plot_id"]["column"] == "图斑编号"
    assert plan["plots"]["files"][0]["encoding"] == "GB18030 (fallback)"
    assert plan["ingest"]["records"] == len(result)
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["inputs"]["plots"]["files"][0]["crs"] == "EPSG:4490"
    desk = json.loads((out / "work" / "desk.json").read_text(encoding="utf-8"))
    assert desk["checks"]["RESTRICTED_LAND"]["inputs"] == ["farmland.gpkg"]
    assert desk["checks"]["AREA_MISMATCH"]["thresholds"]["area_buffer_m"] == 3.0


def test_exported_plots__chinese_values_survive_every_output(runs):
    settings, result = runs["filegdb"]
    gpkg = gpd.read_file(settings.output_dir / "plots.gpkg", layer="plots")
    assert gpkg["县"].dropna().str.endswith("县").all()
    parquet = gpd.read_parquet(settings.output_dir / "plots.parquet")
    assert parquet["树种"].tolist() == result["树种"].tolist()
    assert parquet["source_file"].str.endswith("plots.gdb").all()

"""Contract of the synthetic demo world (tiny preset)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import odc.stac
import pandas as pd
import pystac
import pytest
import rasterio

from pipeline.demo import PRESETS, WorldPaths, make_world
from pipeline.demo.presets import REASON_CODES, SCENARIOS
from pipeline.demo.verify import check_world
from pipeline.errors import TushuError

ASSET_KEYS = {"blue", "green", "red", "nir", "swir16", "swir22", "scl"}
PLOT_FIELDS = ["图斑编号", "县", "乡镇", "阶段", "造林年度", "上报面积", "造林类型", "树种", "备注"]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> WorldPaths:
    return make_world(tmp_path_factory.mktemp("world0"), preset="tiny", seed=0)


def test_outputs_exist(world: WorldPaths) -> None:
    for path in (world.catalog, world.plots, world.prior, world.counties, world.farmland):
        assert path.is_file(), path
    assert world.truth.is_file()
    assert world.catalog == world.root / "stac" / "catalog.json"
    info = json.loads((world.root / "world.json").read_text(encoding="utf-8"))
    assert info["seed"] == 0 and info["preset"] == "tiny"
    assert sum(info["counts"].values()) == info["n_rows"]


def test_unknown_preset_names_valid_ones(tmp_path: Path) -> None:
    with pytest.raises(TushuError, match="default.*tiny"):
        make_world(tmp_path, preset="huge")


def test_catalog_items_and_odc_load(world: WorldPaths) -> None:
    catalog = pystac.Catalog.from_file(str(world.catalog))
    collection = catalog.get_child("sentinel-2-l2a-demo")
    assert collection is not None
    items = sorted(catalog.get_items(recursive=True), key=lambda i: i.id)
    assert len(items) > 30
    item = items[0]
    assert re.fullmatch(r"S2_DEMO_\d{8}", item.id)
    assert item.datetime.hour == 3
    props = item.properties
    assert props["proj:code"] == "EPSG:32650"
    raw = json.loads(Path(item.get_self_href()).read_text(encoding="utf-8"))
    assert raw["properties"]["proj:epsg"] == 32650  # for readers of the older extension
    assert props["platform"] == "sentinel-2a" and props["s2:processing_baseline"] == "05.10"
    assert props["earthsearch:boa_offset_applied"] is True
    assert all(0 <= i.properties["eo:cloud_cover"] <= 95 for i in items)
    assert set(item.assets) == ASSET_KEYS
    nir = item.assets["nir"]
    assert nir.extra_fields["raster:bands"][0]["scale"] == 0.0001
    assert nir.extra_fields["proj:shape"] == [120, 160]
    assert item.assets["swir16"].extra_fields["proj:shape"] == [60, 80]
    tif = Path(item.assets["scl"].get_absolute_href())
    assert tif == world.root / "stac" / item.id / "scl.tif"
    with rasterio.open(tif) as ds:
        assert ds.dtypes[0] == "uint8" and ds.nodata == 0 and ds.res == (20.0, 20.0)
    bbox = tuple(item.bbox)
    ds = odc.stac.load(
        items[:6], bands=["nir", "scl"], crs="EPSG:32650", resolution=10, bbox=bbox, chunks={}
    ).compute()
    assert ds.nir.dtype == np.uint16 and ds.sizes["time"] == 6
    assert ds.nir.shape[1] >= 120 and ds.nir.shape[2] >= 160  # lon/lat bbox grows a little
    valid = ds.nir.values[ds.nir.values > 0]
    assert 500 < np.median(valid) < 5000


def test_plot_fields_and_truth(world: WorldPaths) -> None:
    plots = gpd.read_file(world.plots, layer="plots")
    truth = pd.read_csv(world.truth, keep_default_na=False, dtype={"reasons": str})
    assert list(plots.columns) == PLOT_FIELDS + ["geometry"]
    assert plots.crs.to_epsg() == 4490
    assert len(plots) == len(truth) == sum(n for _, n in PRESETS["tiny"].counts)
    assert set(truth["scenario"]) == set(SCENARIOS)
    for reasons in truth["reasons"]:
        assert all(r in REASON_CODES for r in reasons.split(";") if r)
    assert truth["planted_share"].between(0, 1).all()
    assert set(plots["阶段"]) <= {"造林验收", "纳入造林", "设计施工"}
    assert plots["图斑编号"].str.fullmatch(r"3504\d\d-20\d\d-\d{4}").all()
    # rows are shuffled, not grouped by scenario
    assert (truth["scenario"] != sorted(truth["scenario"])).any()


def test_truth_promises_hold(world: WorldPaths) -> None:
    assert check_world(world.root) == []


def test_same_seed_is_identical(world: WorldPaths, tmp_path: Path) -> None:
    again = make_world(tmp_path, preset="tiny", seed=0)
    assert again.plots.read_bytes() == world.plots.read_bytes()
    assert again.truth.read_bytes() == world.truth.read_bytes()
    names = sorted(p.relative_to(world.root) for p in world.root.glob("stac/*/nir.tif"))
    assert names == sorted(p.relative_to(again.root) for p in again.root.glob("stac/*/nir.tif"))
    for name in names[::7]:
        with rasterio.open(world.root / name) as a, rasterio.open(again.root / name) as b:
            assert np.array_equal(a.read(), b.read())


def test_different_seed_differs(world: WorldPaths, tmp_path: Path) -> None:
    other = make_world(tmp_path, preset="tiny", seed=1)
    assert other.truth.read_bytes() != world.truth.read_bytes()
    a = gpd.read_file(world.plots).geometry
    b = gpd.read_file(other.plots).geometry
    assert not all(
        x is not None and y is not None and x.equals(y) for x, y in zip(a, b, strict=True)
    )


def test_world_axes__north_bare_hills_have_snow_and_bare_plots(tmp_path: Path, monkeypatch) -> None:
    from dataclasses import replace

    spec = replace(
        PRESETS["tiny"],
        name="tiny-north",
        climate="north",
        land_mix=(("bare", 0.6), ("grass", 0.4)),
        cloud_scale=0.5,
    )
    monkeypatch.setitem(PRESETS, "tiny-north", spec)
    paths = make_world(tmp_path, preset="tiny-north", seed=0)
    truth = pd.read_csv(paths.truth)
    assert {"bare", "grass"} <= set(truth["land"]) and "shrub" not in set(truth["land"])
    snowy = 0
    for scl in sorted(paths.root.glob("stac/S2_DEMO_20??0[12]*/scl.tif")):  # Jan, Feb
        with rasterio.open(scl) as src:
            snowy += int((src.read(1) == 11).sum())
    assert snowy > 0  # winter scenes carry snow (SCL 11)
    assert json.loads((paths.root / "world.json").read_text())["climate"] == "north"
    assert check_world(paths.root) == []


def test_world_axes__classic_presets_keep_their_land(world: WorldPaths) -> None:
    truth = pd.read_csv(world.truth)
    assert set(truth["land"]) <= {"shrub", "forest", "crop"}
    assert json.loads((world.root / "world.json").read_text())["climate"] == "south"

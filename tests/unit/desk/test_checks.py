from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from pipeline.config import DeskChecks, LayerSource, PlotSource
from pipeline.desk.checks import ReferenceLayers, check_desk
from pipeline.desk.layers import Layer
from pipeline.errors import PlotDataError
from pipeline.plots.normalize import normalize_plots
from tests.synthetic import UTM, X0, Y0, plot_layer, square

SRC = PlotSource(path=Path("plots.gpkg"))


def _world():
    """Plots 0–1 genuine; 2–3 overlap; 4 too small; 5 claims 40 % too much; 6 re-reports a
    prior plot; 7 says 明溪县 but lies in 清流县; 8 sits on farmland; 9 and 10 share an id;
    11 lacks its planting year."""
    geoms = [
        square(0, 0, 120),
        square(200, 0, 120),
        square(400, 0, 120),
        square(480, 40, 120),
        square(700, 0, 25),
        square(800, 0, 120),
        square(1000, 0, 120),
        square(1200, 600, 120),
        square(1400, 0, 120),
        square(0, 300, 100),
        square(200, 300, 100),
        square(400, 300, 100),
    ]
    layer = plot_layer(geoms)
    layer.loc[5, "上报面积"] = layer.loc[5, "上报面积"] * 1.4
    layer.loc[10, "图斑编号"] = layer.loc[9, "图斑编号"]
    layer.loc[11, "造林年度"] = None
    prior = gpd.GeoDataFrame(
        {"图斑编号": ["Q1"], "造林年度": [2020]}, geometry=[square(1005, 5, 110)], crs=UTM
    )
    counties = gpd.GeoDataFrame(
        {"县名": ["明溪县", "清流县"], "县代码": ["350421", "350423"]},
        geometry=[
            shapely.box(X0 - 500, Y0 - 500, X0 + 2000, Y0 + 500),
            shapely.box(X0 - 500, Y0 + 500, X0 + 2000, Y0 + 1500),
        ],
        crs=UTM,
    )
    farmland = gpd.GeoDataFrame({"DLBM": ["0101"]}, geometry=[square(1450, -50, 200)], crs=UTM)
    refs = ReferenceLayers(
        prior=prior,
        prior_source=LayerSource(path=Path("p"), id_column="图斑编号", year_column="造林年度"),
        region=counties,
        region_source=LayerSource(path=Path("c"), name_column="县名", code_column="县代码"),
        restricted=farmland,
    )
    return normalize_plots(layer, SRC), refs


EXPECTED = {
    0: [],
    1: [],
    2: ["OVERLAP"],
    3: ["OVERLAP"],
    4: ["TOO_SMALL"],
    5: ["AREA_MISMATCH"],
    6: ["DUPLICATE_PRIOR"],
    7: ["OUTSIDE_REGION"],
    8: ["RESTRICTED_LAND"],
    9: ["DUPLICATE_ID"],
    10: ["DUPLICATE_ID"],
    11: ["MISSING_ATTRIBUTE"],
}


def test_check_desk__finds_each_planted_problem_and_nothing_else():
    plots, refs = _world()
    result = check_desk(plots, refs, DeskChecks())
    got = {row: sorted(r) for row, r in result.table["desk_reasons"].items()}
    assert got == EXPECTED
    assert result.skipped == []


def test_check_desk__names_partners_and_areas():
    plots, refs = _world()
    t = check_desk(plots, refs, DeskChecks()).table
    assert "P003" in t.loc[2, "overlap_with"] and "P002" in t.loc[3, "overlap_with"]
    assert abs(t.loc[2, "overlap_area_mu"] - 40 * 80 / 666.6667) < 0.01
    assert t.loc[6, "prior_match"] == "Q1 (2020)"
    assert t.loc[8, "restricted_area_mu"] > 0 and t.loc[0, "restricted_area_mu"] == 0
    assert t.loc[7, "region_share"] == 0.0 and t.loc[0, "region_share"] == 1.0


def test_check_desk__county_code_matches_too():
    plots, refs = _world()
    plots.loc[0, "county"] = "350421"
    t = check_desk(plots, refs, DeskChecks()).table
    assert "OUTSIDE_REGION" not in t.loc[0, "desk_reasons"]


def test_check_desk__without_layers_skips_and_says_so():
    plots, _ = _world()
    result = check_desk(plots, ReferenceLayers(), DeskChecks())
    assert len(result.skipped) == 3
    flat = {c for r in result.table["desk_reasons"] for c in r}
    assert not flat & {"DUPLICATE_PRIOR", "OUTSIDE_REGION", "RESTRICTED_LAND"}


def test_check_desk__buffer_tolerance_protects_small_plots():
    """A 2-亩 plot claimed 10 % high is within the 3 m boundary-buffer tolerance."""
    layer = plot_layer([square(0, 0, 36.5)], 上报面积=[2.2])
    plots = normalize_plots(layer, SRC)
    t = check_desk(plots, ReferenceLayers(), DeskChecks()).table
    assert "AREA_MISMATCH" not in t.loc[0, "desk_reasons"]


def test_check_desk__null_and_invalid_geometry_rows_stay():
    layer = plot_layer([square(0, 0, 100), None], 上报面积=[15.0, 15.0])
    plots = normalize_plots(layer, SRC)
    t = check_desk(plots, ReferenceLayers(), DeskChecks()).table
    assert list(t.index) == [0, 1]
    assert t.loc[1, "desk_reasons"] == ["INVALID_GEOMETRY"]


def test_check_desk__several_prior_layers_name_id_year_and_layer():
    plots, refs = _world()
    other = gpd.GeoDataFrame({"XBH": ["R7"]}, geometry=[square(205, -5, 130)], crs=UTM)
    refs2 = ReferenceLayers(
        priors=(
            Layer(refs.prior, refs.prior_source),
            Layer(other, LayerSource(path=Path("2019年.shp"), id_column="XBH", year=2019)),
        )
    )
    result = check_desk(plots, refs2, DeskChecks())
    t = result.table
    assert t.loc[6, "prior_match"] == "Q1 (2020)" and t.loc[6, "prior_layer"] == "p"
    assert t.loc[1, "prior_match"] == "R7 (2019)" and t.loc[1, "prior_layer"] == "2019年.shp"
    assert result.checks["DUPLICATE_PRIOR"]["inputs"] == ["p", "2019年.shp"]
    assert result.checks["DUPLICATE_PRIOR"]["n_flagged"] == 2


def test_check_desk__restricted_layers_filtered_and_not_double_counted():
    plots, _ = _world()
    survey = gpd.GeoDataFrame(
        {"DLBM": ["0101", "0301", "0103"]},
        geometry=[square(1400, 0, 60), square(0, 0, 120), square(800, 0, 120)],
        crs=UTM,
    )
    basic = gpd.GeoDataFrame({"类型": ["永久基本农田"]}, geometry=[square(1400, 0, 60)], crs=UTM)
    src = LayerSource(
        path=Path("三调.gpkg"), filter_column="DLBM", filter_values=("0101", "0102", "0103")
    )
    refs = ReferenceLayers(restricteds=(Layer(survey, src), Layer(basic, None)))
    result = check_desk(plots, refs, DeskChecks())
    t = result.table
    assert abs(t.loc[8, "restricted_area_mu"] - 60 * 60 / 666.6667) < 0.01  # union, not sum
    assert "三调.gpkg:" in t.loc[8, "restricted_with"]
    assert t.loc[0, "restricted_area_mu"] == 0  # 0301 (forest land) is filtered out
    assert "RESTRICTED_LAND" in t.loc[5, "desk_reasons"]
    assert "DLBM starts with 0101/0102/0103" in result.checks["RESTRICTED_LAND"]["inputs"][0]


def test_check_desk__restricted_filter_column_missing_names_the_fix():
    plots, refs = _world()
    src = LayerSource(path=Path("farm.gpkg"), filter_column="DLMC", filter_values=("01",))
    with pytest.raises(PlotDataError, match=r"farm\.gpkg: filter_column 'DLMC'.*DLBM"):
        check_desk(plots, ReferenceLayers(restricteds=(Layer(refs.restricted, src),)), DeskChecks())


def test_check_desk__township_layer_and_actual_county():
    plots, refs = _world()
    plots.loc[1, "township"] = "夏阳乡"
    towns = gpd.GeoDataFrame(
        {"乡镇名": ["城关乡", "夏阳乡"]},
        geometry=[shapely.box(X0 - 500, Y0 - 500, X0 + 150, Y0 + 2000),
                  shapely.box(X0 + 150, Y0 - 500, X0 + 2000, Y0 + 2000)],
        crs=UTM,
    )  # fmt: skip
    refs = ReferenceLayers(
        region=refs.region,
        region_source=refs.region_source,
        townships=towns,
        township_source=LayerSource(path=Path("t"), name_column="乡镇名"),
    )
    t = check_desk(plots, refs, DeskChecks()).table
    assert t.loc[0, "township_share"] == 1.0 and t.loc[1, "township_share"] == 1.0
    assert t.loc[2, "township_share"] == 0.0 and "OUTSIDE_REGION" in t.loc[2, "desk_reasons"]
    assert t.loc[7, "region_actual"] == "清流县"


def test_check_desk__county_name_without_suffix_matches():
    plots, refs = _world()
    plots.loc[0, "county"] = "明溪"
    t = check_desk(plots, refs, DeskChecks()).table
    assert t.loc[0, "region_share"] == 1.0

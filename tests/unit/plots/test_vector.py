"""Every plot-file fixture (tests/plotfiles.py) loads with asserted values or fails naming the
file, the record where relevant, and the fix."""

from __future__ import annotations

import pytest

from pipeline.config import PlotFile, PlotSource
from pipeline.errors import PlotDataError
from pipeline.plots.read import read_plots
from pipeline.plots.vector import read_vector
from tests.plotfiles import N_PLOTS, SQUARE_MU, write_fixtures

HOLED_MU = (100**2 - 20**2 + 50**2) / 666.6666667


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return write_fixtures(tmp_path_factory.mktemp("plotfiles"))


def _read(path, **kw):
    return read_plots(PlotSource(path=path, **kw))


def _assert_base(plots):
    """The base plots came through: values, Chinese text, areas within 0.1 %."""
    assert len(plots) == N_PLOTS
    assert list(plots["row"]) == list(range(N_PLOTS))
    assert list(plots["source_row"]) == list(range(N_PLOTS))
    assert plots["county"].tolist() == ["明溪县"] * 6 + ["350421"]
    assert plots["plot_id"].iloc[0] == "明溪-001"
    assert plots["树种"].tolist()[:3] == ["杉木", "马尾松", "木荷"]
    assert plots["planting_year"].tolist()[:3] == [2021, 2022, 2022]
    assert plots["planting_year"].iloc[6] == 2023
    assert plots["claimed_area_mu"].tolist()[:3] == [15.0, 15.5, 12.0]
    assert plots["stage"].tolist()[:5] == [
        "造林验收",
        "设计施工",
        "造林验收",
        "造林验收",
        "设计施工",
    ]
    assert plots["is_design"].tolist()[:2] == [False, True]
    assert plots["geom_status"].tolist()[:4] == ["ok", "ok", "repaired", "empty"]
    for row, want in ((0, SQUARE_MU), (1, HOLED_MU), (6, SQUARE_MU)):
        assert abs(plots["geom_area_mu"].iloc[row] / want - 1) < 0.001


@pytest.mark.parametrize("name", ["utf8_cpg", "geojson", "geoparquet", "zip", "filegdb"])
def test_read_plots__every_format_loads(files, name):
    got = _read(files[name])
    _assert_base(got.plots)


def test_read_plots__gbk_shapefile_without_cpg_falls_back_to_gb18030(files):
    got = _read(files["gbk_no_cpg"])
    _assert_base(got.plots)
    assert got.files[0].encoding == "GB18030 (fallback)"


def test_read_plots__gbk_language_driver_byte_is_used(files):
    got = _read(files["gbk_ldid"])
    _assert_base(got.plots)
    assert got.files[0].encoding == "CP936 (ldid 77)"


def test_read_plots__cpg_and_config_override_are_reported(files):
    assert _read(files["utf8_cpg"]).files[0].encoding == "UTF-8 (cpg)"
    assert _read(files["gbk_no_cpg"], encoding="GBK").files[0].encoding == "GBK (config)"


def test_read_plots__filegdb_in_gauss_kruger_keeps_its_crs(files):
    got = _read(files["filegdb"])
    assert got.plots.crs.to_epsg() == 4548
    assert got.files[0].layer == "造林图斑"


def test_read_plots__zone_prefixed_gauss_kruger_loads(files):
    got = _read(files["gk_prefix"])
    _assert_base(got.plots)
    assert got.plots.crs.to_epsg() == 4527


def test_read_vector__prefixed_eastings_under_plain_crs_name_the_fix(files):
    with pytest.raises(PlotDataError, match=r"prefix_under_plain.*zone prefix 39.*EPSG:4527"):
        read_vector(files["prefix_under_plain"])
    _assert_base(_read(files["prefix_under_plain"], crs="EPSG:4527").plots)


def test_read_vector__swapped_axes_are_detected_and_fixed_by_config(files):
    with pytest.raises(PlotDataError, match=r"swapped\.gpkg.*swapped.*plots\.swap_xy: true"):
        read_vector(files["swapped"])
    got = _read(files["swapped"], swap_xy=True)
    _assert_base(got.plots)
    assert got.files[0].swapped_xy


def test_read_vector__layer_without_crs_is_an_error_unless_config_names_one(files):
    with pytest.raises(PlotDataError, match=r"no_crs\.shp.*no coordinate reference.*EPSG:4490"):
        read_vector(files["no_crs"])
    got = _read(files["no_crs"], crs="EPSG:4490")
    _assert_base(got.plots)
    assert got.files[0].crs_source == "config"


def test_read_plots__wrong_zone_is_caught_against_the_region_layer(files, tmp_path):
    import geopandas as gpd
    import shapely

    from pipeline.config import LayerSource
    from tests.synthetic import UTM, X0, Y0

    region = gpd.GeoDataFrame(
        {"县名": ["明溪县"]}, geometry=[shapely.box(X0 - 5000, Y0 - 5000, X0 + 5000, Y0 + 5000)],
        crs=UTM,
    )  # fmt: skip
    region.to_file(tmp_path / "counties.gpkg", engine="pyogrio")
    src = LayerSource(path=tmp_path / "counties.gpkg", name_column="县名")
    with pytest.raises(PlotDataError, match=r"wrong_zone\.gpkg.*wrong zone.*EPSG:4549"):
        read_plots(PlotSource(path=files["wrong_zone"]), src)
    assert len(read_plots(PlotSource(path=files["utf8_cpg"]), src).plots) == N_PLOTS


def test_read_vector__several_layers_are_listed_and_chosen(files):
    with pytest.raises(PlotDataError, match=r"multi\.gpkg.*2022年造林.*2021年造林.*plots\.layer"):
        read_vector(files["multi_layer"])
    assert len(_read(files["multi_layer"], layer="2021年造林").plots) == 2
    with pytest.raises(PlotDataError, match=r"no layer 'x'.*2022年造林"):
        read_vector(files["multi_layer"], layer="x")


def test_read_plots__pinyin_fields_and_hectares(files):
    got = _read(files["pinyin_ha"])
    p = got.plots
    mapping = got.log.mapping[str(files["pinyin_ha"])]
    assert mapping["claimed_area"] == {"column": "MIAN_JI", "found_by": "alias", "unit": "ha"}
    assert mapping["plot_id"]["found_by"] == "composite"
    assert p["claimed_area_mu"].tolist()[:3] == [15.0, 15.0, 12.0]
    assert p["plot_id"].iloc[0] == "胡坊村-012-001"
    assert p["planting_year"].tolist()[:2] == [2021, 2022]
    assert p["stage"].tolist()[:2] == ["造林验收", "设计施工"]
    assert p["county"].iloc[0] == "明溪县" and p["species"].iloc[1] == "马尾松"


def test_read_plots__several_files_keep_source_and_order(files):
    src = PlotSource(files=[files["gbk_no_cpg"], PlotFile(path=files["filegdb"])])
    got = read_plots(src)
    p = got.plots
    assert len(p) == 2 * N_PLOTS
    assert list(p["row"]) == list(range(2 * N_PLOTS))
    assert list(p["source_row"]) == list(range(N_PLOTS)) * 2
    assert p["source_file"].iloc[0].endswith("gbk_no_cpg.shp")
    assert p["source_file"].iloc[-1].endswith("plots.gdb")
    assert p.crs.to_epsg() == 4490  # the files' CRSs differ
    assert abs(p["geom_area_mu"].iloc[N_PLOTS] / SQUARE_MU - 1) < 0.001
    assert set(got.log.mapping) == {str(files["gbk_no_cpg"]), str(files["filegdb"])}


def test_ingest_report__lists_repairs_normalisations_and_problems(files):
    got = _read(files["utf8_cpg"])
    rep = got.log.table()
    codes = set(zip(rep["row"], rep["code"], strict=True))
    assert (2, "GEOMETRY_REPAIRED") in codes
    assert (3, "GEOMETRY_EMPTY") in codes
    assert (6, "REPEATED_VERTICES_REMOVED") in codes
    assert (0, "VALUE_NORMALISED") in codes  # "2021年" -> 2021, "15亩" -> 15
    norm = rep[(rep["row"] == 0) & (rep["field"] == "planting_year")].iloc[0]
    assert norm["original"] == "2021年" and norm["value"] == "2021"
    assert rep["source_file"].str.endswith("utf8_cpg.shp").all()
    assert set(rep["plot_id"].dropna()) <= set(got.plots["plot_id"].dropna())
    counts = got.log.counts()
    assert counts["records"] == N_PLOTS and counts["by_kind"]["repair"] >= 2


def test_read_vector__missing_file_and_bad_encoding_name_the_fix(files, tmp_path):
    with pytest.raises(PlotDataError, match=r"nope\.shp: file not found.*plots\.path"):
        read_vector(tmp_path / "nope.shp")
    with pytest.raises(PlotDataError, match=r"unknown encoding 'XYZ'.*plots\.encoding"):
        read_vector(files["gbk_no_cpg"], encoding="XYZ")

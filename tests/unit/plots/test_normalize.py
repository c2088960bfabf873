from __future__ import annotations

from pathlib import Path

import shapely
from hypothesis import given
from hypothesis import strategies as st

from pipeline.config import PlotSource
from pipeline.plots.normalize import normalize_plots, parse_number, parse_year
from tests.synthetic import X0, Y0, plot_layer, square


@given(st.integers(1949, 2100))
def test_parse_year__all_spellings(year):
    assert parse_year(year) == year
    assert parse_year(float(year)) == year
    assert parse_year(f"{year}年") == year
    assert parse_year(f" {year} ") == year


@given(st.decimals(min_value=0, max_value=100000, places=2, allow_nan=False))
def test_parse_number__with_unit_suffix(value):
    assert abs(parse_number(f"{value}亩") - float(value)) < 1e-9


def test_parse_year__implausible_or_missing_is_none():
    assert parse_year(None) is None and parse_year("") is None and parse_year("12") is None


def test_normalize_plots__keeps_every_row_and_attribute():
    bowtie = shapely.Polygon(
        [
            (X0, Y0),
            (X0 + 100, Y0),
            (X0 + 100, Y0 + 100),
            (X0 + 50, Y0 + 100),
            (X0 + 60, Y0 + 90),
            (X0 + 40, Y0 + 90),
            (X0 + 50, Y0 + 100),
            (X0, Y0 + 100),
        ]
    )
    layer = plot_layer(
        [square(0, 300, 100), bowtie, None],
        造林年度=["2022年", 2022.0, None],
        上报面积=["15亩", 15, None],
    )
    out = normalize_plots(layer, PlotSource(path=Path("x.gpkg")))
    assert list(out["row"]) == [0, 1, 2]
    assert list(out["geom_status"]) == ["ok", "repaired", "empty"]
    assert out["planting_year"].tolist()[:2] == [2022, 2022]
    assert out["planting_year"].isna().tolist()[2]
    assert out["claimed_area_mu"].tolist()[:2] == [15.0, 15.0]
    assert "图斑编号" in out.columns and "树种" in out.columns
    # 100 m × 100 m = 10 000 m² = 15 亩, computed from CGCS2000 lon/lat in an equal-area way.
    assert abs(out["geom_area_mu"].iloc[0] - 15.0) / 15.0 < 0.001


def test_normalize_plots__hectares_are_converted():
    layer = plot_layer([square(0, 0, 100)], 上报面积=[1.0])
    out = normalize_plots(layer, PlotSource(path=Path("x.gpkg"), area_unit="ha"))
    assert out["claimed_area_mu"].iloc[0] == 15.0


def test_normalize_plots__a_huge_polygon_is_kept_and_marked_oversize():
    """A 1° × 1° polygon is not read on imagery (it would exhaust memory) but keeps its row."""
    from pipeline.plots.ingest import IngestLog

    layer = plot_layer([square(0, 0, 100), square(0, 300, 100)])
    layer.loc[1, "geometry"] = shapely.box(117.0, 26.0, 118.0, 27.0)  # EPSG:4490 degrees
    log = IngestLog()
    out = normalize_plots(layer, PlotSource(path=Path("x.gpkg")), log=log)
    assert list(out["oversize"]) == [False, True] and list(out["row"]) == [0, 1]
    found = log.table()
    assert list(found.loc[found["code"] == "PLOT_TOO_LARGE", "row"]) == [1]
    small = normalize_plots(layer, PlotSource(path=Path("x.gpkg"), max_area_km2=20_000))
    assert not small["oversize"].any()

"""Value normalisers (property-based) and the alias table."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.config import ColumnMap
from pipeline.errors import PlotDataError
from pipeline.plots.fields import (
    parse_area,
    parse_county,
    parse_number,
    parse_stage,
    parse_text,
    parse_year,
    resolve_columns,
)

ANY_VALUE = st.one_of(st.none(), st.text(), st.integers(), st.floats(allow_nan=True), st.booleans())


@given(ANY_VALUE)
def test_normalisers__never_raise(value):
    parse_number(value), parse_year(value), parse_text(value), parse_county(value)
    parse_area(value, "ha"), parse_stage(value, {"1": "设计施工"})


@given(st.integers(1949, 2100), st.sampled_from(["{}", "{}年", " {} ", "{}年度", "{}.0", "{}-03"]))
def test_parse_year__text_spellings(year, fmt):
    assert parse_year(fmt.format(year)) == year
    assert parse_year(float(year)) == year


@given(st.integers(0, 1948) | st.integers(2101, 10**6))
def test_parse_year__implausible_years_are_none(number):
    assert parse_year(number) is None


@given(st.decimals(min_value=0, max_value=100000, places=2, allow_nan=False))
def test_parse_area__units_in_text_win(value):
    v = float(value)
    assert parse_area(f"{value}亩", "ha") == pytest.approx(v)
    assert parse_area(f"{value}公顷", "mu") == pytest.approx(v * 15)
    assert parse_area(f"{value}平方米", "mu") == pytest.approx(v / 666.6666667)
    assert parse_area(v, "ha") == pytest.approx(v * 15)


@given(st.integers(100000, 999999))
def test_parse_county__codes_as_text(code):
    assert parse_county(code) == str(code)
    assert parse_county(float(code)) == str(code)
    assert parse_county(f" {code} ") == str(code)


@given(st.text(min_size=1).filter(lambda s: s.strip()))
def test_parse_text__idempotent(text):
    once = parse_text(text)
    assert parse_text(once) == once


@pytest.mark.parametrize(
    "value,stage",
    [("设计施工", "设计施工"), ("Design", "设计施工"), ("1", "设计施工"), (2.0, "造林验收"),
     ("accepted", "造林验收"), ("纳入造林", "纳入造林"), ("其他", "其他")],
)  # fmt: skip
def test_parse_stage__chinese_english_or_code(value, stage):
    assert parse_stage(value, {"1": "设计施工", "2": "造林验收"}) == stage


def test_resolve_columns__config_alias_and_typo():
    cols = ["XIAN", "XIANG", "MIAN_JI", "ZLND", "图斑编号", "乡镇名"]
    got = resolve_columns(cols, ColumnMap(), {"township": ("乡镇名",)})
    assert got["plot_id"].column == "图斑编号" and got["plot_id"].how == "config"
    assert got["township"].column == "乡镇名"  # config aliases come first
    assert got["claimed_area"].unit == "ha" and got["county"].column == "XIAN"
    assert got["stage"].column is None and got["stage"].how == "absent"
    units = resolve_columns(cols, ColumnMap(), area_units={"MIAN_JI": "mu"})
    assert units["claimed_area"].unit == "mu"
    with pytest.raises(PlotDataError, match=r"'TBBH' named in plots\.columns\.plot_id"):
        resolve_columns(cols, ColumnMap(plot_id="TBBH"), where="a.shp")


def test_resolve_columns__truncated_dbf_names():
    got = resolve_columns(["图斑编", "上报面"], ColumnMap())
    assert got["plot_id"].column == "图斑编" and got["claimed_area"].column == "上报面"

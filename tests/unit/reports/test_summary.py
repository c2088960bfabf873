from __future__ import annotations

import pandas as pd
import pytest

from pipeline.config import TaskTarget
from pipeline.reports.summary import TOTAL, county_figures, plot_areas, summary_table


def _result() -> pd.DataFrame:
    """Four plots of two counties: a good one, a partial planting, a re-report, a design plot."""
    return pd.DataFrame(
        {
            "row": [0, 1, 2, 3],
            "county": ["甲县", "甲县", "乙县", "乙县"],
            "is_design": [False, False, False, True],
            "status": ["consistent", "suspect", "inconsistent", "consistent"],
            "reasons": ["", "PARTIAL_PLANTING", "DUPLICATE_PRIOR", ""],
            "claimed_area_mu": [10.0, 12.0, 8.0, 5.0],
            "geom_area_mu": [10.004, 12.0, 7.996, 5.0],
            "planted_area_mu": [10.004, 6.0, 7.996, 0.0],
            "verified_area_mu": [10.004, 6.0, 0.0, 0.0],
        }
    )


def test_plot_areas__definitions_per_plot():
    a = plot_areas(_result())
    assert a.loc[0, "passed_mu"] == 10.0 and a.loc[1, "passed_mu"] == 0
    assert a.loc[1, "supplement_mu"] == 6.0  # the unplanted half
    assert a.loc[2, "failed_mu"] == 8.0 and a.loc[2, "deducted_mu"] == 8.0
    assert (a.loc[3, ["verified_mu", "passed_mu", "deducted_mu"]] == 0).all()
    assert a.loc[3, "claimed_mu"] == 5.0


def test_county_figures__total_row_adds_up_and_design_counts_apart():
    f = county_figures(_result(), [TaskTarget(county="甲县", area_mu=40.0)]).set_index("county")
    assert f.loc[TOTAL, "claimed_mu"] == f.loc[["甲县", "乙县"], "claimed_mu"].sum() == 30.0
    assert f.loc["乙县", "n_design"] == 1 and f.loc["乙县", "design_claimed_mu"] == 5.0
    assert f.loc["甲县", "verified_rate"] == pytest.approx(16.0 / 22.0)
    assert f.loc["甲县", "planted_task_share"] == pytest.approx(16.0 / 40.0)
    assert pd.isna(f.loc["乙县", "planted_task_share"])


def test_summary_table__chinese_headers_and_rounding():
    t = summary_table(county_figures(_result()))
    assert {
        "县",
        "图斑数",
        "上报面积_亩",
        "面积核实率",
        "图斑数_图数一致",
        "面积_重复上报_亩",
    } <= set(t.columns)
    assert t["面积核实率"].map(lambda v: round(v, 4) == v).all()

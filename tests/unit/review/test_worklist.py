"""Worklist filters, order, blind-sample hiding and progress per county."""

from __future__ import annotations

import pandas as pd

from pipeline.review.states import resolve_review
from pipeline.review.store import Decision
from pipeline.review.worklist import Filters, filter_worklist, join_reviews, progress_by_county


def table() -> pd.DataFrame:
    plots = pd.DataFrame(
        {
            "row": [0, 1, 2, 3, 4, 5],
            "plot_id": list("abcdef"),
            "county": ["甲县", "甲县", "乙县", "乙县", "乙县", "甲县"],
            "township": ["一镇", "二镇", "三镇", "三镇", "四镇", "一镇"],
            "status": [
                "consistent",
                "suspect",
                "inconsistent",
                "suspect",
                "consistent",
                "insufficient_data",
            ],  # fmt: skip
            "reasons": [
                "",
                "OVERLAP",
                "DUPLICATE_PRIOR;OVERLAP",
                "TOO_SMALL",
                "",
                "INSUFFICIENT_DATA",
            ],
            "claimed_area_mu": [5.0] * 6,
            "geom_area_mu": [5.0, 9.0, 2.0, 30.0, 4.0, 1.0],
            "model_probability": [0.1, 0.9, 0.5, 0.7, 0.2, None],
        }
    )
    reviews = {r: resolve_review({}, False) for r in plots["row"]}
    reviews[2] = resolve_review({"primary": Decision(2, "primary", "confirmed", user="v")}, False)
    return join_reviews(plots, reviews, {3: "vera"}, {"double": {1}, "blind": {4}})


def rows(f: Filters) -> list[int]:
    return filter_worklist(table(), f, "vera")["row"].tolist()


def test_filter__default_order_flagged_first_blind_left_out():
    assert rows(Filters()) == [2, 1, 3, 5, 0]


def test_filter__each_filter():
    assert rows(Filters(county="乙县")) == [2, 3]
    assert rows(Filters(township="一镇")) == [5, 0]
    assert rows(Filters(reason="OVERLAP")) == [2, 1]
    assert rows(Filters(status="suspect")) == [1, 3]
    assert rows(Filters(assignee="vera")) == rows(Filters(queue="mine")) == [3]
    assert rows(Filters(decision="confirmed")) == [2]
    assert rows(Filters(decision="none")) == [1, 3, 5, 0]
    assert rows(Filters(state="decided")) == [2]
    assert rows(Filters(queue="double")) == [1]
    assert rows(Filters(queue="blind")) == [4]
    assert rows(Filters(queue="flagged", county="甲县")) == [1, 5]


def test_sort__probability_and_area():
    assert rows(Filters(sort="probability")) == [1, 3, 2, 0, 5]
    assert rows(Filters(sort="area")) == [3, 1, 0, 2, 5]


def test_progress__per_county_and_total():
    p = progress_by_county(table()).set_index("county")
    assert p.loc["乙县", "flagged"] == 2 and p.loc["乙县", "flagged_decided"] == 1
    assert p.loc["合计", "plots"] == 6 and p.loc["合计", "flagged"] == 4
    assert p.loc["乙县", "share"] == 0.5

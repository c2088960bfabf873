"""Comparing two result tables (re-judged or a later run)."""

from __future__ import annotations

import pandas as pd

from pipeline.results.rejudge import compare_results, status_moves


def _results(statuses, reasons, area, rows=(0, 1, 2)) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row": list(rows),
            "plot_id": [f"p{r}" for r in rows],
            "county": "A县",
            "status": statuses,
            "reasons": reasons,
            "verified_area_mu": area,
        }
    )


def test_compare_results__changes_added_and_removed_reasons():
    before = _results(["consistent", "inconsistent", "suspect"],
                      ["", "VEGETATION_LOSS", "OVERLAP"], [5.0, 0.0, 3.0])  # fmt: skip
    after = _results(["suspect", "consistent", "suspect"],
                     ["LOW_SURVIVAL", "", "OVERLAP"], [5.0, 4.0, 3.0])  # fmt: skip
    cmp = compare_results(before, after).set_index("row")
    assert list(cmp["status_changed"]) == [True, True, False]
    assert cmp.loc[0, "reasons_added"] == "LOW_SURVIVAL"
    assert cmp.loc[1, "reasons_removed"] == "VEGETATION_LOSS"
    assert cmp.loc[1, "verified_area_change_mu"] == 4.0
    moves = status_moves(cmp)
    assert moves.loc["inconsistent", "consistent"] == 1
    assert moves.to_numpy().sum() == 3


def test_compare_results__plots_in_one_run_only_by_plot_id():
    before = _results(["consistent", "consistent"], ["", ""], [1.0, 1.0], rows=(0, 1))
    after = _results(["consistent", "suspect"], ["", "OVERLAP"], [1.0, 1.0], rows=(1, 2))
    cmp = compare_results(before, after, on="plot_id").set_index("plot_id")
    assert cmp.loc["p0", "presence"] == "before_only"
    assert cmp.loc["p2", "presence"] == "after_only"
    assert cmp.loc["p1", "presence"] == "both"

from __future__ import annotations

import pandas as pd

from pipeline.reports.history import changed_plots, plot_keys, run_statuses, status_history


def _run(statuses: list[str], ids: list[str | None]) -> pd.DataFrame:
    n = len(statuses)
    return pd.DataFrame({"row": range(n), "plot_id": ids, "county": "甲县", "status": statuses,
                         "reasons": "", "verified_area_mu": 1.0})  # fmt: skip


def test_plot_keys__unique_ids_else_rows():
    keys = plot_keys(_run(["consistent"] * 4, ["a", "b", "b", None]))
    assert keys.tolist() == ["a", "#1", "#2", "#3"]


def test_status_history__matches_by_id_and_lists_the_changes():
    before = _run(["consistent", "suspect", "consistent"], ["a", "b", "c"])
    # plot c dropped, plot d new, plots reordered
    after = _run(["inconsistent", "consistent", "consistent"], ["b", "a", "d"])
    hist = status_history([run_statuses(before, "春"), run_statuses(after, "秋")])
    assert hist["春"].fillna("").tolist() == ["suspect", "consistent", ""]
    assert hist["changed"].tolist() == [True, False, False]
    changed = changed_plots(hist, after)
    assert changed["图斑编号"].tolist() == ["b"]
    assert changed[["上次核查结论", "本次核查结论"]].iloc[0].tolist() == ["存疑", "不一致"]

"""Decisions out to plots.gpkg / plots.parquet / review.xlsx, back from the sheet, as labels."""

from __future__ import annotations

import geopandas as gpd
import openpyxl
import pytest

from pipeline.layout import RunLayout
from pipeline.results import open_run
from pipeline.review.exchange import SHEET, export_decisions, import_sheet, read_labels
from pipeline.review.store import Context, Decision, ReviewStore
from tests.servers.review import copy_for_review


@pytest.fixture(scope="module")
def run_dir(tiny_run, tmp_path_factory):
    return copy_for_review(tiny_run, tmp_path_factory.mktemp("review-exchange") / "run")


def test_export_import__round_trip(run_dir):
    layout = RunLayout.of(run_dir)
    plots = open_run(run_dir).plots
    store = ReviewStore(layout.review_db)
    n = len(plots)
    store.record(Decision(1, "primary", "confirmed", ("OVERLAP",), "重叠明显", "high", "vera",
                          plot_id=str(plots.loc[1, "plot_id"])), 0, Context())  # fmt: skip
    sheet = export_decisions(layout, plots, store)

    gpkg = gpd.read_file(layout.plots_gpkg)
    assert len(gpkg) == n
    one = gpkg.loc[gpkg["序号"] == 1].iloc[0]
    assert one["复核结论"] == "确认问题" and one["复核人"] == "vera" and one["复核置信度"] == "高"
    assert gpkg.loc[gpkg["序号"] == 2, "复核状态"].iloc[0] == "待复核"
    parquet = gpd.read_parquet(layout.plots_parquet)
    assert len(parquet) == n and parquet.loc[parquet["row"] == 1, "review_decision"].iloc[0] == (
        "confirmed"
    )

    # offline review: fill two rows of the sheet, change nothing else
    wb = openpyxl.load_workbook(sheet)
    ws = wb[SHEET]
    head = [c.value for c in ws[1]]
    col = {name: head.index(name) + 1 for name in head}
    by_row = {ws.cell(i, col["序号"]).value: i for i in range(2, ws.max_row + 1)}
    ws.cell(by_row[2], col["复核结论"], "误报")
    ws.cell(by_row[2], col["复核说明"], "外业已造林")
    ws.cell(by_row[3], col["复核结论"], "需外业核查")
    ws.cell(by_row[3], col["复核问题代码"], "NO_PLANTING_EVIDENCE")
    wb.save(sheet)
    # meanwhile someone decides row 3 in the app: the sheet's row 3 is now a conflict
    store.record(Decision(3, "primary", "confirmed", user="vince"), 0, Context())
    out = import_sheet(sheet, plots, store, "sue", Context("run"))
    assert out.recorded == [2] and len(out.conflicts) == 1 and "序号 3" in out.conflicts[0]
    assert out.unchanged == 1 and out.errors == []
    (two,) = store.decisions(2)
    assert (two.decision, two.comment, two.user) == ("false_alarm", "外业已造林", "sue")
    assert "import" in set(store.log(row=2)["action"])


def test_import__bad_words_reported(run_dir, tmp_path):
    layout = RunLayout.of(run_dir)
    plots = open_run(run_dir).plots
    store = ReviewStore(tmp_path / "other.sqlite")
    sheet = export_decisions(layout, plots, store)
    wb = openpyxl.load_workbook(sheet)
    ws = wb[SHEET]
    head = [c.value for c in ws[1]]
    ws.cell(2, head.index("复核结论") + 1, "也许")
    ws.cell(3, head.index("复核结论") + 1, "误报")
    ws.cell(3, head.index("复核问题代码") + 1, "NOT_A_CODE")
    wb.save(sheet)
    out = import_sheet(sheet, plots, store, "sue", Context())
    assert out.recorded == [] and len(out.errors) == 2
    assert "也许" in out.errors[0] and "NOT_A_CODE" in out.errors[1]


def test_read_labels__confirmed_and_false_alarm_only(run_dir, tmp_path):
    db = tmp_path / "labels.sqlite"
    store = ReviewStore(db)
    for row, decision in [(4, "confirmed"), (5, "false_alarm"), (6, "field_check")]:
        store.record(Decision(row, "primary", decision, user="vera"), 0, Context())
    labels = read_labels(run_dir, db)
    assert dict(zip(labels["row"], labels["label"], strict=True)) == {4: 1, 5: 0}
    assert read_labels(run_dir, tmp_path / "none.sqlite").empty

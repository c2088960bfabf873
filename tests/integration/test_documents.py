"""The documents of a run (reports/): workbook, GeoPackage style, 整改清单, history, field lists."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest

from pipeline.codes import ACTIONS, STATUS_LABELS, actions_of
from pipeline.config import Reports, TaskTarget, dump_settings, load_settings
from pipeline.layout import RunLayout
from pipeline.reports.summary import AREA_LABELS, plot_areas
from pipeline.workflow import inprocess

openpyxl = pytest.importorskip("openpyxl")
TARGETS = (
    TaskTarget(county="明溪县", area_mu=200.0),
    TaskTarget(county="清流县", area_mu=150.0),
    TaskTarget(county="清流县", stage="design", area_mu=20.0),
)


@pytest.fixture(scope="module")
def runs(tiny_run, tmp_path_factory):
    """Documents of a copy of the session's tiny run, and of a second copy re-judged with a
    changed loss threshold that names the first in ``reports.history``."""
    root = tmp_path_factory.mktemp("documents")
    reports = Reports(compiling_unit="三明市林业监测中心", report_date=date(2025, 11, 30),
                      targets=TARGETS, sample={"size": 12, "seed": 1})  # fmt: skip
    layouts = []
    for name, history, loss_drop in (("first", (), None), ("second", (root / "first",), 0.9)):
        shutil.copytree(tiny_run, root / name, ignore=shutil.ignore_patterns("reports"))
        settings = load_settings(root / name / "settings.yaml")
        evidence = settings.evidence.model_copy(
            update={"loss_drop": loss_drop or settings.evidence.loss_drop}
        )
        settings = settings.model_copy(
            update={
                "output_dir": root / name,
                "evidence": evidence,
                "reports": reports.model_copy(update={"history": history}),
            }
        )
        dump_settings(settings, root / name / "settings.yaml")
        if loss_drop is not None:
            inprocess.report_in_process(settings)
        inprocess.documents_in_process(settings)
        layouts.append(RunLayout.of(root / name))
    return tuple(layouts)


def _sheet_rows(ws, header_row: int = 4):
    rows = list(ws.iter_rows(values_only=True))
    header = rows[header_row - 1]
    return [dict(zip(header, r, strict=True)) for r in rows[header_row:]]


def test_workbook__totals_reconcile_with_plots_parquet(runs):
    layout, _ = runs
    res = gpd.read_parquet(layout.plots_parquet)
    wb = openpyxl.load_workbook(layout.workbook)
    ws = wb["汇总"]
    assert ws["A1"].value.endswith("汇总表") and ws["A3"].value == "单位：亩"
    assert "三明市林业监测中心" in ws["A2"].value and "2025-11-30" in ws["A2"].value
    rows = _sheet_rows(ws)
    total = rows[-1]
    counties = rows[:-1]
    assert total["县"] == "合计"
    planted = res[~res["is_design"].fillna(False)]
    assert total["图斑数"] == len(res) == sum(r["图斑数"] for r in counties)
    areas = plot_areas(res)
    for label in AREA_LABELS.values():
        col = {v: k for k, v in AREA_LABELS.items()}[label]
        assert total[label] == pytest.approx(sum(r[label] for r in counties), abs=1e-6)
        assert total[label] == pytest.approx(areas.loc[planted.index, col].sum(), abs=1e-6)
    assert total["上报面积"] == pytest.approx(
        planted["claimed_area_mu"].sum(), abs=0.005 * len(res)
    )
    assert total["核实面积"] == pytest.approx(res["verified_area_mu"].sum(), abs=0.005 * len(res))
    qingliu = next(r for r in counties if r["县"] == "清流县")
    assert qingliu["造林任务"] == 150.0
    assert qingliu["核实面积占任务"] == pytest.approx(qingliu["核实面积"] / 150.0)
    design = res[res["is_design"].fillna(False) & (res["county"] == "清流县")]
    assert qingliu["设计施工面积"] == pytest.approx(design["claimed_area_mu"].sum(), abs=0.01)
    assert qingliu["设计施工任务"] == 20.0
    assert ws.cell(5, 4).number_format == "0.00"  # areas carry two decimals
    for name in ("明溪县", "清流县"):
        detail = _sheet_rows(wb[name])
        plots, sums = detail[:-1], detail[-1]
        assert len(plots) == (res["county"] == name).sum()
        assert sums["序号"] == "合计"
        county_row = next(r for r in counties if r["县"] == name)
        assert sums["核实面积"] == pytest.approx(county_row["核实面积"] + 0, abs=1e-6)
        assert all(round(p["图形面积"], 2) == p["图形面积"] for p in plots)
        assert {p["核查结论"] for p in plots} <= set(STATUS_LABELS.values())
    assert {"整改清单", "说明"} <= set(wb.sheetnames)


def test_rectification__every_plot_needing_action_once_with_its_action(runs):
    layout, _ = runs
    res = gpd.read_parquet(layout.plots_parquet)
    rows = _sheet_rows(openpyxl.load_workbook(layout.workbook)["整改清单"])
    need = res[res["reasons"].map(bool) & ~res["is_design"].fillna(False)]
    assert sorted(r["行号"] for r in rows) == sorted(need["row"])
    by_row = {r["行号"]: r for r in rows}
    lost = res.loc[res["reasons"].str.contains("VEGETATION_LOSS"), "row"].iloc[0]
    assert by_row[lost]["整改措施"] == ACTIONS["replant"]
    partial = res.loc[res["reasons"].str.contains("PARTIAL_PLANTING")].iloc[0]
    assert by_row[partial["row"]]["整改措施"] == ACTIONS["supplement"]
    assert 0 < by_row[partial["row"]]["整改面积"] < partial["geom_area_mu"]
    assert all(r["整改期限"] == "2025-12-30" for r in rows)
    for county in {r["县"] for r in rows}:
        text = layout.rectification_doc(county).read_text(encoding="utf-8")
        assert f"{county}整改清单" in text and "单位：亩" in text
    assert set(actions_of("LOW_SURVIVAL;OVERLAP")) == {"supplement", "deduct"}


def test_gpkg__opens_with_its_style_and_chinese_statuses(runs):
    layout, _ = runs
    gpkg = gpd.read_file(layout.plots_gpkg, layer="plots")
    assert list(gpkg.columns[:4]) == ["序号", "核查状态", "状态代码", "问题说明"]
    assert set(gpkg["核查状态"]) <= set(STATUS_LABELS.values())
    assert set(gpkg["状态代码"]) <= set(STATUS_LABELS)
    assert not any(gpkg[c].isna().all() for c in gpkg.columns if c != "geometry")
    assert "village" not in gpkg.columns and "county" not in gpkg.columns
    info = pyogrio.read_info(layout.plots_gpkg, layer="plots")
    assert dict(zip(info["fields"], info["dtypes"], strict=True))["造林年度"].startswith("int")
    with sqlite3.connect(layout.plots_gpkg) as con:
        styles = con.execute(
            "SELECT f_table_name, useAsDefault, styleQML FROM layer_styles"
        ).fetchall()
    assert styles[0][0] == "plots" and styles[0][1] == 1
    assert 'attr="核查状态"' in styles[0][2] and "不一致" in styles[0][2]


def test_history__a_changed_threshold_lists_the_changed_plots(runs):
    first, second = runs
    before = gpd.read_parquet(first.plots_parquet)
    after = gpd.read_parquet(second.plots_parquet)
    moved = before.loc[before["status"] != after["status"], "row"]
    assert len(moved) >= 1  # the loss plot is no longer flagged
    changed = pd.read_csv(second.changed_plots, encoding="utf-8-sig")
    assert sorted(changed["行号"]) == sorted(moved)
    hist = pd.read_csv(second.history_table, encoding="utf-8-sig")
    assert len(hist) == len(after) and (hist["状态变化"] == "是").sum() == len(moved)
    bulletin = second.bulletin.read_text(encoding="utf-8")
    assert "与上次核查相比" in bulletin and "结论变化图斑数" in bulletin
    assert "无对比" in first.bulletin.read_text(encoding="utf-8")
    sheet = _sheet_rows(openpyxl.load_workbook(second.workbook)["回头看"])
    assert sorted(r["行号"] for r in sheet if r["状态变化"] == "是") == sorted(moved)
    assert "回头看" not in openpyxl.load_workbook(first.workbook).sheetnames


def test_fieldwork__visit_files_and_sample_estimate(runs):
    layout, _ = runs
    res = gpd.read_parquet(layout.plots_parquet)
    visits = gpd.read_file(layout.visits_kml)
    flagged = res[res["status"].isin(["suspect", "inconsistent"]) & res.geometry.notna()]
    flagged = flagged[~flagged.geometry.is_empty]
    assert len(visits) == len(flagged)
    assert len(gpd.read_file(layout.visits_gpx, layer="waypoints")) == len(flagged)
    sample = pd.read_csv(layout.field_sample, encoding="utf-8-sig")
    assert 10 <= len(sample) <= 14 and sample["行号"].is_unique
    import json

    est = json.loads(layout.field_estimate.read_text(encoding="utf-8"))
    assert est["low"] <= est["rate"] <= est["high"] and est["n_plots"] == len(res)


# -- the HTML report and an evidence pack in headless chromium --------------------------------
CHROMIUM = Path("/usr/bin/chromium")

# Distinct characters render distinct bitmaps; missing glyphs all render the same box.
GLYPHS_JS = """(sel) => {
  const text = document.querySelector(sel).innerText;
  const chars = [...new Set([...text].filter(c => /[\\u4e00-\\u9fff]/.test(c)))].slice(0, 40);
  const font = getComputedStyle(document.body).fontFamily;
  const canvas = document.createElement("canvas");
  canvas.width = 40; canvas.height = 40;
  const ctx = canvas.getContext("2d", {willReadFrequently: true});
  const draw = (c) => {
    ctx.clearRect(0, 0, 40, 40); ctx.fillStyle = "#000"; ctx.font = `32px ${font}`;
    ctx.fillText(c, 2, 32); return ctx.getImageData(0, 0, 40, 40).data.join(",");
  };
  const tofu = draw("\\uFFFF");
  const seen = chars.map(draw);
  return {n: chars.length, distinct: new Set(seen).size,
          tofu: seen.filter(s => s === tofu).length};
}"""
IMAGE_JS = """(sel) => [...document.querySelectorAll(sel)].map(i => i.complete && i.naturalWidth)"""


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not CHROMIUM.is_file():
        pytest.skip(
            "Debian's chromium (/usr/bin/chromium) is not installed (apt-get install chromium)"
        )
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield b
        b.close()


def _not_blank(png: bytes) -> bool:
    import io

    import numpy as np
    from PIL import Image

    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    return len(np.unique(img.reshape(-1, 3), axis=0)) > 20 and img.std() > 10


def test_html_report__chinese_map_and_charts_are_drawn(runs, browser):
    layout, _ = runs
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(layout.report_html.as_uri())
    assert page.title().endswith("核查报告")
    glyphs = page.evaluate(GLYPHS_JS, "body")
    assert glyphs["n"] >= 30 and glyphs["distinct"] == glyphs["n"] and glyphs["tofu"] == 0
    for sel in ("#status-map", "#chart-counties", "#chart-reasons"):
        assert page.evaluate(IMAGE_JS, sel)[0] > 100, sel
        assert _not_blank(page.locator(sel).screenshot()), sel
    page.screenshot(path=str(layout.reports / "report-screenshot.png"), full_page=True)
    links = page.locator("a[href^='evidence/']")
    assert links.count() == len(list(layout.evidence.glob("*.html"))) > 0
    page.close()


def test_evidence_pack__claims_trace_chips_and_series_are_drawn(runs, browser):
    layout, _ = runs
    res = gpd.read_parquet(layout.plots_parquet)
    row = int(res.loc[res["reasons"].str.contains("VEGETATION_LOSS"), "row"].iloc[0])
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(layout.evidence_pack(row).as_uri())
    text = page.inner_text("body")
    assert "植被损失" in text and "上报信息" in text and "规则判定记录" in text
    glyphs = page.evaluate(GLYPHS_JS, "body")
    assert glyphs["distinct"] == glyphs["n"] >= 20 and glyphs["tofu"] == 0
    chips = page.evaluate(IMAGE_JS, ".chips img")
    assert len(chips) >= 4 and all(w > 0 for w in chips)
    assert _not_blank(page.locator(".chips img").first.screenshot())
    series = page.locator("img.chart")
    assert series.count() == 1 and _not_blank(series.screenshot())
    assert page.locator("td", has_text="S2_DEMO_").count() > 0  # the STAC item ids
    page.close()

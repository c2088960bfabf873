"""The review app in a real browser (Debian's chromium driven by Playwright) on the tiny run:
log in, filter, open a plot, see chart / chips / map, decide, audit log, export; and two
reviewers deciding one plot at once."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from PIL import Image

from pipeline.layout import RunLayout
from pipeline.review.app import create_app
from tests.servers.review import PASSWORD, AppServer, copy_for_review, flagged_row

CHROMIUM = os.environ.get("TUSHU_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (test extra)")
if not Path(CHROMIUM).is_file():
    pytest.skip(
        f"no chromium at {CHROMIUM}: apt-get install chromium (or set TUSHU_CHROMIUM)",
        allow_module_level=True,
    )


@pytest.fixture(scope="module")
def served(tiny_run, tmp_path_factory):
    run = copy_for_review(tiny_run, tmp_path_factory.mktemp("review-browser") / "run")
    app = create_app(run)
    server = AppServer(app).start()
    yield server, app, run
    server.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def log_in(browser, url: str, name: str):
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(f"{url}/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
    return page


def not_blank(png: bytes) -> bool:
    """An image with visible content: more than a few colours and some contrast."""
    arr = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=float)
    return arr.std() > 10 and len(np.unique(arr.reshape(-1, 3), axis=0)) > 20


def test_review__filter_open_decide_audit_export(served, browser):
    server, app, run = served
    row = flagged_row(run)
    plot = app.state.review.plots.loc[row]
    page = log_in(browser, server.url, "vera")

    # filter the worklist by the plot's county (htmx swaps the rows in)
    total = page.locator("table.worklist tbody tr").count()
    with page.expect_response(lambda r: "/rows?" in r.url):
        page.select_option("select[name=county]", str(plot["county"]))
    counties = page.locator("table.worklist tbody tr td:nth-child(3)").all_inner_texts()
    assert counties and set(counties) == {str(plot["county"])}
    assert len(counties) <= total
    assert "county=" in page.url

    # open the plot: chart, chips and map render
    page.click(f"table.worklist a[href^='/plot/{row}?']")
    page.wait_for_url(f"**/plot/{row}?**")
    page.wait_for_function("document.getElementById('chart').naturalWidth > 0")
    page.wait_for_selector(".chips img")
    page.wait_for_function(
        "Array.from(document.querySelectorAll('.chips img'))"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    page.wait_for_selector("#map[data-ready='1'] path.leaflet-interactive")
    assert not_blank(page.locator("#chart").screenshot())
    assert not_blank(page.locator(".chips").screenshot())
    assert not_blank(page.locator("#map").screenshot())
    fired = page.locator("table.trace tbody tr.fired td:first-child").all_inner_texts()
    assert page.locator("table.trace tbody tr").count() > len(fired) > 0
    items = page.input_value("#items-on-screen")
    assert items.startswith("S2_")

    # decide with the keyboard shortcut for 确认问题 and a reason code
    page.keyboard.press("1")
    page.check("input[name=reasons][value=NO_PLANTING_EVIDENCE]")
    page.fill("textarea[name=comment]", "影像无整地迹象")
    page.select_option("select[name=confidence]", "high")
    page.click("#save")
    page.wait_for_selector("p.saved")

    # the decision is in the audit log with the imagery ids that were on screen
    page.goto(f"{server.url}/audit")
    entry = page.locator("table.audit tbody tr").first
    text = entry.inner_text()
    assert "vera" in text and "confirmed" in text and str(row) in text
    assert items.split(";")[0] in text

    # a senior exports; the GeoPackage has the decision
    senior = log_in(browser, server.url, "sue")
    senior.goto(f"{server.url}/progress")
    senior.click("#export")
    senior.wait_for_selector("text=已导出")
    gpkg = gpd.read_file(RunLayout.of(run).plots_gpkg)
    got = gpkg.loc[gpkg["序号"] == row].iloc[0]
    assert got["复核结论"] == "确认问题" and got["复核人"] == "vera"
    assert got["复核问题代码"] == "NO_PLANTING_EVIDENCE"


def test_review__two_reviewers_one_plot_conflict(served, browser):
    server, app, run = served
    review = app.state.review
    double, blind = review.store.samples("double"), review.store.samples("blind")
    decided = {d.row for d in review.store.decisions()}
    row = next(r for r in review.plots.index if r not in double | blind | decided | {0})
    a = log_in(browser, server.url, "vera")
    b = log_in(browser, server.url, "vince")
    for page in (a, b):
        page.goto(f"{server.url}/plot/{row}")
    a.check("input[name=decision][value=false_alarm]")
    a.click("#save")
    a.wait_for_selector("p.saved")
    b.check("input[name=decision][value=confirmed]")
    b.click("#save")
    b.wait_for_selector(".conflict")
    assert "vera" in b.inner_text(".conflict")
    # vince has seen vera's decision and submits his again: it replaces hers
    b.click("#save")
    b.wait_for_selector("p.saved")
    log = review.store.log(row=row)
    decisions = log[log["action"] == "decide"]
    assert list(decisions["user"]) == ["vince", "vera"]
    assert list(log["action"]) == ["decide", "conflict", "decide"]
    b.goto(f"{server.url}/audit?row={row}")
    text = b.inner_text("table.audit")
    assert "false_alarm" in text and "confirmed" in text

"""The documents of a published run (``reports/``): workbook, 整改清单, bulletin, history,
field lists, HTML report and evidence packs, made from the run's deliverables alone."""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path

import geopandas as gpd

from pipeline.config import Reports
from pipeline.files import write_json, write_table
from pipeline.layout import RunLayout
from pipeline.reports import bulletin, fieldwork, history, rectification, workbook
from pipeline.reports.html import render_html
from pipeline.reports.summary import county_figures


def document_context(reports: Reports, run: dict, today: date | None = None) -> dict:
    """What every document prints under its title."""
    day = reports.report_date or today or date.today()
    return {
        "title": reports.title,
        "compiling_unit": reports.compiling_unit,
        "report_date": day.isoformat(),
        "deadline": rectification.deadline_of(day, reports.deadline_days).isoformat(),
        "run_id": run.get("run_id", ""),
    }


def make_documents(
    layout: RunLayout,
    reports: Reports,
    today: date | None = None,
    run=None,
    results=None,
    workers: int = 1,
) -> dict:
    """Write every document under ``layout.reports`` and its manifest; returns the manifest.
    The HTML report and evidence packs need ``run`` (:func:`pipeline.results.open_run` of the
    folder) and ``results`` (the :mod:`pipeline.results` package, with its ``charts`` and
    ``chips`` modules); without them they are skipped. ``workers``: processes for the
    evidence packs."""
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    files: list[Path] = []

    def lap(name: str) -> None:
        nonlocal t0
        now = time.perf_counter()
        timings[name] = round(now - t0, 3)
        t0 = now

    result = gpd.read_parquet(layout.plots_parquet)
    record = json.loads(layout.run_json.read_text(encoding="utf-8"))
    ctx = document_context(reports, record, today)
    meta = f"编制单位：{ctx['compiling_unit'] or '（未填）'}　　日期：{ctx['report_date']}"
    figures = county_figures(result, reports.targets)
    rect = rectification.rectification_table(result, date.fromisoformat(ctx["deadline"]))
    lap("tables")

    current = history.run_statuses(result, ctx["run_id"] or "本次")
    earlier = [history.read_run_statuses(p) for p in reports.history]
    hist = history.status_history([*earlier, current])
    changed = history.changed_plots(hist, result)
    hist_table = history.history_table(hist)
    write_table(hist_table, layout.history_table)
    write_table(changed, layout.changed_plots)
    files += [layout.history_table, layout.changed_plots]
    lap("history")
    files.append(
        workbook.write_workbook(
            layout.workbook,
            figures=figures,
            result=result,
            rectification=rect,
            title=reports.title,
            meta=meta,
            history=hist_table if earlier else None,
        )
    )
    lap("workbook")
    files += rectification.write_rectification_html(rect, layout.reports, ctx, render_html)
    lap("rectification")

    changes = bulletin.changes_by_county(result, current, earlier[-1]) if earlier else None
    files.append(
        bulletin.write_bulletin(
            layout.bulletin,
            result,
            figures,
            ctx,
            render_html,
            changes=changes,
            changed_list=changed if earlier else None,
            previous_label=earlier[-1].label if earlier else None,
        )
    )
    lap("bulletin")

    visits = fieldwork.visit_list(result, reports.visit_statuses)
    fieldwork.write_visit_files(visits, layout.visits_kml, layout.visits_gpx)
    sample = fieldwork.draw_sample(result, reports.sample.size, reports.sample.seed)
    write_table(fieldwork.sample_table(sample), layout.field_sample)
    write_json(layout.field_estimate, fieldwork.estimate_rate(sample, reports.sample.confidence))
    files += [layout.visits_kml, layout.visits_gpx, layout.field_sample, layout.field_estimate]
    lap("fieldwork")

    skipped = []
    if run is None or results is None:
        skipped.append("html report and evidence packs: no run reader / charts given")
    else:
        files += write_run_report(layout, reports, run, results, figures, ctx, workers)
    lap("html_report_evidence")

    manifest = {
        "run_id": ctx["run_id"],
        "report_date": ctx["report_date"],
        "reports": reports.model_dump(mode="json"),
        "files": sorted(str(Path(f).relative_to(layout.root)) for f in files),
        "skipped": skipped,
        "timings_s": timings,
    }
    write_json(layout.reports_manifest, manifest)
    return manifest


def write_run_report(
    layout: RunLayout, reports: Reports, run, results, figures, ctx: dict, workers: int = 1
) -> list[Path]:
    """The evidence packs of the flagged plots (when ``reports.evidence_packs``; in ``workers``
    processes) and the HTML report linking them; returns the paths written."""
    from pipeline.reports.evidence_pack import flagged_rows, write_evidence_packs
    from pipeline.reports.html_report import write_html_report

    packs: dict[int, str] = {}
    files: list[Path] = []
    if reports.evidence_packs:
        rows = flagged_rows(run.plots)
        files += write_evidence_packs(run, rows, layout.evidence_pack, ctx, render_html, workers)
        packs = {r: str(layout.evidence_pack(r).relative_to(layout.reports)) for r in rows}
    files.append(
        write_html_report(run, results, layout.report_html, figures, ctx, packs, render_html)
    )
    return files

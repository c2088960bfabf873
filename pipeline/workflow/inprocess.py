"""The workflow's steps called in one Python process, with the same views, files and layout
as the Snakemake rules (for tests, notebooks and debugging; ``tushu run`` uses Snakemake)."""

from __future__ import annotations

import geopandas as gpd

from pipeline.config import Settings
from pipeline.layout import RunLayout
from pipeline.workflow import steps
from pipeline.workflow.contracts import Plan, TileMeta, read_plan
from pipeline.workflow.views import (
    desk_view,
    documents_view,
    plan_view,
    report_view,
    tile_view,
)


def plan_in_process(settings: Settings) -> Plan:
    """The plan step for ``settings``; writes the plan files under the run folder."""
    layout = RunLayout.of(settings.output_dir)
    files = steps.PlanFiles(layout.work_plots, layout.items, layout.plan, layout.ingest_report)
    return steps.plan_step(plan_view(settings), files, settings.run)


def desk_in_process(settings: Settings) -> None:
    layout = RunLayout.of(settings.output_dir)
    steps.desk_step(desk_view(settings), layout.work_plots, layout.desk_table, layout.desk_meta)


def tile_in_process(settings: Settings, tile_id: str) -> TileMeta:
    """One tile job of the plan (``tile_id``: a job id, one or more tiles)."""
    layout = RunLayout.of(settings.output_dir)
    inputs = steps.TileInputs(layout.work_plots, layout.items, layout.plan)
    t = layout.tile(tile_id)
    return steps.tile_step(
        tile_view(settings),
        tile_id,
        inputs,
        t.series,
        t.pixels,
        t.meta,
        settings.run,
        layout.root,
    )


def report_in_process(settings: Settings) -> gpd.GeoDataFrame:
    """The report and publish steps; returns the plot result table."""
    layout = RunLayout.of(settings.output_dir)
    tiles = tuple(layout.tile(t) for t in read_plan(layout.plan).job_ids)
    inputs = steps.ReportInputs(
        layout.work_plots, layout.items, layout.plan, layout.desk_table, layout.desk_meta, tiles
    )
    result = steps.report_step(report_view(settings), inputs, layout)
    steps.publish_step(layout)
    return result


def documents_in_process(settings: Settings, workers: int = 2) -> dict:
    """The documents step (after the report step); returns the manifest."""
    from pipeline.workflow.documents import documents_step

    return documents_step(documents_view(settings), RunLayout.of(settings.output_dir), workers)


def run_in_process(settings: Settings, documents: bool = False) -> gpd.GeoDataFrame:
    """Every step in order (no Snakemake, no re-run logic); returns the plot result table.
    ``documents``: also make the documents under ``reports/``."""
    plan = plan_in_process(settings)
    desk_in_process(settings)
    for job_id in plan.job_ids:
        tile_in_process(settings, job_id)
    result = report_in_process(settings)
    if documents:
        documents_in_process(settings)
    return result

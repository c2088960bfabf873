"""The workflow's steps: each reads the files its rule declares, calls the pure stages, and
writes the files its rule declares (paths come from the rule; see :mod:`pipeline.layout`).

Each step receives only its typed view of the settings (:mod:`pipeline.workflow.views`), and
run options where it needs them. Steps hand typed records to each other
(:mod:`pipeline.workflow.contracts`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pystac
from odc.geo.geobox import GeoBox

from pipeline.config import ImagerySearch, LayerSource, RunOptions
from pipeline.desk.checks import ReferenceLayers, check_desk
from pipeline.desk.layers import Layer
from pipeline.errors import TushuError
from pipeline.files import write_json, write_table
from pipeline.imagery.cache import FetchReport
from pipeline.imagery.compute import open_executor
from pipeline.imagery.cube import resolve_cache
from pipeline.imagery.extract import extract_tiles, read_groups
from pipeline.imagery.search import item_crs, search_items
from pipeline.imagery.sources import open_source
from pipeline.imagery.tiles import group_tiles, job_id_of, plan_tiles
from pipeline.judgement.judge import SERIES_COLUMNS, desk_table, judge_with_trace
from pipeline.layout import RunLayout, TilePaths
from pipeline.plots.read import read_plots
from pipeline.plots.vector import file_checksum, read_vector
from pipeline.reports.gpkg import write_gpkg
from pipeline.reports.parquet import write_plots_parquet, write_timeseries
from pipeline.reports.record import build_run_record
from pipeline.reports.summary import write_summary
from pipeline.workflow.contracts import (
    DeskMeta,
    JobSpec,
    Plan,
    TileMeta,
    TileSpec,
    write_record,
)
from pipeline.workflow.publish import publish_step  # noqa: F401 - the steps, in one place
from pipeline.workflow.views import DeskView, PlanView, ReportView, TileView


@dataclass(frozen=True)
class PlanFiles:
    plots: Path
    items: Path
    plan: Path
    ingest: Path


def plan_step(view: PlanView, out: PlanFiles, run: RunOptions | None = None) -> Plan:
    """Read and normalise the plots, find the imagery, plan tiles."""
    t0 = time.perf_counter()
    run = run or RunOptions()
    plot_input = read_plots(view.plots, view.region)
    plots = plot_input.plots
    has = ~(plots.geometry.isna() | plots.geometry.is_empty)
    if not has.any():
        names = ", ".join(str(f.path) for f in view.plots.plot_files())
        raise TushuError(f"{names}: no plot has a usable geometry")
    bbox = tuple(plots.geometry[has].to_crs(4326).total_bounds)
    items = search_items(view.imagery, bbox, run.retry)
    crs = view.imagery.crs or item_crs(items)
    geoms = plots.geometry.to_crs(crs)
    geoms[plots["oversize"].to_numpy(dtype=bool)] = None  # never loaded (INSUFFICIENT_DATA)
    tile_of, tiles = plan_tiles(geoms, view.imagery.tile_size_m, view.imagery.resolution)
    check_tile_sizes(tiles, tile_of, plots, view.imagery)
    groups = group_tiles(tiles, view.imagery.resolution, run.tile_job_pixels, run.min_tile_jobs)
    plots["tile"] = tile_of
    write_table(plots, out.plots)
    write_table(plot_input.log.table(), out.ingest)
    for it in items:
        for asset in it.assets.values():
            asset.href = asset.get_absolute_href()
    write_json(out.items, [it.to_dict(include_self_link=False) for it in items])
    record = plot_input.plan_record()
    plan = Plan(
        tiles=tuple(TileSpec(tile_id=t.tile_id, bbox=t.bbox, n_plots=t.n_plots) for t in tiles),
        jobs=tuple(
            JobSpec(job_id=job_id_of(g), tile_ids=tuple(t.tile_id for t in g)) for g in groups
        ),
        crs=str(crs),
        plots=record["plots"],
        column_mapping=record["column_mapping"],
        ingest=record.get("ingest", {}),
        seconds=time.perf_counter() - t0,
    )
    write_record(plan, out.plan)
    return plan


def check_tile_sizes(tiles, tile_of, plots, imagery: ImagerySearch) -> None:
    """Refuse a tile grid larger than ``imagery.max_tile_pixels`` (it would exhaust memory),
    naming the plots that stretch it."""
    for t in tiles:
        w, h = (
            (t.bbox[2] - t.bbox[0]) / imagery.resolution,
            (t.bbox[3] - t.bbox[1]) / imagery.resolution,
        )
        if w * h > imagery.max_tile_pixels:
            ids = plots.loc[tile_of == t.tile_id, "plot_id"].astype(str).head(5).tolist()
            raise TushuError(
                f"tile {t.tile_id} would be {w:,.0f} × {h:,.0f} pixels, more than "
                f"imagery.max_tile_pixels ({imagery.max_tile_pixels:,}): its plots "
                f"({', '.join(ids)} …) reach far beyond it; lower plots.max_area_km2 so "
                "such plots are skipped, or raise imagery.max_tile_pixels if the memory allows"
            )


def desk_step(view: DeskView, plots_path: Path, table_out: Path, meta_out: Path) -> DeskMeta:
    """Desk checks on the planned plot table."""
    from pipeline.workflow.contracts import read_table

    t0 = time.perf_counter()
    plots = read_table(plots_path, "plan")
    refs, inputs = read_references(view)
    desk = check_desk(plots, refs, view.desk)
    write_table(desk.table.reset_index(), table_out)
    meta = DeskMeta(
        skipped_checks=desk.skipped,
        inputs=inputs,
        thresholds=view.desk.model_dump(mode="json"),
        checks=desk.checks,
        seconds=time.perf_counter() - t0,
    )
    write_record(meta, meta_out)
    return meta


def read_references(view: DeskView) -> tuple[ReferenceLayers, dict]:
    """Read the configured reference layers, with a provenance record of each."""
    layers = view.layers
    inputs: dict[str, list | dict] = {}

    def read(name: str, src: LayerSource, k: int | None = None) -> Layer:
        key = f"layers.{name}." if k is None else f"layers.{name}[{k}]."
        frame, info = read_vector(src.path, src.layer, src.encoding, src.crs, key=key)
        record = {"path": str(src.path), "sha256": file_checksum(src.path),
                  "features": len(frame), "encoding": info.encoding, "crs": info.crs}  # fmt: skip
        if isinstance(inputs.get(name), list):
            inputs[name].append(record)
        else:
            inputs[name] = [record] if k is not None else record
        return Layer(frame, src)

    many = {}
    for name in ("prior", "restricted"):
        value = getattr(layers, name)
        srcs = layers.prior_sources() if name == "prior" else layers.restricted_sources()
        if isinstance(value, tuple):
            inputs[name] = []
            many[name] = tuple(read(name, s, k) for k, s in enumerate(srcs))
        else:
            many[name] = tuple(read(name, s) for s in srcs)
    region = read("region", layers.region) if layers.region else None
    towns = read("townships", layers.townships) if layers.townships else None
    refs = ReferenceLayers(
        region=region.frame if region else None,
        region_source=layers.region,
        townships=towns.frame if towns else None,
        township_source=layers.townships,
        priors=many["prior"],
        restricteds=many["restricted"],
    )
    return refs, inputs


@dataclass(frozen=True)
class TileInputs:
    plots: Path
    items: Path
    plan: Path


def tile_step(
    view: TileView,
    tile_id: str,
    inputs: TileInputs,
    series_out: Path,
    pixels_out: Path,
    meta_out: Path,
    run: RunOptions,
    output_dir: Path,
) -> TileMeta:
    """One tile job (``tile_id``: a job of the plan, one or more tiles): each tile's imagery
    read date chunk by date chunk; write its plots' series and planted shares."""
    from pipeline.workflow.contracts import read_plan, read_table

    t0 = time.perf_counter()
    plan = read_plan(inputs.plan)
    tiles = plan.job(tile_id)
    all_plots = read_table(inputs.plots, "plan")
    items = [pystac.Item.from_dict(d) for d in _read_items(inputs.items)]
    imagery = view.imagery
    source = open_source(imagery, run.retry)
    cache = resolve_cache(run, source, output_dir, items)
    report = FetchReport()
    series, pixels, shapes, n_dates = [], [], {}, 0
    grids = [GeoBox.from_bbox(t.bbox, crs=plan.crs, resolution=imagery.resolution) for t in tiles]
    with open_executor(run) as executor:
        # a shared window of at most half a job's pixels: one date chunk stays < 1 GB
        for group in read_groups(grids, max(run.tile_job_pixels // 2, 1)):
            parts = [(all_plots[all_plots["tile"] == tiles[k].tile_id], grids[k]) for k in group]
            outs = extract_tiles(source, parts, items, imagery, view.prep, cache, report,
                                 run.date_chunk, run.retry, executor)  # fmt: skip
            for k, out in zip(group, outs, strict=True):
                series.append(out.series)
                pixels.append(out.pixels)
                shapes[tiles[k].tile_id] = tuple(grids[k].shape)
                n_dates = max(n_dates, out.n_dates)
    write_table(_concat(series), series_out)
    write_table(_concat(pixels), pixels_out)
    meta = TileMeta(
        tile_id=tile_id,
        n_plots=int(all_plots["tile"].isin(list(shapes)).sum()),
        shape=next(iter(shapes.values())),
        tiles=shapes if len(shapes) > 1 else {},
        n_dates=n_dates,
        imagery={"source": imagery.source, **report.to_json()},
        seconds=time.perf_counter() - t0,
    )
    write_record(meta, meta_out)
    return meta


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The tiles' tables of a job, in plan order (the one table itself for a single tile)."""
    if len(frames) == 1:
        return frames[0]
    kept = [f for f in frames if len(f)]
    return pd.concat(kept, ignore_index=True) if kept else frames[0]


def _read_items(path: Path) -> list[dict]:
    import json

    from pipeline.workflow.contracts import StepFileError

    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as err:
        raise StepFileError(
            f"{path} is missing or damaged ({err}); re-run `tushu run` to re-make it", Path(path)
        ) from None


def concat_tables(paths: list[Path], step: str, columns: list[str]) -> pd.DataFrame:
    """Concatenate the tiles' tables (an empty frame with ``columns`` when none has rows)."""
    from pipeline.workflow.contracts import read_table

    frames = [read_table(p, step) for p in paths]
    frames = [f for f in frames if len(f)]
    if len(frames) == 1:  # one tile job (or one with rows): no copy
        return frames[0].reset_index(drop=True)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def read_plot_table(path: Path) -> gpd.GeoDataFrame:
    from pipeline.workflow.contracts import read_table

    return read_table(path, "plan")


@dataclass(frozen=True)
class ReportInputs:
    plots: Path
    items: Path
    plan: Path
    desk_table: Path
    desk_meta: Path
    tiles: tuple[TilePaths, ...]


def report_step(
    view: ReportView,
    inputs: ReportInputs,
    layout: RunLayout,
    run_id: str | None = None,
    started: str | None = None,
) -> gpd.GeoDataFrame:
    """Evidence, decisions and every deliverable of the run, written to ``layout.staging``
    (:func:`publish_step` moves them into place); returns the plot result table."""
    from pipeline.workflow.contracts import read_desk_meta, read_plan, read_tile_meta

    t0 = time.perf_counter()
    settings = view.settings
    plan = read_plan(inputs.plan)
    desk_meta = read_desk_meta(inputs.desk_meta)
    plots = read_plot_table(inputs.plots)
    desk = desk_table(read_table_checked(inputs.desk_table, "desk"))
    series = concat_tables([t.series for t in inputs.tiles], "tile", SERIES_COLUMNS)
    pixels = concat_tables([t.pixels for t in inputs.tiles], "tile", ["row"])
    tiles = [read_tile_meta(t.meta) for t in inputs.tiles]
    result, trace = judge_with_trace(plots, desk, series, pixels, settings.evidence)
    t_judge = time.perf_counter()

    write_plots_parquet(result, layout.staged(layout.plots_parquet))
    write_gpkg(result, layout.staged(layout.plots_gpkg))
    write_timeseries(series, plots, layout.staged(layout.timeseries))
    write_summary(result, layout.staged(layout.summary))
    write_table(trace, layout.staged(layout.trace))
    record = build_run_record(
        settings,
        result,
        plan,
        desk_meta,
        tiles,
        _read_items(inputs.items),
        {"judge": t_judge - t0, "write_outputs": time.perf_counter() - t_judge},
        run_id=run_id,
        started=started,
    )
    write_json(layout.staged(layout.run_json), record)
    return result


def read_table_checked(path: Path, step: str) -> pd.DataFrame:
    from pipeline.workflow.contracts import read_table

    return read_table(path, step)

"""The workflow's steps: each reads its inputs from disk, calls the pure stages, writes outputs.

This module and ``pipeline/io`` are the only places that touch disk or network. Layout under
``settings.output_dir``: deliverables at the top, ``work/`` for intermediate files,
``logs/`` and ``benchmarks/`` written by Snakemake.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pystac
from odc.geo.geobox import GeoBox

import pipeline
from pipeline.config import LayerSource, Settings
from pipeline.desk.checks import ReferenceLayers, check_desk
from pipeline.desk.layers import Layer
from pipeline.errors import TushuError
from pipeline.files import write_json, write_table
from pipeline.imagery.search import FetchReport, item_crs, load_cube, resolve_cache, search_items
from pipeline.imagery.series import extract_series
from pipeline.imagery.sources import open_source
from pipeline.imagery.tiles import plan_tiles
from pipeline.imagery.zonal import coverage_weights
from pipeline.judgement.decide import flag_plots
from pipeline.judgement.evidence import compute_evidence
from pipeline.plots.read import read_plots
from pipeline.plots.vector import file_checksum, read_vector
from pipeline.reports.outputs import summarize_counties, write_plots


def work_dir(settings: Settings) -> Path:
    return Path(settings.output_dir) / "work"


def plan_run(settings: Settings) -> list[str]:
    """Read and normalise the plots, find the imagery, plan tiles. Returns the tile ids."""
    t0 = time.perf_counter()
    work = work_dir(settings)
    plot_input = read_plots(settings.plots, settings.layers.region)
    plots = plot_input.plots
    has = ~(plots.geometry.isna() | plots.geometry.is_empty)
    if not has.any():
        names = ", ".join(str(f.path) for f in settings.plots.plot_files())
        raise TushuError(f"{names}: no plot has a usable geometry")
    bbox = tuple(plots.geometry[has].to_crs(4326).total_bounds)
    items = search_items(settings.imagery, bbox)
    crs = settings.imagery.crs or item_crs(items)
    tile_of, tiles = plan_tiles(
        plots.geometry.to_crs(crs), settings.imagery.tile_size_m, settings.imagery.resolution
    )
    plots["tile"] = tile_of
    work.mkdir(parents=True, exist_ok=True)
    plots.to_parquet(work / "plots.parquet", index=False)
    write_table(plot_input.log.table(), Path(settings.output_dir) / "ingest_report.csv")
    plot_record = plot_input.plan_record()
    for it in items:
        for asset in it.assets.values():
            asset.href = asset.get_absolute_href()
    write_json(work / "items.json", [it.to_dict(include_self_link=False) for it in items])
    write_json(
        work / "plan.json",
        {
            "tiles": [{"tile_id": t.tile_id, "bbox": t.bbox, "n_plots": t.n_plots} for t in tiles],
            "crs": str(crs),
            **plot_record,
            "seconds": time.perf_counter() - t0,
        },
    )
    return [t.tile_id for t in tiles]


def desk_run(settings: Settings) -> None:
    """Desk checks on the planned plot table; writes ``work/desk.parquet`` and ``desk.json``."""
    t0 = time.perf_counter()
    work = work_dir(settings)
    plots = gpd.read_parquet(work / "plots.parquet")
    refs, inputs = _read_references(settings)
    desk = check_desk(plots, refs, settings.desk)
    write_table(desk.table.reset_index(), work / "desk.parquet")
    write_json(
        work / "desk.json",
        {
            "skipped_checks": desk.skipped,
            "inputs": inputs,
            "thresholds": settings.desk.model_dump(),
            "checks": desk.checks,
            "seconds": time.perf_counter() - t0,
        },
    )


def _read_references(settings: Settings) -> tuple[ReferenceLayers, dict]:
    layers = settings.layers
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


def extract_tile(settings: Settings, tile_id: str) -> None:
    """Load one tile's imagery lazily and write its plots' series and planted shares."""
    t0 = time.perf_counter()
    work = work_dir(settings)
    plan = json.loads((work / "plan.json").read_text(encoding="utf-8"))
    tile = next((t for t in plan["tiles"] if t["tile_id"] == tile_id), None)
    if tile is None:
        raise TushuError(f"tile {tile_id!r} is not in {work / 'plan.json'}; re-run the plan step")
    plots = gpd.read_parquet(work / "plots.parquet")
    plots = plots[plots["tile"] == tile_id]
    items = [
        pystac.Item.from_dict(d)
        for d in json.loads((work / "items.json").read_text(encoding="utf-8"))
    ]
    geobox = GeoBox.from_bbox(tile["bbox"], crs=plan["crs"], resolution=settings.imagery.resolution)
    source = open_source(settings.imagery)
    cache = resolve_cache(settings.imagery, source, settings.output_dir, items)
    report = FetchReport()
    years = plots["planting_year"].fillna(0).to_numpy(dtype=int)
    if settings.imagery.source == "sentinelhub-statistical":
        from pipeline.imagery.sources.statistical import plot_statistics

        series, pixels = plot_statistics(
            plots, items, settings.imagery, cache, report, settings.evidence
        )
        n_dates = int(series["date"].nunique()) if len(series) else 0
    else:
        cube = load_cube(items, settings.imagery, geobox, cache=cache, report=report, source=source)
        geoms = plots.geometry.to_crs(plan["crs"]).reset_index(drop=True)
        weights = coverage_weights(geoms, geobox)
        series, pixels = extract_series(
            cube, weights, plots["row"].to_numpy(), years, settings.imagery, settings.evidence
        )
        n_dates = int(cube.sizes["time"])
    out = work / "tiles" / tile_id
    write_table(series, out / "series.parquet")
    write_table(pixels, out / "pixels.parquet")
    write_json(
        out / "tile.json",
        {
            "tile_id": tile_id,
            "n_plots": len(plots),
            "shape": list(geobox.shape),
            "n_dates": n_dates,
            "imagery": {"source": settings.imagery.source, **report.to_json()},
            "seconds": time.perf_counter() - t0,
        },
    )


def report_run(settings: Settings) -> gpd.GeoDataFrame:
    """Evidence, decisions and every deliverable of the run; returns the plot result table."""
    t0 = time.perf_counter()
    work = work_dir(settings)
    out_dir = Path(settings.output_dir)
    plan = json.loads((work / "plan.json").read_text(encoding="utf-8"))
    desk_meta = json.loads((work / "desk.json").read_text(encoding="utf-8"))
    plots = gpd.read_parquet(work / "plots.parquet")
    desk = pd.read_parquet(work / "desk.parquet").set_index("row")
    desk["desk_reasons"] = desk["desk_reasons"].map(list)
    ids = [t["tile_id"] for t in plan["tiles"]]
    series = _concat([work / "tiles" / t / "series.parquet" for t in ids])
    pixels = _concat([work / "tiles" / t / "pixels.parquet" for t in ids])
    evidence = compute_evidence(plots, series, pixels, settings.evidence)
    decisions = flag_plots(plots, desk, evidence, settings.evidence)
    result = (
        plots.join(decisions, on="row")
        .join(desk.drop(columns=["desk_reasons"]), on="row")
        .join(evidence, on="row")
    )
    front = [
        "row",
        "plot_id",
        "status",
        "reasons",
        "geom_area_mu",
        "claimed_area_mu",
        "verified_area_mu",
        "planted_area_mu",
        "n_clear_obs",
    ]
    result = result[front + [c for c in result.columns if c not in front]]
    t_decide = time.perf_counter()

    write_plots(result, out_dir)
    ts = series.merge(plots[["row", "plot_id"]], on="row", how="left")
    cols = ["row", "plot_id", "date", "ndvi", "ndmi", "bsi", "clear_share"]
    write_table(ts[cols].sort_values(["row", "date"]), out_dir / "timeseries.parquet")
    write_table(summarize_counties(result), out_dir / "summary.csv")
    tiles_meta = [json.loads((work / "tiles" / t / "tile.json").read_text()) for t in ids]
    items = json.loads((work / "items.json").read_text(encoding="utf-8"))
    write_json(
        out_dir / "run.json",
        {
            "tushu_version": pipeline.__version__,
            "code_version": _git_version(),
            "settings": settings.model_dump(mode="json"),
            "inputs": {"plots": plan["plots"], **desk_meta["inputs"]},
            "column_mapping": plan["column_mapping"],
            "ingest": plan.get("ingest", {}),
            "desk_thresholds": desk_meta["thresholds"],
            "skipped_checks": desk_meta["skipped_checks"],
            "imagery": {
                "catalog": settings.imagery.catalog,
                "crs": plan["crs"],
                "n_items": len(items),
                "item_ids": [it["id"] for it in items],
            },
            "counts": {
                "plots": len(result),
                "by_status": result["status"].value_counts().to_dict(),
            },
            "timings_s": {
                "plan": plan["seconds"],
                "desk": desk_meta["seconds"],
                "tiles": {m["tile_id"]: m["seconds"] for m in tiles_meta},
                "evidence_and_decisions": t_decide - t0,
                "write_outputs": time.perf_counter() - t_decide,
            },
        },
    )
    return result


def _concat(paths: list[Path]) -> pd.DataFrame:
    frames = [pd.read_parquet(p) for p in paths]
    frames = [f for f in frames if len(f)]
    return (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["row", "date", "ndvi", "ndmi", "bsi", "clear_share"])
    )


def _git_version() -> str:
    here = Path(pipeline.__file__).resolve().parent.parent
    try:
        rev = subprocess.run(
            ["git", "-C", str(here), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        return rev.stdout.strip() or pipeline.__version__
    except (OSError, subprocess.SubprocessError):
        return pipeline.__version__

"""`make_world`: generate a seeded synthetic demo world (imagery, plots, layers, truth)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import ndimage

from pipeline.demo.catalog import make_item, write_catalog, write_scene
from pipeline.demo.grid import Grid, standardize
from pipeline.demo.landscape import Background, build_background
from pipeline.demo.placement import PlacementError, Placer
from pipeline.demo.plots import Plot, Prior, check_truth, place_plots, plan_plots
from pipeline.demo.presets import SCENARIOS, WorldSpec, get_spec
from pipeline.demo.records import (
    build_plot_tables,
    build_prior_table,
    build_reference_tables,
    write_gpkg,
)
from pipeline.demo.scenes import (
    DateParams,
    SceneContext,
    draw_date_params,
    make_trap_alpha,
    make_trap_zone,
    render_scene,
)
from pipeline.demo.sensors import write_wfv_description, write_wfv_scene
from pipeline.demo.terrain import compute_sun_angles
from pipeline.demo.units import build_mixing, build_units, shape_land, to_day
from pipeline.errors import TushuError

PLACEMENT_ATTEMPTS = 8
MAX_CLOUD_COVER = 95.0  # scenes above this eo:cloud_cover are not written
TEXTURE_SD = 0.03


@dataclass(frozen=True)
class WorldPaths:
    """Where make_world wrote each output."""

    root: Path
    catalog: Path  # stac/catalog.json; sensor wfv: scenes/scenes.yaml (a local-files folder)
    plots: Path  # plots.gpkg
    prior: Path  # prior_plots.gpkg
    counties: Path  # counties.gpkg
    farmland: Path  # farmland.gpkg
    truth: Path  # truth.csv


def make_texture(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Time-stable multiplicative pixel texture 1 ± ~3 %, dims (6, rows, cols)."""
    common = standardize(ndimage.gaussian_filter(rng.standard_normal(shape), 0.7))
    own = rng.standard_normal((6, *shape)).astype(np.float32)
    tex = 1.0 + TEXTURE_SD * (0.8 * common[None] + 0.6 * own)
    return np.clip(tex, 0.9, 1.1).astype(np.float32)


def _place_all(
    spec: WorldSpec, grid: Grid, bg: Background, trap_zone, stream: np.random.SeedSequence
) -> tuple[list[Plot], list[Prior]]:
    """Plan and place every plot, retrying with fresh draws when the land is too crowded."""
    for attempt in range(PLACEMENT_ATTEMPTS):
        rng = np.random.default_rng(stream.spawn(1)[0])
        try:
            plots = plan_plots(spec, rng)
            priors = place_plots(spec, bg, Placer(grid, bg, trap_zone), plots, rng)
            check_truth(plots, priors, bg)
            return plots, priors
        except PlacementError as err:
            if attempt == PLACEMENT_ATTEMPTS - 1:
                raise TushuError(f"demo world {spec.name!r}: {err}; try another seed") from err
    raise AssertionError("unreachable")


def _write_layers(
    paths: WorldPaths,
    plots: list[Plot],
    priors: list[Prior],
    bg: Background,
    grid: Grid,
    rng: np.random.Generator,
    end: dt.date | None = None,
) -> pd.DataFrame:
    """Write the four GeoPackages and truth.csv; returns the truth table (``end``: the last
    imagery date, for the plantings not yet visible by then)."""
    plot_layer, truth = build_plot_tables(plots, bg, grid, rng, end)
    write_gpkg(plot_layer, paths.plots, "plots")
    write_gpkg(build_prior_table(priors, bg), paths.prior, "prior_plots")
    counties, farmland = build_reference_tables(bg)
    write_gpkg(counties, paths.counties, "counties")
    write_gpkg(farmland, paths.farmland, "farmland")
    truth.to_csv(paths.truth, index=False, encoding="utf-8", lineterminator="\n")
    return truth


def _write_imagery(
    out_dir: Path, ctx: SceneContext, params: list[DateParams], seed: int, sensor: str = "s2"
) -> tuple[list, list[str]]:
    """Render every date, write the COGs of scenes up to 95 % cloud (two writer threads): a
    STAC item per scene (``s2``) or 4-band files and cloud masks in a local folder (``wfv``)."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir()
    write = write_wfv_scene if sensor == "wfv" else write_scene
    items, skipped = [], []
    with ThreadPoolExecutor(max_workers=2) as pool:
        pending: list[tuple[dt.date, float, tuple | None, Future]] = []
        for p in params:
            scene = render_scene(ctx, p, np.random.default_rng([int(seed), 7, p.index]))
            if scene.cloud_cover > MAX_CLOUD_COVER:
                skipped.append(p.date.isoformat())
                continue
            fut = pool.submit(write, out_dir, p.date, scene, ctx.grid)
            pending.append((p.date, scene.cloud_cover, scene.swath_edge, fut))
            if len(pending) > 4:
                pending[-5][3].result()  # keep at most a few scenes in memory
        for date, cover, edge, fut in pending:
            written = fut.result()
            if sensor != "wfv":
                items.append(make_item(date, cover, edge, written, ctx.grid))
            else:
                items.append(date)
    return items, skipped


def _remove_other_imagery(root: Path, sensor: str) -> None:
    """Delete the imagery folder a world of the other sensor left in root (only one this
    generator wrote: the demo catalog, or a scenes.yaml naming the demo sensor)."""
    stac, scenes = root / "stac" / "catalog.json", root / "scenes" / "scenes.yaml"
    if sensor == "wfv" and stac.is_file() and '"id": "tushu-demo"' in stac.read_text("utf-8"):
        shutil.rmtree(stac.parent)
    if sensor == "s2" and scenes.is_file() and "sensor: GFW-demo" in scenes.read_text("utf-8"):
        shutil.rmtree(scenes.parent)


def make_world(out_dir: Path, preset: str = "default", seed: int = 0) -> WorldPaths:
    """Generate the demo world `preset` into out_dir (its outputs are overwritten).

    The same seed and preset give byte-identical layers and truth and identical pixels."""
    spec = get_spec(preset)
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    streams = np.random.SeedSequence([int(seed), 20250101]).spawn(6)
    rng_land, rng_dates, _, rng_units, rng_tables, rng_tex = (
        np.random.default_rng(s) for s in streams
    )
    grid = Grid.from_spec(spec)
    dates = spec.list_dates()
    zenith, azimuth = compute_sun_angles(dates)
    first = spec.planting_years[0]
    trap_window = (dt.date(first - 1, 10, 1), dt.date(first, 12, 31))
    params = draw_date_params(
        dates,
        zenith,
        azimuth,
        trap_window,
        spec.shadow_offset_m,
        grid.pixel,
        rng_dates,
        spec.climate,
        spec.cloud_scale,
    )
    bg = build_background(spec, grid, rng_land)
    plots, priors = _place_all(
        spec, grid, bg, make_trap_zone(bg.trap, params, grid.pixel), streams[2]
    )
    units, label = build_units(grid, bg, plots, priors, rng_units)
    shape_land(spec, bg, units, seed)
    ctx = SceneContext(
        grid=grid,
        mixing=build_mixing(grid, label, len(units)),
        units=units,
        texture=make_texture(rng_tex, grid.shape),
        terrain=bg.terrain,
        trap_alpha=make_trap_alpha(grid, bg.trap),
        t_ref=to_day(dates[0]),
        north=spec.climate == "north",
    )
    del label
    paths = WorldPaths(
        root=root,
        catalog=root / "stac" / "catalog.json"
        if spec.sensor == "s2"
        else root / "scenes" / "scenes.yaml",
        plots=root / "plots.gpkg",
        prior=root / "prior_plots.gpkg",
        counties=root / "counties.gpkg",
        farmland=root / "farmland.gpkg",
        truth=root / "truth.csv",
    )
    end = dt.date.fromisoformat(spec.end)
    truth = _write_layers(paths, plots, priors, bg, grid, rng_tables, end)
    _remove_other_imagery(root, spec.sensor)
    if spec.sensor == "wfv":
        items, skipped = _write_imagery(root / "scenes", ctx, params, seed, "wfv")
        write_wfv_description(root / "scenes")
    else:
        items, skipped = _write_imagery(root / "stac", ctx, params, seed)
        write_catalog(root / "stac", items, grid)
    counts = truth["scenario"].value_counts()
    info = {
        "seed": int(seed),
        "preset": preset,
        "spec": spec.to_dict(),
        "counts": {s: int(counts.get(s, 0)) for s in SCENARIOS},
        "n_rows": len(truth),
        "n_priors": len(priors),
        "n_dates": len(dates),
        "n_items": len(items),
        "skipped_dates": skipped,
        "cloud_trap_utm_wkt": bg.trap.wkt,
        "cloud_trap_window": [d.isoformat() for d in trap_window],
        "climate": spec.climate,
        "land_mix": dict(spec.land_mix),
        "planting_season": spec.planting_season,
        "sensor": spec.sensor,
        "species_mix": dict(spec.species_mix),
        "crs_imagery": "EPSG:32650",
        "crs_vectors": "EPSG:4490",
    }
    text = json.dumps(info, ensure_ascii=False, indent=2)
    (root / "world.json").write_text(text, encoding="utf-8")
    return paths

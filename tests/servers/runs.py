"""Run the pipeline's steps on a demo world with a chosen imagery source (no Snakemake)."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd

from pipeline.config import Imagery, RunOptions, Settings
from pipeline.demo.settings import demo_settings
from pipeline.imagery.bands import S2_CODES
from pipeline.layout import RunLayout
from pipeline.workflow import inprocess


def settings_for(world: Path, out: Path, **imagery: object) -> Settings:
    """Demo settings of the tiny world with ``imagery`` keys replaced."""
    base = demo_settings(world, out, preset="tiny")
    run_keys = {k: imagery.pop(k) for k in ("retry", "cache", "cache_dir", "date_chunk")
                if k in imagery}  # fmt: skip
    raw = base.imagery.model_dump()
    raw.update(imagery)
    run = RunOptions.model_validate({**base.run.model_dump(), **run_keys})
    return base.model_copy(update={"imagery": Imagery.model_validate(raw), "run": run})


def run_steps(settings: Settings, desk_from: Path | None = None) -> gpd.GeoDataFrame:
    """plan, desk, every tile, report; returns the plot result table."""
    ids = inprocess.plan_in_process(settings).tile_ids
    if desk_from is not None:
        work = RunLayout.of(settings.output_dir).work
        for name in ("desk.parquet", "desk.json"):
            shutil.copy(Path(desk_from) / "work" / name, work / name)
    else:
        inprocess.desk_in_process(settings)
    for tile in ids:
        inprocess.tile_in_process(settings, tile)
    return inprocess.report_in_process(settings)


def write_local_folder(world: Path, folder: Path) -> Path:
    """Copy the world's scenes into a local-files folder (one file per band) + scenes.yaml."""
    folder.mkdir(parents=True, exist_ok=True)
    for item_dir in sorted((world / "stac").glob("S2_DEMO_*")):
        day = item_dir.name.removeprefix("S2_DEMO_")
        for band, code in S2_CODES.items():
            shutil.copy(item_dir / f"{band}.tif", folder / f"S2_{day}_{code}.tif")
    (folder / "scenes.yaml").write_text(
        "sensor: S2L2A\n"
        'pattern: "S2_{date:%Y%m%d}_{band}.tif"\n'
        "bands: {blue: B02, green: B03, red: B04, nir: B08, swir16: B11, swir22: B12, scl: SCL}\n"
        "scale: 0.0001\n"
        "nodata: 0\n"
        "mask: {band: scl}\n",
        encoding="utf-8",
    )
    return folder

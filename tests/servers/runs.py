"""Run the pipeline's steps on a demo world with a chosen imagery source (no Snakemake)."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd

from pipeline.config import Imagery, Settings
from pipeline.demo.settings import demo_settings
from pipeline.imagery.sources.stac import S2_BAND_CODES
from pipeline.workflow import steps

S2_BANDS = S2_BAND_CODES


def settings_for(world: Path, out: Path, **imagery: object) -> Settings:
    """Demo settings of the tiny world with ``imagery`` keys replaced."""
    base = demo_settings(world, out, preset="tiny")
    raw = base.imagery.model_dump()
    raw.update(imagery)
    return base.model_copy(update={"imagery": Imagery.model_validate(raw)})


def run_steps(settings: Settings, desk_from: Path | None = None) -> gpd.GeoDataFrame:
    """plan, desk, every tile, report; returns the plot result table."""
    ids = steps.plan_run(settings)
    if desk_from is not None:
        work = steps.work_dir(settings)
        for name in ("desk.parquet", "desk.json"):
            shutil.copy(Path(desk_from) / "work" / name, work / name)
    else:
        steps.desk_run(settings)
    for tile in ids:
        steps.extract_tile(settings, tile)
    return steps.report_run(settings)


def write_local_folder(world: Path, folder: Path) -> Path:
    """Copy the world's scenes into a local-files folder (one file per band) + scenes.yaml."""
    folder.mkdir(parents=True, exist_ok=True)
    for item_dir in sorted((world / "stac").glob("S2_DEMO_*")):
        day = item_dir.name.removeprefix("S2_DEMO_")
        for band, code in S2_BANDS.items():
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

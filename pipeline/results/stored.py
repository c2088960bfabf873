"""What a run keeps in ``work/`` for later use: the tile grid and the judgement's inputs.

Read with plain pandas / JSON (paths from :class:`pipeline.layout.RunLayout`), so that the
results package sits below the reports and the workflow in the package's layers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from pipeline.errors import TushuError
from pipeline.judgement.judge import SERIES_COLUMNS, desk_table
from pipeline.layout import RunLayout

HINT = "run `tushu run` on the run's config again to re-make it"


@dataclass(frozen=True)
class Grid:
    """The tile grid the run read imagery on: CRS and tile id -> (minx, miny, maxx, maxy)."""

    crs: str
    tiles: dict[str, tuple[float, float, float, float]]
    #: the tile jobs, whose step files hold the tiles' series (one job may read several tiles)
    jobs: tuple[str, ...] = ()


def read_grid(path: Path) -> Grid:
    """The grid of a plan record (``work/plan.json``: ``crs``, ``tiles[].tile_id / bbox``)."""
    try:
        plan = json.loads(Path(path).read_text(encoding="utf-8"))
        tiles = {t["tile_id"]: tuple(t["bbox"]) for t in plan["tiles"]}
        jobs = tuple(j["job_id"] for j in plan.get("jobs") or ()) or tuple(tiles)
        return Grid(plan["crs"], tiles, jobs)
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise TushuError(f"{path} is missing or damaged ({err}); {HINT}") from None


@dataclass(frozen=True)
class JudgementInputs:
    """What the report step judged: plot table, desk table, series, per-pixel shares."""

    plots: gpd.GeoDataFrame
    desk: pd.DataFrame
    series: pd.DataFrame
    pixels: pd.DataFrame


def read_judgement_inputs(layout: RunLayout, grid: Grid) -> JudgementInputs:
    """The stored inputs of the run's judgement: ``work/plots.parquet``, ``work/desk.parquet``
    and every planned tile's ``series.parquet`` and ``pixels.parquet``."""
    tiles = [layout.tile(j) for j in grid.jobs]
    return JudgementInputs(
        plots=_read(layout.work_plots, geo=True),
        desk=desk_table(_read(layout.desk_table)),
        series=_concat([t.series for t in tiles], SERIES_COLUMNS),
        pixels=_concat([t.pixels for t in tiles], ["row"]),
    )


def _read(path: Path, geo: bool = False) -> pd.DataFrame:
    if not path.is_file():
        raise TushuError(f"{path} is missing (the run's work/ folder is incomplete); {HINT}")
    return gpd.read_parquet(path) if geo else pd.read_parquet(path)


def _concat(paths: list[Path], columns: list[str]) -> pd.DataFrame:
    frames = [f for f in (_read(p) for p in paths) if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)

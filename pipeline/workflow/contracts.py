"""Typed records that steps hand to each other: the plan, the desk result, a tile result.

Each record is written by one function and read by one function; a missing, truncated or
foreign file is a :class:`StepFileError` that names the file and how to recover (a re-run
re-makes it). Tables travel as Parquet beside these records (paths in :mod:`pipeline.layout`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from pipeline.errors import TushuError
from pipeline.files import write_json
from pipeline.layout import RunLayout


class StepFileError(TushuError):
    """A step's input file is missing, truncated or not what the step expects (``path``)."""

    def __init__(self, message: str, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TileSpec(_Record):
    """One tile of the processing grid: its id, box (grid CRS, metres) and plot count."""

    tile_id: str
    bbox: tuple[float, float, float, float]
    n_plots: int


class JobSpec(_Record):
    """One tile job: the tiles (ids, in plan order) one process extracts one after another."""

    job_id: str
    tile_ids: tuple[str, ...]


class Plan(_Record):
    """What the plan step decided: the tiles, the jobs that extract them, the grid CRS, and
    the plot input's provenance. A plan without ``jobs`` has one job per tile."""

    tiles: tuple[TileSpec, ...]
    jobs: tuple[JobSpec, ...] = ()
    crs: str
    plots: dict[str, Any]
    column_mapping: list[dict[str, Any]] | dict[str, Any]
    ingest: dict[str, Any] = {}
    seconds: float

    def tile(self, tile_id: str) -> TileSpec:
        for t in self.tiles:
            if t.tile_id == tile_id:
                return t
        raise StepFileError(f"tile {tile_id!r} is not in the plan; re-run `tushu run` (re-plans)")

    @property
    def tile_ids(self) -> list[str]:
        return [t.tile_id for t in self.tiles]

    @property
    def job_ids(self) -> list[str]:
        """The tile jobs (the tile rule's wildcard values), in plan order."""
        return [j.job_id for j in self.jobs] if self.jobs else self.tile_ids

    def job(self, job_id: str) -> list[TileSpec]:
        """The tiles of one job."""
        for j in self.jobs:
            if j.job_id == job_id:
                return [self.tile(t) for t in j.tile_ids]
        if not self.jobs:
            return [self.tile(job_id)]
        raise StepFileError(f"tile job {job_id!r} is not in the plan; re-run `tushu run`")


class DeskMeta(_Record):
    """The desk step's record: which checks ran, on which inputs, with which thresholds."""

    skipped_checks: list[str]
    inputs: dict[str, Any]
    thresholds: dict[str, Any]
    checks: dict[str, Any]
    seconds: float


class TileMeta(_Record):
    """One tile job's record: size, dates read, what the imagery source fetched or skipped.
    ``tile_id`` is the job's id; ``shape`` its first tile's grid, ``tiles`` every tile's."""

    tile_id: str
    n_plots: int
    shape: tuple[int, int]
    tiles: dict[str, tuple[int, int]] = {}
    n_dates: int
    imagery: dict[str, Any]
    seconds: float


def write_record(record: _Record, path: Path) -> None:
    """Write a step record as JSON (atomically)."""
    write_json(Path(path), record.model_dump(mode="json"))


def _read(path: Path, kind: type[_Record], step: str) -> Any:
    path = Path(path)
    hint = f"re-run `tushu run` to re-make it (the {step} step runs again)"
    if not path.is_file():
        raise StepFileError(f"{path} is missing; {hint}")
    try:
        return kind.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, UnicodeDecodeError, ValidationError) as err:
        first = str(err).splitlines()[0]
        raise StepFileError(
            f"{path} is damaged or from another version ({first}); {hint}"
        ) from None


def read_plan(path: Path) -> Plan:
    return _read(path, Plan, "plan")


def read_desk_meta(path: Path) -> DeskMeta:
    return _read(path, DeskMeta, "desk")


def read_tile_meta(path: Path) -> TileMeta:
    return _read(path, TileMeta, "tile")


def read_table(path: Path, step: str):
    """A step's Parquet table (pandas or GeoPandas by content); damaged → :class:`StepFileError`."""
    import geopandas as gpd
    import pandas as pd
    import pyarrow
    import pyarrow.parquet

    path = Path(path)
    hint = f"re-run `tushu run` to re-make it (the {step} step runs again)"
    if not path.is_file():
        raise StepFileError(f"{path} is missing; {hint}")
    try:
        meta = pyarrow.parquet.read_schema(path).metadata or {}
        table = gpd.read_parquet(path) if b"geo" in meta else pd.read_parquet(path)
        pyarrow.default_memory_pool().release_unused()  # Arrow's read buffers, not kept
        return table
    except (OSError, pyarrow.ArrowException, ValueError) as err:
        raise StepFileError(f"{path} is damaged ({err}); {hint}", path) from None


def tile_files(plan_checkpoint, layout: RunLayout, kind: str):
    """A Snakemake input function: the ``kind`` file (series, pixels, meta) of every tile job
    the plan checkpoint planned."""

    def inner(wildcards) -> list[str]:
        plan = read_plan(plan_checkpoint.get().output.plan)
        return [str(getattr(layout.tile(t), kind)) for t in plan.job_ids]

    return inner

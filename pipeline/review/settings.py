"""Settings of the review app (validated once, frozen): samples, basemap, server."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipeline.errors import ConfigError


class ReviewSettings(BaseModel):
    """How the review app samples plots and draws its map.

    ``basemap_url`` is an XYZ tile URL template (``{z}/{x}/{y}``; a WMTS REST endpoint in the
    same form) on an intranet server; empty means the offline default, a true-colour image
    made from the run's own imagery. Never use shifted GCJ-02 consumer tiles.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    double_review_share: float = Field(0.1, ge=0, le=1)
    """Share of the flagged plots that two verifiers review independently."""
    blind_sample_size: int = Field(20, ge=0)
    """Number of unflagged plots put in the blind review (to estimate what the checks miss)."""
    seed: int = 0
    """Seed of both samples (drawn once, when the review database is first opened)."""
    basemap_url: str = ""
    basemap_attribution: str = ""
    basemap_max_zoom: int = Field(19, ge=1, le=24)
    worklist_limit: int = Field(500, ge=10)
    """Rows shown at once in the worklist (filter to see others)."""


def load_review_settings(path: Path | None) -> ReviewSettings:
    """Settings from a YAML file (keys as in :class:`ReviewSettings`), defaults when ``None``."""
    if path is None:
        return ReviewSettings()
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"review settings {path} do not exist; pass an existing YAML file")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8-sig")) or {}
        return ReviewSettings.model_validate(raw)
    except (yaml.YAMLError, ValidationError) as err:
        raise ConfigError(f"{path}: invalid review settings: {err}") from None

"""The run configuration: one schema, validated once at the edge into frozen settings.

Both the Snakefile and the CLI call :func:`load_settings` (or :func:`settings_from_mapping`);
no other function takes a raw config dict. Relative paths are taken from the working directory.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any, ClassVar, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipeline.errors import ConfigError


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ColumnMap(_Frozen):
    """Which source column holds each claim; ``None`` means the layer has no such field."""

    plot_id: str | None = "图斑编号"
    county: str | None = "县"
    township: str | None = "乡镇"
    stage: str | None = "阶段"
    planting_year: str | None = "造林年度"
    claimed_area: str | None = "上报面积"
    planting_type: str | None = "造林类型"
    species: str | None = "树种"


class PlotSource(_Frozen):
    """The submitted plot layer."""

    path: Path
    layer: str | None = None
    encoding: str | None = Field(None, description="override the detected attribute encoding")
    columns: ColumnMap = ColumnMap()
    area_unit: Literal["mu", "ha"] = "mu"
    design_stages: tuple[str, ...] = ("设计施工", "design")


class LayerSource(_Frozen):
    """An optional reference layer (earlier plots, county boundaries, farmland)."""

    path: Path
    layer: str | None = None
    name_column: str | None = None
    code_column: str | None = None
    id_column: str | None = None
    year_column: str | None = None


class Layers(_Frozen):
    prior: LayerSource | None = None
    region: LayerSource | None = None
    restricted: LayerSource | None = None


class BandMap(_Frozen):
    """Common band names → asset keys in the catalog."""

    blue: str = "blue"
    green: str = "green"
    red: str = "red"
    nir: str = "nir"
    swir16: str = "swir16"
    swir22: str = "swir22"
    scl: str = "scl"


class Imagery(_Frozen):
    """Where imagery comes from and how it is gridded, masked and chunked."""

    catalog: str = Field(description="path to a static catalog.json or a STAC API URL")
    collection: str | None = None
    start: date
    end: date
    bands: BandMap = BandMap()
    crs: str | None = Field(None, description="output grid CRS; default: the items' CRS")
    resolution: float = Field(10.0, gt=0)
    scale: float = Field(0.0001, gt=0, description="reflectance = DN * scale + offset")
    offset: float = 0.0
    nodata: int = 0
    max_cloud_cover: float = Field(95.0, ge=0, le=100)
    scl_mask_classes: tuple[int, ...] = (0, 1, 3, 8, 9, 10, 11)
    haze_max: float | None = Field(
        0.03, description="mask pixels whose blue - 0.5 * red exceeds this (thin cloud edges)"
    )
    tile_size_m: float = Field(2560.0, gt=0)
    date_chunk: int = Field(12, ge=1, description="dates loaded at once per tile")

    @field_validator("end")
    @classmethod
    def _end_after_start(cls, end: date, info: Any) -> date:
        start = info.data.get("start")
        if start is not None and end <= start:
            raise ValueError(f"end ({end}) must be after start ({start})")
        return end


class DeskChecks(_Frozen):
    """Thresholds of the checks that need no imagery (areas in 亩)."""

    min_area_mu: float = Field(1.0, ge=0)
    area_rel_tol: float = Field(0.05, ge=0)
    area_buffer_m: float = Field(3.0, ge=0)
    overlap_min_mu: float = Field(0.1, ge=0)
    prior_min_share: float = Field(0.5, gt=0, le=1)
    region_min_share: float = Field(0.95, gt=0, le=1)
    restricted_min_mu: float = Field(0.1, ge=0)


class Evidence(_Frozen):
    """Thresholds of the imagery evidence (NDVI / BSI units; months are 1–12)."""

    min_clear_share: float = Field(0.6, gt=0, le=1)
    spike_ndvi: float = Field(0.2, gt=0)
    spike_max_gap_days: int = Field(25, gt=0)
    prep_start_month: int = Field(10, ge=1, le=12, description="month of year Y-1 prep begins")
    prep_end_month: int = Field(
        9, ge=1, le=12, description="month of year Y the prep window (incl. first summer) ends"
    )
    winter_months: tuple[int, ...] = (11, 12, 1, 2, 3)
    min_baseline_obs: int = Field(3, ge=1)
    min_prep_obs: int = Field(2, ge=1)
    prep_ndvi_drop: float = Field(0.15, gt=0)
    prep_bsi_rise: float = Field(0.12, gt=0)
    min_data_share: float = Field(0.5, gt=0, le=1)
    planted_share_none: float = Field(0.15, ge=0, le=1)
    planted_share_full: float = Field(0.7, ge=0, le=1)
    forest_winter_ndvi: float = Field(0.68, gt=0, le=1)
    min_judge_area_mu: float = Field(1.0, ge=0)
    survival_min_years: int = Field(2, ge=1)
    survival_gap: float = Field(0.07, gt=0)
    min_peers: int = Field(3, ge=1)
    loss_drop: float = Field(0.15, gt=0)
    loss_min_obs: int = Field(2, ge=1)
    loss_before_days: int = Field(240, gt=0)
    loss_after_days: int = Field(120, gt=0)


class Settings(_Frozen):
    """Everything one run needs, validated."""

    run_name: str = "run"
    output_dir: Path
    plots: PlotSource
    layers: Layers = Layers()
    imagery: Imagery
    desk: DeskChecks = DeskChecks()
    evidence: Evidence = Evidence()
    threads: int = Field(2, ge=1)

    def section_json(self, *keys: str) -> str:
        """Canonical JSON of some sections or ``section.key`` values, for Snakemake's
        re-run-when-params-change: a step re-runs only when the settings it reads change."""
        dumped = self.model_dump(mode="json")
        picked = {}
        for key in keys:
            section, _, name = key.partition(".")
            picked[key] = dumped[section][name] if name else dumped[section]
        return json.dumps(picked, sort_keys=True, ensure_ascii=False)

    # The evidence settings that the per-tile step uses (per-pixel site preparation).
    TILE_EVIDENCE_KEYS: ClassVar[tuple[str, ...]] = (
        "evidence.prep_start_month",
        "evidence.prep_end_month",
        "evidence.prep_ndvi_drop",
        "evidence.prep_bsi_rise",
    )


def _format_errors(err: ValidationError, source: str) -> str:
    lines = [f"invalid configuration in {source}:"]
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]) or "(top level)"
        lines.append(f"  - {key}: {e['msg']}")
    lines.append("Fix these keys (see README, 'Configuration reference').")
    return "\n".join(lines)


def settings_from_mapping(raw: Any, source: str = "config") -> Settings:
    """Validate a parsed config mapping; raise :class:`ConfigError` naming each bad key."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: the configuration must be a mapping of keys, got {raw!r}")
    try:
        return Settings.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(_format_errors(err, source)) from None


def load_settings(path: str | Path) -> Settings:
    """Read and validate a YAML config file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist; pass --config with a YAML file")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ConfigError(f"{path} is not valid YAML: {err}") from None
    return settings_from_mapping(raw, str(path))


def dump_settings(settings: Settings, path: str | Path) -> None:
    """Write settings as YAML that :func:`load_settings` reads back to the same value."""
    text = yaml.safe_dump(
        settings.model_dump(mode="json", exclude_none=True), allow_unicode=True, sort_keys=False
    )
    Path(path).write_text(text, encoding="utf-8")


def json_schema() -> dict[str, Any]:
    """The JSON schema of the configuration (written to ``configs/schema.json``)."""
    return Settings.model_json_schema()

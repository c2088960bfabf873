"""The run configuration: one schema, validated once at the edge into frozen settings.

Both the Snakefile and the CLI call :func:`load_settings` (or :func:`settings_from_mapping`);
no other function takes a raw config dict. Relative paths in a config file are taken from the
folder of that file (so a run means the same from any working directory).
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import date
from pathlib import Path
from typing import Any, Literal, Self

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from pipeline.errors import ConfigError


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Subset(_Frozen):
    """The keys of a settings section one step reads (a typed view of that section)."""

    @classmethod
    def of(cls, section: BaseModel) -> Self:
        return cls.model_validate(section.model_dump(include=set(cls.model_fields)))


class ColumnMap(_Frozen):
    """Which source column holds each claim; ``None`` means the layer has no such field.

    A name left at its default that the layer lacks is looked up in the alias table
    (``pipeline/plots/fields.py``); a name set to anything else must exist in the layer.
    """

    plot_id: str | None = "图斑编号"
    county: str | None = "县"
    township: str | None = "乡镇"
    stage: str | None = "阶段"
    planting_year: str | None = "造林年度"
    claimed_area: str | None = "上报面积"
    planting_type: str | None = "造林类型"
    species: str | None = "树种"
    village: str | None = "村"
    compartment: str | None = "林班"
    subcompartment: str | None = "小班"


class PlotFile(_Frozen):
    """One file of a multi-file plot submission (e.g. one per county).

    Keys left unset take the value of the same key under ``plots``.
    """

    path: Path
    layer: str | None = None
    encoding: str | None = None
    crs: str | None = None
    swap_xy: bool | None = None
    columns: ColumnMap | None = None
    area_unit: Literal["mu", "ha"] | None = None


class PlotSource(_Frozen):
    """The submitted plot layer(s): ``path`` (one file) or ``files`` (several, in order)."""

    path: Path | None = None
    files: tuple[PlotFile, ...] = ()
    layer: str | None = None
    encoding: str | None = Field(None, description="override the detected attribute encoding")
    crs: str | None = Field(
        None, description="CRS of layers without one, or to override a wrong one (EPSG:4527)"
    )
    swap_xy: bool = Field(False, description="the file has x and y swapped (northing first)")
    columns: ColumnMap = ColumnMap()
    aliases: dict[str, tuple[str, ...]] = Field(
        default_factory=dict, description="extra source names per standard field, tried first"
    )
    area_unit: Literal["mu", "ha"] = "mu"
    area_units: dict[str, Literal["mu", "ha"]] = Field(
        default_factory=dict, description="unit per source area field, e.g. {MIAN_JI: ha}"
    )
    stage_codes: dict[str, str] = Field(
        default_factory=lambda: {"1": "设计施工", "2": "造林验收", "3": "纳入造林"},
        description="stage codes used by some systems -> stage name",
    )
    design_stages: tuple[str, ...] = ("设计施工", "design")
    sliver_width_m: float = Field(
        1.0, ge=0, description="polygons thinner than this (2·area/perimeter, m) are slivers"
    )
    max_area_km2: float = Field(
        10.0,
        gt=0,
        description="larger polygons are kept but not read on imagery (INSUFFICIENT_DATA)",
    )

    @field_validator("files", mode="before")
    @classmethod
    def _paths_as_files(cls, files: Any) -> Any:
        if isinstance(files, str | Path):
            files = [files]
        if isinstance(files, list | tuple):
            return [{"path": f} if isinstance(f, str | Path) else f for f in files]
        return files

    @model_validator(mode="after")
    def _one_of_path_or_files(self) -> PlotSource:
        if (self.path is None) == (not self.files):
            raise ValueError("give either plots.path (one file) or plots.files (a list)")
        return self

    def plot_files(self) -> tuple[PlotFile, ...]:
        """Every plot file in config order, with the ``plots.*`` defaults filled in."""
        entries = self.files or (PlotFile(path=self.path),)
        return tuple(
            PlotFile(
                path=f.path,
                layer=f.layer if f.layer is not None else self.layer,
                encoding=f.encoding or self.encoding,
                crs=f.crs or self.crs,
                swap_xy=self.swap_xy if f.swap_xy is None else f.swap_xy,
                columns=f.columns or self.columns,
                area_unit=f.area_unit or self.area_unit,
            )
            for f in entries
        )


class LayerSource(_Frozen):
    """An optional reference layer (earlier plots, county boundaries, farmland)."""

    path: Path
    layer: str | None = None
    label: str | None = Field(None, description="name used in reports; default: the file name")
    encoding: str | None = None
    crs: str | None = Field(None, description="CRS when the file has none")
    name_column: str | None = None
    code_column: str | None = None
    id_column: str | None = None
    year_column: str | None = None
    year: int | None = Field(None, description="planting year of every feature (prior layers)")
    filter_column: str | None = Field(None, description="keep features whose value in this")
    filter_values: tuple[str, ...] = Field(
        (), description="column starts with one of these (e.g. DLBM 0101, 0102, 0103)"
    )

    def display_name(self) -> str:
        """How reports name this layer."""
        return self.label or Path(self.path).name


def _as_tuple(value: LayerSource | tuple[LayerSource, ...] | None) -> tuple[LayerSource, ...]:
    if value is None:
        return ()
    return value if isinstance(value, tuple) else (value,)


class Layers(_Frozen):
    """Reference layers; ``prior`` and ``restricted`` take one layer or a list."""

    prior: LayerSource | tuple[LayerSource, ...] | None = None
    region: LayerSource | None = None
    townships: LayerSource | None = None
    restricted: LayerSource | tuple[LayerSource, ...] | None = None

    def prior_sources(self) -> tuple[LayerSource, ...]:
        return _as_tuple(self.prior)

    def restricted_sources(self) -> tuple[LayerSource, ...]:
        return _as_tuple(self.restricted)

    def all_sources(self) -> list[LayerSource]:
        """Every configured reference layer (Snakemake inputs, checksums)."""
        region = [s for s in (self.region, self.townships) if s is not None]
        return [*self.prior_sources(), *region, *self.restricted_sources()]


class BandMap(_Frozen):
    """Common band names → asset keys in the catalog."""

    blue: str = "blue"
    green: str = "green"
    red: str = "red"
    nir: str = "nir"
    swir16: str = "swir16"
    swir22: str = "swir22"
    scl: str = "scl"


class StacOptions(_Frozen):
    """STAC specifics: a preset fills in the API URL, collection and asset keys."""

    preset: Literal["earth-search", "planetary-computer", "cdse"] | None = None


class SentinelHubOptions(_Frozen):
    """Sentinel Hub (or CDSE's Sentinel Hub) endpoints; credentials come from SH_CLIENT_ID /
    SH_CLIENT_SECRET or the sentinelhub config ``profile``, never from this file."""

    base_url: str = "https://services.sentinel-hub.com"
    token_url: str | None = Field(None, description="default: the base URL's OAuth endpoint")
    profile: str | None = Field(
        None, description="sentinelhub config profile (`sentinelhub.config`)"
    )
    collection: str = "sentinel-2-l2a"
    max_pixels: int = Field(2500, ge=16, le=2500, description="request edge limit (pixels)")
    upsampling: Literal["NEAREST", "BILINEAR", "BICUBIC"] = "BILINEAR"


class LocalOptions(_Frozen):
    """A folder of GeoTIFF / COG scenes and the YAML that describes them."""

    path: Path
    description: Path | None = Field(None, description="default: <path>/scenes.yaml")


class RetryOptions(_Frozen):
    """Retries with exponential backoff for 429 / 5xx / timeouts / broken reads."""

    attempts: int = Field(5, ge=1)
    backoff_s: float = Field(1.0, ge=0)
    timeout_s: float = Field(60.0, gt=0)


class RunOptions(_Frozen):
    """How a run is carried out, never what it finds: changing these re-runs nothing."""

    date_chunk: int = Field(12, ge=1, description="dates loaded at once per tile (memory bound)")
    cache: Literal["auto", "on", "off"] = Field(
        "auto", description="cache downloaded pieces; auto: on for remote data"
    )
    cache_dir: Path | None = Field(None, description="default: <output_dir>/cache")
    retry: RetryOptions = RetryOptions()
    threads: int = Field(
        1, ge=1, description="threads (or dask workers) reading scenes in each tile job"
    )
    dask: str | None = Field(
        None,
        description="read scenes on a dask.distributed cluster: 'local' (a LocalCluster per "
        "tile job) or a scheduler address tcp://host:port; default: in the job itself",
    )
    tile_job_pixels: int = Field(
        1_000_000,
        ge=1,
        description="pixels per tile job: small tiles share a job (applies when the plan is made)",
    )
    min_tile_jobs: int = Field(
        2, ge=1, description="at least this many tile jobs when there are enough tiles"
    )


# Keys that were under ``imagery`` before the ``run`` section existed; still accepted there.
_MOVED_TO_RUN = ("date_chunk", "cache", "cache_dir", "retry")


class Imagery(_Frozen):
    """Where imagery comes from and how it is gridded, masked and chunked."""

    source: Literal["stac", "sentinelhub", "sentinelhub-statistical", "local"] = "stac"
    catalog: str | None = Field(
        None, description="path to a static catalog.json or a STAC API URL (source: stac)"
    )
    stac: StacOptions = StacOptions()
    sentinelhub: SentinelHubOptions = SentinelHubOptions()
    local: LocalOptions | None = None
    harmonize: bool = Field(True, description="apply the S2 baseline >= 04.00 BOA offset")
    mask_dilation: int = Field(0, ge=0, description="grow the SCL cloud mask by this many pixels")
    collection: str | None = None
    start: date
    end: date
    bands: BandMap = BandMap()
    crs: str | None = Field(None, description="output grid CRS; default: the items' CRS")
    resolution: float = Field(10.0, ge=1, le=1000, description="grid cell size (m)")
    scale: float = Field(0.0001, gt=0, description="reflectance = DN * scale + offset")
    offset: float = 0.0
    nodata: int = 0
    max_cloud_cover: float = Field(95.0, ge=0, le=100)
    scl_mask_classes: tuple[int, ...] = (0, 1, 3, 8, 9, 10, 11)
    haze_max: float | None = Field(
        0.03, description="mask pixels whose blue - 0.5 * red exceeds this (thin cloud edges)"
    )
    tile_size_m: float = Field(2560.0, ge=100, le=100_000)
    max_tile_pixels: int = Field(
        25_000_000,
        ge=10_000,
        description="largest tile grid (pixels per band and date) a tile step may load",
    )

    @field_validator("end")
    @classmethod
    def _end_after_start(cls, end: date, info: Any) -> date:
        start = info.data.get("start")
        if start is not None and end <= start:
            raise ValueError(f"end ({end}) must be after start ({start})")
        return end

    @model_validator(mode="after")
    def _tile_fits(self) -> Imagery:
        edge = self.tile_size_m / self.resolution
        if edge * edge > self.max_tile_pixels:
            raise ValueError(
                f"a {self.tile_size_m:g} m tile at {self.resolution:g} m is {edge:,.0f}² pixels,"
                f" more than max_tile_pixels ({self.max_tile_pixels:,}); make tile_size_m smaller"
            )
        return self

    @model_validator(mode="after")
    def _source_is_configured(self) -> Imagery:
        if self.source == "stac" and self.catalog is None and self.stac.preset is None:
            raise ValueError("source 'stac' needs imagery.catalog or imagery.stac.preset")
        if self.source == "local" and self.local is None:
            raise ValueError("source 'local' needs imagery.local.path (a folder of scenes)")
        return self


class ImagerySearch(_Subset):
    """The part of :class:`Imagery` that decides which scenes a run uses and its tile grid
    (what the plan step reads; the masking and scaling keys are read per tile)."""

    source: Literal["stac", "sentinelhub", "sentinelhub-statistical", "local"]
    catalog: str | None
    stac: StacOptions
    sentinelhub: SentinelHubOptions
    local: LocalOptions | None
    collection: str | None
    bands: BandMap
    start: date
    end: date
    max_cloud_cover: float
    crs: str | None
    resolution: float
    tile_size_m: float
    max_tile_pixels: int


class DeskChecks(_Frozen):
    """Thresholds of the checks that need no imagery (areas in 亩)."""

    min_area_mu: float = Field(1.0, ge=0)
    area_rel_tol: float = Field(0.05, ge=0)
    area_buffer_m: float = Field(3.0, ge=0)
    overlap_min_mu: float = Field(0.1, ge=0)
    prior_min_share: float = Field(0.5, gt=0, le=1)
    region_min_share: float = Field(0.95, gt=0, le=1)
    restricted_min_mu: float = Field(0.1, ge=0)
    township_min_share: float = Field(
        0.95, gt=0, le=1, description="OUTSIDE_REGION below this share inside the township"
    )


class Evidence(_Frozen):
    """Thresholds of the imagery evidence (NDVI / BSI units; months are 1–12)."""

    min_clear_share: float = Field(0.6, gt=0, le=1)
    spike_ndvi: float = Field(0.2, gt=0)
    spike_max_gap_days: int = Field(25, gt=0)
    prep_start_month: int = Field(10, ge=1, le=12, description="month of year Y-1 prep begins")
    prep_end_month: int = Field(
        9, ge=1, le=12, description="month of year Y the prep window (incl. first summer) ends"
    )
    prep_late_months: int = Field(
        3,
        ge=0,
        le=6,
        description="months after prep_end_month of Y that still count as site work (秋冬造林 of"
        " the claimed year); a plot whose site work shows only in them is tested for loss after"
        " them",
    )
    winter_months: tuple[int, ...] = (11, 12, 1, 2, 3)
    min_baseline_obs: int = Field(3, ge=1)
    min_prep_obs: int = Field(2, ge=1)
    prep_ndvi_drop: float = Field(0.15, gt=0)
    prep_bsi_rise: float = Field(0.12, gt=0)
    min_data_share: float = Field(0.5, gt=0, le=1)
    planted_share_none: float = Field(0.15, ge=0, le=1)
    planted_share_full: float = Field(0.7, ge=0, le=1)
    reference_pixels: int = Field(
        800, ge=0, description="pixels sampled outside the plots of each tile as references"
    )
    reference_stable_share: float = Field(
        0.75, gt=0, le=1, description="share of the most stable sampled pixels kept as references"
    )
    forest_index: float = Field(
        0.7,
        description="baseline dry-season forest-likeness (0 = open land, 1 = forest references)"
        " from which a plot was already forest",
    )
    deciduous_growing_index: float = Field(
        0.9,
        description="baseline growing-season forest-likeness from which a plot whose dry season"
        " reads open (leafless) was already deciduous forest, when every baseline growing month"
        " also reads at least forest_index (no harvest gap); a value no plot reaches (9) turns"
        " it off",
    )
    establish_rise: float = Field(
        0.25,
        gt=0,
        description="rise of the dry-season forest-likeness above its own baseline that shows"
        " establishment (planting without site preparation, e.g. on bare land)",
    )
    min_reference_contrast: float = Field(
        0.05,
        gt=0,
        description="absolute NDVI: below this forest and open-land references cannot be told"
        " apart (noise), and the fallback levels are used",
    )
    min_change_scale: float = Field(
        0.2,
        gt=0,
        description="absolute NDVI: the least unit of changes (establishment, survival, loss),"
        " so that where forest and open land are hardly apart noise is not read as change",
    )
    fallback_forest_ndvi: float = Field(
        0.8,
        gt=0,
        le=1,
        description="absolute dry-season forest NDVI, used only where the imagery gives no"
        " reference pixels (per-plot series sources)",
    )
    fallback_open_ndvi: float = Field(
        0.45, ge=-1, le=1, description="absolute open-land level, with fallback_forest_ndvi"
    )
    min_judge_area_mu: float = Field(1.0, ge=0)
    survival_min_years: int = Field(2, ge=1)
    min_winter_obs: int = Field(
        3, ge=1, description="clear observations a dry season needs to give a level"
    )
    survival_gap: float = Field(
        0.15,
        gt=0,
        description="mean dry-season forest-likeness gain below the nearest peers' (change units)"
        " that means low survival",
    )
    survival_spread: float = Field(
        1.5,
        ge=0,
        description="the survival gap must also stand this many times the run's survival noise"
        " (median robust spread of the yardstick peers' gains) below the peers: where forest and"
        " open land are hardly apart honest plots of one kind scatter ten times more than on a"
        " clear southern world (0: off)",
    )
    peer_baseline_band: float = Field(
        0.3, gt=0, description="peers start within this forest-likeness of the plot's baseline"
    )
    min_peers: int = Field(3, ge=1)
    survival_peers: int = Field(
        8, ge=1, description="survival is read against this many nearest peers in starting level"
    )
    canopy_closed_by: dict[str, int] = Field(
        default_factory=lambda: {"桉树": 3, "相思": 3, "马占相思": 3},
        description="evergreen species (树种, first listed) whose canopy closes within the"
        " imagery, and the dry season after the planting year (label − planting year) by which"
        " an honest planting of it reads forest-like: from then its own dry-season level is read"
        " against the references, no peers needed (eucalyptus and acacias close in 2–3 years;"
        " deciduous species are never listed: leafless in the dry season)",
    )
    growth_classes: dict[str, str] = Field(
        default_factory=dict,
        description="species (树种, first listed) -> growth class (fast, medium, slow, economic,"
        " shrub): adds to or overrides the packaged table pipeline/judgement/growth_classes.csv"
        " (a province's own species); peers of the plot's class are read first",
    )
    canopy_closed_index: float = Field(
        0.5,
        description="forest-likeness a listed species must reach by its canopy_closed_by season"
        " (0.5: half-way from the open-land to the forest references); below, LOW_SURVIVAL",
    )
    loss_drop: float = Field(
        0.35, gt=0, description="break magnitude gate, forest-likeness units (vs the peers)"
    )
    loss_spread: float = Field(
        2.0,
        gt=0,
        description="the loss step must also stand this many robust standard deviations (1.4826"
        " MAD) above the run's median step: in a noisy low-contrast landscape honest plots' steps"
        " pass a fixed magnitude gate (2: the value fitted on the training worlds, README"
        " 'Multi-world evaluation'; the run's honest steps also carry real dynamics — peers"
        " growing apart, weeding — so 3 rejected clear fellings in young-plantation runs)",
    )
    loss_own_drop: float = Field(
        0.15,
        ge=0,
        description="VEGETATION_LOSS also needs the plot's own level (not only its level against"
        " the peers) to fall this much at the break (change units): peers with another seasonal"
        " swing make no loss",
    )
    loss_own_sure: float = Field(
        0.2,
        gt=0,
        description="where the plot's own level falls this much at the break (change units), the"
        " step needs no loss_spread: a cohort growing apart, weeding or another seasonal swing"
        " make large steps against the peers but not a fall of the plot's own level (honest"
        " plots with such steps fell ≤ 0.01 on their own; fellings 0.26 and more)",
    )
    peer_expect_share: float = Field(
        0.5,
        gt=0,
        le=1,
        description="NO_PLANTING_EVIDENCE needs grounds: at least this share of the plot's"
        " cohort of similar starting land (and growth class) was cleared, or has established",
    )
    site_work_share: float = Field(
        0.25,
        gt=0,
        le=1,
        description="a plot whose site-preparation NDVI drop reaches this share of the median"
        " drop of its cohort's cleared plots (prep_work_share) and stands site_work_z of its own"
        " scatter shows site work of some kind — pits or strips work a fifth to a third of the"
        " area (穴状 / 带状整地) — so 'land like this was cleared where planted' does not refute"
        " it (ESTABLISHMENT_NOT_YET_VISIBLE instead); a share of what peers in the same imagery"
        " show, not an NDVI level",
    )
    site_work_z: float = Field(
        2.5,
        gt=0,
        description="with site_work_share: the drop must also stand this many times the plot's"
        " own scatter about its same-month baseline (prep_drop_z); the second-largest of a prep"
        " window's deviations reaches about 2 by noise alone, 2.5 in about 2 % of windows",
    )
    establish_years: int = Field(
        4,
        ge=1,
        description="NO_PLANTING_EVIDENCE without peer grounds once the imagery holds this many"
        " dry seasons after the planting year (establishment shows in 3–5 years in the humid"
        " south) and no like plantings of its cohort are read (where they are, they decide);"
        " before, ESTABLISHMENT_NOT_YET_VISIBLE (suspect)",
    )
    clear_fell_drop: float = Field(
        0.6,
        gt=0,
        description="plot-level site-preparation drop (change units) that, on a planted plot with"
        " a forest-like baseline, shows a full clearing: FOREST_CLEARED_REPLANTED (suspect)"
        " instead of PRE_EXISTING_FOREST",
    )
    loss_min_obs: int = Field(3, ge=1)
    loss_before_days: int = Field(400, gt=0, description="history of the break test (days)")
    loss_after_days: int = Field(
        240,
        gt=0,
        description="the break test's monitor holds the first loss_min_obs observations after a"
        " split within this many days: long enough that a clearing followed by a cloudy summer"
        " (one clear view in four months) is still tested",
    )
    model: Path | None = Field(
        None,
        description="a model folder written by `tushu train` (models/<name>); none: rules only",
    )
    model_policy: Literal["report", "add"] = Field(
        "report",
        description="report: the model's p_<REASON> columns beside the rules' verdict; add: a"
        " reason the rules did not give is added where its probability >= model_add_threshold",
    )
    model_add_threshold: float = Field(0.8, gt=0, le=1)
    thresholds: Path | None = Field(
        None,
        description="a thresholds.json fitted on labelled runs (pipeline.judgement.calibrate);"
        " its values replace the defaults of the keys it names, a key set in the config wins",
    )
    loss_z: float = Field(
        6.0,
        gt=0,
        description="break statistic (moving-sum of residuals / history noise) gate (6: the value"
        " fitted on the training worlds together with loss_spread 2)",
    )


class PrepSettings(_Subset):
    """The evidence keys the per-tile step reads (per-pixel site preparation); a series source
    (Statistical API) also reads ``min_clear_share`` (:class:`SeriesPrepSettings`)."""

    prep_start_month: int
    prep_end_month: int
    prep_late_months: int
    prep_ndvi_drop: float
    prep_bsi_rise: float
    winter_months: tuple[int, ...]
    establish_rise: float
    min_change_scale: float
    reference_pixels: int
    reference_stable_share: float
    fallback_forest_ndvi: float
    fallback_open_ndvi: float


class SeriesPrepSettings(PrepSettings):
    """:class:`PrepSettings` plus the clear-share rule applied by a per-plot series source."""

    min_clear_share: float


class TaskTarget(_Frozen):
    """A county's annual task for one stage group (``planted``: 造林验收 + 纳入造林; ``design``:
    设计施工), in 亩 (and optionally a plot count)."""

    county: str = Field(min_length=1, description="county name as the plots give it (县)")
    stage: Literal["planted", "design"] = "planted"
    area_mu: float = Field(gt=0, description="annual task area, 亩")
    plots: int | None = Field(None, ge=1)


class FieldSample(_Frozen):
    """The stratified random sample of plots for field checks (strata: county × status)."""

    size: int = Field(30, ge=1, description="plots drawn in total (allocated by stratum size)")
    seed: int = 0
    confidence: float = Field(0.95, gt=0, lt=1)


class Reports(_Frozen):
    """The documents a monitoring center sends (workbook, 整改清单, bulletin, history, HTML
    report, evidence packs, field lists). Changing this section re-makes only the documents."""

    title: str = "造林图斑遥感核查"
    compiling_unit: str = Field("", description="编制单位 printed under each document's title")
    report_date: date | None = Field(None, description="date printed on documents (default: today)")
    targets: tuple[TaskTarget, ...] = ()
    history: tuple[Path, ...] = Field(
        (), description="earlier run folders of the same plots, oldest first (回头看)"
    )
    deadline_days: int = Field(30, ge=1, description="整改 deadline: report date + these days")
    visit_statuses: tuple[Literal["suspect", "inconsistent", "insufficient_data"], ...] = (
        "suspect",
        "inconsistent",
    )
    sample: FieldSample = FieldSample()
    evidence_packs: bool = Field(True, description="one HTML evidence pack per flagged plot")


class Settings(_Frozen):
    """Everything one run needs, validated. ``run`` holds how to run (never a reason to re-run);
    ``reports`` shapes the documents only; every other section is science: a change there
    re-runs the steps that read it."""

    output_dir: Path
    plots: PlotSource
    layers: Layers = Layers()
    imagery: Imagery
    desk: DeskChecks = DeskChecks()
    evidence: Evidence = Evidence()
    reports: Reports = Reports()
    run: RunOptions = RunOptions()

    @model_validator(mode="before")
    @classmethod
    def _accept_moved_keys(cls, raw: Any) -> Any:
        """``imagery.date_chunk`` / ``cache`` / ``cache_dir`` / ``retry`` (the old places) are
        read into ``run``; giving a key in both places is an error."""
        if not isinstance(raw, dict) or not isinstance(raw.get("imagery"), dict):
            return raw
        moved = {k: raw["imagery"][k] for k in _MOVED_TO_RUN if k in raw["imagery"]}
        if not moved:
            return raw
        run = dict(raw.get("run") or {})
        both = sorted(set(moved) & set(run))
        if both:
            raise ValueError(
                f"{', '.join(both)} given under both imagery and run; keep them under run only"
            )
        imagery = {k: v for k, v in raw["imagery"].items() if k not in moved}
        return {**raw, "imagery": imagery, "run": {**run, **moved}}

    def science(self) -> dict[str, Any]:
        """The settings that decide the plot results (everything but ``run`` and ``reports``,
        which shapes only the documents), as JSON values."""
        return self.model_dump(mode="json", exclude={"run", "reports"})

    def science_hash(self) -> str:
        """SHA-256 of :meth:`science` (canonical JSON): equal hashes, equal results."""
        text = json.dumps(self.science(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _format_errors(err: ValidationError, source: str) -> str:
    lines = [f"invalid configuration in {source}:"]
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]) or "(top level)"
        lines.append(f"  - {key}: {e['msg']}")
    lines.append("Fix these keys (see README, 'Configuration reference').")
    return "\n".join(lines)


def settings_from_mapping(raw: Any, source: str = "config", base: Path | None = None) -> Settings:
    """Validate a parsed config mapping; raise :class:`ConfigError` naming each bad key.

    Relative paths are taken from ``base`` (default: the working directory) and made absolute.
    """
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: the configuration must be a mapping of keys, got {raw!r}")
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(_format_errors(err, source)) from None
    return resolve_paths(settings, Path(base) if base is not None else Path.cwd())


def resolve_paths(settings: Settings, base: Path) -> Settings:
    """The same settings with every relative path (and a relative local ``imagery.catalog``)
    taken from ``base`` and made absolute."""
    base = Path(base).absolute()

    def rebase(value: Any) -> Any:
        if isinstance(value, Path):
            return value if value.is_absolute() else Path(os.path.normpath(base / value))
        if isinstance(value, tuple):
            return tuple(rebase(v) for v in value)
        if isinstance(value, BaseModel):
            changed = {}
            for name in type(value).model_fields:
                old = getattr(value, name)
                new = rebase(old)
                if new is not old:
                    changed[name] = new
            return value.model_copy(update=changed) if changed else value
        return value

    out = rebase(settings)
    catalog = out.imagery.catalog
    if catalog and "://" not in catalog and not Path(catalog).is_absolute():
        imagery = out.imagery.model_copy(update={"catalog": os.path.normpath(base / catalog)})
        out = out.model_copy(update={"imagery": imagery})
    return out


def load_settings(path: str | Path) -> Settings:
    """Read and validate a YAML config file; relative paths are taken from its folder."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist; pass --config with a YAML file")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ConfigError(
            f"{path} is not UTF-8 text (byte {err.start}); save it as UTF-8 (e.g. a config saved "
            "as GBK by a Chinese Windows editor: re-save with encoding UTF-8)"
        ) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError(f"{path} is not valid YAML: {err}") from None
    return settings_from_mapping(raw, str(path), base=path.parent)


def dump_settings(settings: Settings, path: str | Path) -> None:
    """Write settings as YAML that :func:`load_settings` reads back to the same value."""
    text = yaml.safe_dump(
        settings.model_dump(mode="json", exclude_none=True), allow_unicode=True, sort_keys=False
    )
    Path(path).write_text(text, encoding="utf-8")


def json_schema() -> dict[str, Any]:
    """The JSON schema of the configuration (written to ``configs/schema.json``)."""
    return Settings.model_json_schema()

"""World presets: the frozen `WorldSpec` of each demo world and the scenario vocabulary."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from pipeline.codes import REASONS
from pipeline.demo.species import SPECIES_TRAITS
from pipeline.errors import ConfigError

GENUINE = "GENUINE"
#: Suspect outcomes the generator plants no scenario of (a verifier's visit, not a planted fault).
NOT_PLANTED = ("ESTABLISHMENT_NOT_YET_VISIBLE", "FOREST_CLEARED_REPLANTED")
IMAGERY_SCENARIOS = tuple(
    c for c, r in REASONS.items() if r.stage == "imagery" and c not in NOT_PLANTED
)
DESK_SCENARIOS = tuple(c for c, r in REASONS.items() if r.stage == "desk")
#: Every reason code a perfect checker may report (the scenario names except GENUINE).
REASON_CODES = IMAGERY_SCENARIOS + DESK_SCENARIOS
SCENARIOS = (GENUINE,) + REASON_CODES
#: Scenarios whose plots come in pairs (the counts below are rows, i.e. twice the pairs).
PAIRED_SCENARIOS = ("DUPLICATE_ID", "OVERLAP")

MU_M2 = 2000.0 / 3.0  # 1 亩 in m²
#: Starting land classes a planted plot may lie on (the ``land_mix`` axis of a world):
#: shrub/grass hills (灌草地), bare hills (荒山荒地 / 裸地), grassland, sparse forest (疏林地,
#: planted in the gaps: 补植), sloping cropland returned to forest (退耕还林), old economic
#: forest (``orchard``: 油茶 rows on terraces, clean-cultivated so bare soil shows between the
#: rows, low canopy closure; cleared and replanted) and moso bamboo (``bamboo``, 毛竹: dense
#: evergreen cover, so a claim on it is PRE_EXISTING_FOREST; south only).
LAND_CLASSES = ("shrub", "bare", "grass", "sparse", "crop", "orchard", "bamboo")
#: Climates: the humid evergreen south; the north with deciduous forest and snowy winters.
CLIMATES = ("south", "north")
#: Planting seasons: ``spring`` (planted Jan–Apr of the claimed year Y), ``autumn`` (秋冬造林:
#: planted Oct–Dec of Y−1 or of Y, still claimed as year Y), ``mixed`` (half of each).
PLANTING_SEASONS = ("spring", "autumn", "mixed")
#: Sensors: ``s2`` (Sentinel-2 L2A, six bands + SCL, STAC catalog) or ``wfv`` (a GF-1 / GF-6
#: WFV-like 4-band sensor without SWIR: blue, green, red, nir at 16 m + a cloud-mask file,
#: written as a local-files folder ``scenes/`` with its ``scenes.yaml``).
SENSORS = ("s2", "wfv")


@dataclass(frozen=True)
class WorldSpec:
    """Everything that shapes one demo world; lengths in metres, dates ISO strings."""

    name: str
    width_m: int
    height_m: int
    x0: float
    y_top: float
    start: str
    end: str
    step_days: int
    planting_years: tuple[int, ...]
    counts: tuple[tuple[str, int], ...]  # plots (rows) per scenario
    n_design: int  # genuine plots still at the design stage (land unplanted)
    n_closure: int  # NO_PLANTING_EVIDENCE plots that slowly gain shrub cover (以封代造)
    n_holes: int  # genuine plots with a hole
    n_multi: int  # genuine plots written as a MultiPolygon
    n_prior_other: int  # prior-year plots unrelated to current plots
    plot_mu: tuple[float, float]  # area range of ordinary plots, 亩
    loss_windows: tuple[tuple[int, str, str], ...]  # (planting year, first, last loss date)
    river_y_frac: float  # mean river position as a share of the height from the top
    valley_scale_m: float  # e-folding width of the valley in the DEM
    relief_m: float  # DEM range above the 200 m valley floor
    forest_share: float  # share of the hills under closed evergreen forest
    crop_half_width_m: float  # half width of the cropland strip along the river
    river_half_width_m: float
    reservoir_m: tuple[float, float]  # reservoir size (0, 0 = none)
    village_m: tuple[float, float]
    trap_radius_m: float  # radius of the mountain-top cloud trap
    shadow_offset_m: tuple[float, float]  # range of cloud-shadow displacement
    pixel_m: int = 10
    sub: int = 5  # fine sub-cells per pixel side
    land_mix: tuple[tuple[str, float], ...] = (("shrub", 1.0),)  # starting land, weights
    climate: str = "south"  # phenology, snow and cloud calendar (CLIMATES)
    cloud_scale: float = 1.0  # multiplies the monthly probability of a cloudy date
    planting_season: str = "spring"  # PLANTING_SEASONS
    sensor: str = "s2"  # SENSORS
    #: planted species and weights (names of ``species.SPECIES_TRAITS``: growth years and canopy
    #: closure per species); empty: the climate's classic species table
    species_mix: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        if self.width_m % (2 * self.pixel_m) or self.height_m % (2 * self.pixel_m):
            raise ConfigError(
                f"preset {self.name!r}: width_m and height_m must be multiples of "
                f"{2 * self.pixel_m} m so that the 20 m bands tile the area"
            )
        if self.climate not in CLIMATES:
            raise ConfigError(f"preset {self.name!r}: climate must be one of {CLIMATES}")
        for land, weight in self.land_mix:
            if land not in LAND_CLASSES or weight < 0:
                raise ConfigError(f"preset {self.name!r}: land_mix takes {LAND_CLASSES} weights")
        lands = dict(self.land_mix)
        if "bamboo" in lands and (self.climate != "south" or len(lands) == 1):
            raise ConfigError(
                f"preset {self.name!r}: bamboo grows in the south only and needs another land "
                "class in land_mix beside it (plots other than genuine and unplanted ones)"
            )
        if self.planting_season not in PLANTING_SEASONS:
            raise ConfigError(
                f"preset {self.name!r}: planting_season must be one of {PLANTING_SEASONS}"
            )
        if self.sensor not in SENSORS:
            raise ConfigError(f"preset {self.name!r}: sensor must be one of {SENSORS}")
        for species, weight in self.species_mix:
            if species not in SPECIES_TRAITS or weight < 0:
                raise ConfigError(
                    f"preset {self.name!r}: species_mix takes weights of {tuple(SPECIES_TRAITS)}"
                )
        for scenario, n in self.counts:
            if scenario not in SCENARIOS:
                raise ConfigError(f"preset {self.name!r}: unknown scenario {scenario!r}")
            if scenario in PAIRED_SCENARIOS and n % 2:
                raise ConfigError(f"preset {self.name!r}: {scenario} needs an even row count")

    @property
    def cols(self) -> int:
        """Number of 10 m columns."""
        return self.width_m // self.pixel_m

    @property
    def rows(self) -> int:
        """Number of 10 m rows."""
        return self.height_m // self.pixel_m

    def count(self, scenario: str) -> int:
        """Rows of the given scenario (0 if absent)."""
        return dict(self.counts).get(scenario, 0)

    def list_dates(self) -> list[dt.date]:
        """Acquisition dates: start + k * step_days up to end (inclusive)."""
        first, last = dt.date.fromisoformat(self.start), dt.date.fromisoformat(self.end)
        n = (last - first).days // self.step_days + 1
        return [first + dt.timedelta(days=k * self.step_days) for k in range(n)]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict of the spec."""
        return asdict(self)


PRESETS: dict[str, WorldSpec] = {
    "default": WorldSpec(
        name="default",
        width_m=5000,
        height_m=4000,
        x0=560000.0,
        y_top=2934000.0,
        start="2021-01-01",
        end="2024-12-31",
        step_days=10,
        planting_years=(2022, 2023),
        counts=(
            ("GENUINE", 85),
            ("PRE_EXISTING_FOREST", 10),
            ("NO_PLANTING_EVIDENCE", 10),
            ("LOW_SURVIVAL", 6),
            ("PARTIAL_PLANTING", 6),
            ("VEGETATION_LOSS", 8),
            ("INSUFFICIENT_DATA", 3),
            ("INVALID_GEOMETRY", 3),
            ("DUPLICATE_ID", 4),
            ("MISSING_ATTRIBUTE", 3),
            ("AREA_MISMATCH", 5),
            ("TOO_SMALL", 3),
            ("OVERLAP", 6),
            ("DUPLICATE_PRIOR", 4),
            ("OUTSIDE_REGION", 3),
            ("RESTRICTED_LAND", 4),
        ),
        n_design=6,
        n_closure=3,
        n_holes=2,
        n_multi=2,
        n_prior_other=15,
        plot_mu=(5.0, 80.0),
        loss_windows=((2022, "2023-06-01", "2024-06-30"), (2023, "2024-01-01", "2024-07-31")),
        river_y_frac=0.72,
        valley_scale_m=900.0,
        relief_m=700.0,
        forest_share=0.5,
        crop_half_width_m=330.0,
        river_half_width_m=13.0,
        reservoir_m=(380.0, 170.0),
        village_m=(260.0, 170.0),
        trap_radius_m=260.0,
        shadow_offset_m=(120.0, 600.0),
    ),
    "tiny": WorldSpec(
        name="tiny",
        width_m=1600,
        height_m=1200,
        x0=561000.0,
        y_top=2932000.0,
        start="2021-01-01",
        end="2023-12-31",
        step_days=15,
        planting_years=(2022,),
        counts=(
            ("GENUINE", 10),
            ("PRE_EXISTING_FOREST", 2),
            ("NO_PLANTING_EVIDENCE", 2),
            ("LOW_SURVIVAL", 1),
            ("PARTIAL_PLANTING", 1),
            ("VEGETATION_LOSS", 1),
            ("INSUFFICIENT_DATA", 1),
            ("INVALID_GEOMETRY", 2),
            ("DUPLICATE_ID", 2),
            ("MISSING_ATTRIBUTE", 3),
            ("AREA_MISMATCH", 1),
            ("TOO_SMALL", 1),
            ("OVERLAP", 2),
            ("DUPLICATE_PRIOR", 1),
            ("OUTSIDE_REGION", 1),
            ("RESTRICTED_LAND", 1),
        ),
        n_design=1,
        n_closure=1,
        n_holes=1,
        n_multi=1,
        n_prior_other=2,
        plot_mu=(5.0, 15.0),
        loss_windows=((2022, "2023-03-01", "2023-08-31"),),
        river_y_frac=0.80,
        valley_scale_m=400.0,
        relief_m=300.0,
        forest_share=0.4,
        crop_half_width_m=150.0,
        river_half_width_m=8.0,
        reservoir_m=(0.0, 0.0),
        village_m=(110.0, 80.0),
        trap_radius_m=100.0,
        shadow_offset_m=(40.0, 120.0),
    ),
}


def _variant(name: str, land_mix, climate: str = "south", cloud_scale: float = 1.0, **kw):
    """A 2.4 × 1.8 km world with ~60 plots, 2020–2024, plantings of 2022 and 2023, varied in
    starting land, climate and cloudiness (the multi-world evaluation's worlds)."""
    base = dict(
        name=name,
        width_m=2400,
        height_m=1800,
        x0=562000.0,
        y_top=2936000.0,
        start="2020-01-01",
        end="2024-12-31",
        step_days=10,
        planting_years=(2022, 2023),
        counts=(
            ("GENUINE", 30),
            ("PRE_EXISTING_FOREST", 4),
            ("NO_PLANTING_EVIDENCE", 5),
            ("LOW_SURVIVAL", 4),
            ("PARTIAL_PLANTING", 4),
            ("VEGETATION_LOSS", 4),
            ("INSUFFICIENT_DATA", 1),
            ("AREA_MISMATCH", 1),
            ("RESTRICTED_LAND", 1),
        ),
        n_design=2,
        n_closure=2,
        n_holes=1,
        n_multi=1,
        n_prior_other=3,
        plot_mu=(5.0, 30.0),
        loss_windows=((2022, "2023-05-01", "2024-06-30"), (2023, "2024-01-01", "2024-07-31")),
        river_y_frac=0.85,
        valley_scale_m=500.0,
        relief_m=400.0,
        forest_share=0.35,
        crop_half_width_m=150.0,
        river_half_width_m=8.0,
        reservoir_m=(0.0, 0.0),
        village_m=(120.0, 90.0),
        trap_radius_m=100.0,
        shadow_offset_m=(40.0, 160.0),
        land_mix=tuple(land_mix),
        climate=climate,
        cloud_scale=cloud_scale,
    )
    return WorldSpec(**(base | kw))


#: Worlds that differ in starting land and climate (not only in seed).
VARIANTS: dict[str, WorldSpec] = {
    spec.name: spec
    for spec in (
        _variant("south-shrub", (("shrub", 1.0),)),
        _variant("south-bare", (("bare", 0.7), ("shrub", 0.3))),
        _variant(
            "south-mixed",
            (("shrub", 0.3), ("bare", 0.25), ("grass", 0.2), ("sparse", 0.15), ("crop", 0.1)),
        ),  # fmt: skip
        _variant("south-cloudy", (("bare", 0.5), ("grass", 0.5)), cloud_scale=1.25),
        _variant("north-bare", (("bare", 0.6), ("grass", 0.4)), "north"),
        _variant("north-mixed", (("shrub", 0.4), ("bare", 0.3), ("crop", 0.3)), "north"),
        _variant("north-sparse", (("sparse", 0.5), ("grass", 0.5)), "north", 0.8),
        # the axes added later: planting season, sensor, species, orchard and bamboo land
        _variant(
            "south-autumn",
            (("shrub", 0.4), ("bare", 0.3), ("orchard", 0.3)),
            planting_season="autumn",
        ),
        _variant(
            "north-ndvi", (("bare", 0.5), ("grass", 0.3), ("shrub", 0.2)), "north", sensor="wfv"
        ),
        _variant("south-bamboo-orchard", (("orchard", 0.4), ("bamboo", 0.2), ("shrub", 0.4))),
        _variant(
            "south-species",
            (("shrub", 0.5), ("bare", 0.5)),
            species_mix=(
                ("桉树", 0.3),
                ("杉木", 0.2),
                ("马尾松", 0.2),
                ("木荷", 0.2),
                ("油茶", 0.1),
            ),
        ),
    )
}
PRESETS.update(VARIANTS)


def get_spec(preset: str) -> WorldSpec:
    """The `WorldSpec` of a named preset; raises ConfigError naming the valid ones."""
    try:
        return PRESETS[preset]
    except KeyError:
        valid = ", ".join(sorted(PRESETS))
        raise ConfigError(f"unknown demo preset {preset!r}; valid presets: {valid}") from None

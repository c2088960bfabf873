"""Endmember spectra, herb phenology and the cover dynamics of every land unit."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from pipeline.imagery.bands import REFLECTANCE_BANDS

BANDS = REFLECTANCE_BANDS
COMPONENTS = ("tree", "herb_green", "herb_brown", "soil", "water", "built", "crop")
TREE, HERB_G, HERB_B, SOIL, WATER, BUILT, CROP = range(7)

#: Endmember reflectance (0–1), dims (components, bands).
ENDMEMBERS = np.array(
    [
        [0.025, 0.050, 0.030, 0.300, 0.150, 0.070],  # evergreen tree / shrub
        [0.040, 0.080, 0.050, 0.400, 0.220, 0.110],  # green herbaceous
        [0.070, 0.100, 0.120, 0.260, 0.300, 0.210],  # brown / dry herbaceous litter
        [0.060, 0.100, 0.170, 0.240, 0.320, 0.260],  # bare red soil
        [0.060, 0.070, 0.050, 0.030, 0.010, 0.005],  # water
        [0.120, 0.130, 0.140, 0.200, 0.250, 0.220],  # built-up
        [0.035, 0.080, 0.040, 0.450, 0.220, 0.100],  # green crop
    ],
    dtype=np.float32,
)

#: Leafless deciduous crowns (branches, stems and their shadow over litter), north only.
BARK = np.array([0.035, 0.045, 0.05, 0.16, 0.15, 0.09], dtype=np.float32)
BARE_CROWN = len(COMPONENTS)  # its cover column (north only)

#: Snow reflectance (0–1), dims (bands,): bright in the visible and NIR, dark in the SWIR.
SNOW = np.array([0.85, 0.84, 0.82, 0.76, 0.12, 0.08], dtype=np.float64)

# land-unit kinds (background classes use the same codes)
FOREST, SHRUB, CROPLAND, WATERBODY, BUILTUP = range(5)

CLEAR_DAYS = 12.0  # duration of site clearing, days
HERB_AFTER_PREP = 0.12  # herb share of the ground just after site preparation
HERB_TAU = 76.0  # days; herbs regrow to ~60 % within six months
LOSS_HERB_TAU = 200.0  # slower regrowth after a clearing
RESIDUAL_TREE = 0.03  # stumps and spared shrubs after site preparation
LOSS_TREE = 0.02  # tree cover left by a felling / fire (stumps)
LOSS_HERB_START = 0.08  # herb share of the cleared ground just after a felling / fire
LOSS_HERB_MAX = 0.6  # herbs regrow towards this share, never above the land's own herbs

# double-crop rice calendar: day of year -> cover fractions (components order)
_CROP_KEYS = np.array(
    [
        # doy, tree, herb_g, herb_b, soil, water, built, crop
        [0, 0, 0.20, 0.35, 0.45, 0.00, 0, 0.00],
        [60, 0, 0.20, 0.30, 0.50, 0.00, 0, 0.00],
        [80, 0, 0.05, 0.10, 0.75, 0.10, 0, 0.00],
        [100, 0, 0.05, 0.00, 0.35, 0.60, 0, 0.00],
        [115, 0, 0.05, 0.00, 0.30, 0.55, 0, 0.10],
        [140, 0, 0.05, 0.00, 0.15, 0.25, 0, 0.55],
        [165, 0, 0.00, 0.00, 0.05, 0.05, 0, 0.90],
        [185, 0, 0.00, 0.10, 0.05, 0.00, 0, 0.85],
        [195, 0, 0.00, 0.50, 0.40, 0.05, 0, 0.05],
        [205, 0, 0.00, 0.10, 0.30, 0.55, 0, 0.05],
        [215, 0, 0.00, 0.05, 0.30, 0.45, 0, 0.20],
        [255, 0, 0.00, 0.00, 0.07, 0.05, 0, 0.88],
        [280, 0, 0.00, 0.20, 0.05, 0.00, 0, 0.75],
        [292, 0, 0.00, 0.55, 0.40, 0.00, 0, 0.05],
        [330, 0, 0.15, 0.45, 0.40, 0.00, 0, 0.00],
        [366, 0, 0.20, 0.35, 0.45, 0.00, 0, 0.00],
    ],
    dtype=np.float64,
)


#: Default unit parameters: natural shrub/grass land, never planted.
UNIT_DEFAULTS: dict[str, float] = {
    "kind": SHRUB, "tree0": 0.2, "soil0": 0.08, "rate": 0.0, "phase": 0.0, "bright": 1.0,
    "prep": np.inf, "plant": np.inf, "grow": 1460.0, "fmax": 0.85, "herb_cap": 0.65,
    "loss": np.inf, "decid": 0.0, "resid": 0.03,
}  # fmt: skip


@dataclass
class UnitTable:
    """Cover-dynamics parameters of each land unit; every field dims (units,).

    Days are float days since 1970-01-01 (inf = never); fractions 0–1."""

    kind: np.ndarray  # FOREST, SHRUB, CROPLAND, WATERBODY, BUILTUP
    tree0: np.ndarray  # natural tree/shrub cover (built: tree share of the rest)
    soil0: np.ndarray  # bare ground share (water: turbidity share; built: built share)
    rate: np.ndarray  # natural shrub gain, fraction per year since `t_ref`
    phase: np.ndarray  # phenology shift, days
    bright: np.ndarray  # brightness factor of the unit
    prep: np.ndarray  # start of site preparation
    plant: np.ndarray  # planting date
    grow: np.ndarray  # days to reach fmax
    fmax: np.ndarray  # final planted tree cover
    herb_cap: np.ndarray  # herb share of the ground kept by tending
    loss: np.ndarray  # date the planting was cleared again
    decid: np.ndarray  # 1 = the natural tree cover sheds its leaves in winter (north)
    resid: np.ndarray  # tree cover left standing by site preparation (sparse forest: more)

    def __len__(self) -> int:
        return len(self.kind)

    @classmethod
    def make(cls, n: int, **values: np.ndarray | float) -> UnitTable:
        """Table of n units with defaults (natural, never planted) overridden by values."""
        cols = {}
        for f in fields(cls):
            v = values.get(f.name, UNIT_DEFAULTS[f.name])
            dtype = np.int8 if f.name == "kind" else np.float64
            cols[f.name] = np.broadcast_to(np.asarray(v, dtype=dtype), (n,)).copy()
        return cls(**cols)

    @classmethod
    def concat(cls, tables: list[UnitTable]) -> UnitTable:
        """Units of several tables, in order."""
        return cls(
            **{f.name: np.concatenate([getattr(t, f.name) for t in tables]) for f in fields(cls)}
        )


def compute_greenness(doy: np.ndarray, north: bool = False) -> np.ndarray:
    """Green share of herbaceous cover: south ≈0.33 in late Jan, ≈0.97 in late Jul; north
    ≈0.02 (all brown) from December to March, ≈0.95 in summer; dims as doy."""
    if north:
        return np.clip(0.5 - 0.6 * np.cos(2 * np.pi * (doy - 20.0) / 365.25), 0.02, 0.95)
    return 0.65 - 0.32 * np.cos(2 * np.pi * (doy - 25.0) / 365.25)


def compute_leaf_on(doy: np.ndarray) -> np.ndarray:
    """Leaf-on share of deciduous canopy (north): 0 from November to mid-April; dims as doy."""
    return np.clip(0.45 - 0.8 * np.cos(2 * np.pi * (doy - 20.0) / 365.25), 0.0, 1.0)


def _split_herb(cover: np.ndarray, herb: np.ndarray, green: np.ndarray) -> None:
    cover[:, HERB_G] = herb * green
    cover[:, HERB_B] = herb * (1.0 - green)


def compute_cover(
    units: UnitTable, day: float, doy: float, t_ref: float, north: bool = False
) -> np.ndarray:
    """Cover fractions of every unit on one date, dims (units, components)."""
    n = len(units)
    d = doy + units.phase
    green = compute_greenness(d, north)
    cover = np.zeros((n, len(COMPONENTS) + north))  # north: + leafless crowns (BARK)
    kind = units.kind
    # natural vegetation (forest, shrub/grass): trees + herbs + a little soil
    years = max(day - t_ref, 0.0) / 365.25
    tree = np.clip(units.tree0 + units.rate * years, 0.0, 0.92)
    soil = np.minimum(units.soil0 * (1.5 - green), 1.0 - tree)  # winter dieback bares soil
    cover[:, TREE] = tree
    cover[:, SOIL] = soil
    _split_herb(cover, 1.0 - tree - soil, green)
    if north:  # leafless deciduous crowns look like brown litter
        bare_crown = tree * units.decid * (1.0 - compute_leaf_on(d))
        cover[:, TREE] -= bare_crown
        cover[:, BARE_CROWN] = bare_crown
    # cropland: interpolated rice calendar
    crop = kind == CROPLAND
    if crop.any():
        dc = np.mod(d[crop], 365.0)
        cover[crop] = 0.0
        cover[crop, :7] = np.stack(
            [np.interp(dc, _CROP_KEYS[:, 0], _CROP_KEYS[:, j + 1]) for j in range(7)], 1
        )
    water = kind == WATERBODY
    cover[water] = 0.0
    cover[water, WATER] = 1.0 - units.soil0[water]
    cover[water, SOIL] = units.soil0[water]
    built = kind == BUILTUP
    rest = 1.0 - units.soil0[built]
    cover[built] = 0.0
    cover[built, BUILT] = units.soil0[built]
    cover[built, TREE] = rest * units.tree0[built]
    cover[built, HERB_G] = rest * (1 - units.tree0[built]) * 0.6 * green[built]
    cover[built, HERB_B] = rest * (1 - units.tree0[built]) * 0.6 * (1 - green[built])
    cover[built, SOIL] = rest * (1 - units.tree0[built]) * 0.4
    _overlay_planting(cover, units, day, green)
    return cover


def compute_planted_tree(planted: np.ndarray | float, resid: np.ndarray | float) -> np.ndarray:
    """Tree cover of a planted unit (share of the ground), dims as ``planted``.

    ``planted``: the planted crowns' cover on open ground (``fmax · (t / grow) ** 1.5``);
    ``resid``: the tree cover site preparation left. Stumps and cut shrubs (``resid`` at
    :data:`RESIDUAL_TREE`) are overtopped by the planting: the larger of the two. Standing trees
    spared on sparse forest (疏林地, ``resid`` above it) keep their crowns and the seedlings go
    into the gaps (补植): spared + planted · (1 − spared)."""
    planted, resid = np.asarray(planted, dtype=float), np.asarray(resid, dtype=float)
    spared = np.where(resid > RESIDUAL_TREE, resid, 0.0)
    return np.maximum(spared + planted * (1.0 - spared), resid)


def _herb_room(natural: np.ndarray) -> np.ndarray:
    """Herb share of the ground outside tree crowns the land itself carries on this date (its
    natural cover, before any planting: 1 − bare soil over the ground between trees), dims
    (units,): after a felling herbs regrow at most to it (bare hills stay bare)."""
    trees = natural[:, TREE] + (natural[:, BARE_CROWN] if natural.shape[1] > BARE_CROWN else 0.0)
    return 1.0 - natural[:, SOIL] / np.maximum(1.0 - trees, 1e-6)


def _overlay_planting(cover: np.ndarray, units: UnitTable, day: float, green: np.ndarray) -> None:
    """Blend site preparation, planted trees, herb regrowth and later clearing into cover."""
    sel = np.flatnonzero(day >= units.prep)
    if sel.size == 0:
        return
    u = {f.name: getattr(units, f.name)[sel] for f in fields(units)}
    since = day - u["plant"]
    tree = compute_planted_tree(u["fmax"] * np.clip(since / u["grow"], 0.0, 1.0) ** 1.5, u["resid"])
    herb_room = _herb_room(cover[sel])
    regrow = 1.0 - np.exp(-np.clip(since, 0.0, None) / HERB_TAU)
    herb = HERB_AFTER_PREP + (u["herb_cap"] - HERB_AFTER_PREP) * regrow
    planted = np.zeros((sel.size, cover.shape[1]))
    planted[:, TREE] = tree
    planted[:, SOIL] = (1 - tree) * (1 - herb)
    _split_herb(planted, (1 - tree) * herb, green[sel])
    w = np.clip((day - u["prep"]) / CLEAR_DAYS, 0.0, 1.0)[:, None]
    mixed = (1 - w) * cover[sel] + w * planted
    lost = np.flatnonzero(day >= u["loss"])
    if lost.size:
        since_loss = day - u["loss"][lost]
        herb_l = LOSS_HERB_START + (LOSS_HERB_MAX - LOSS_HERB_START) * (
            1 - np.exp(-since_loss / LOSS_HERB_TAU)
        )
        herb_l = np.minimum(herb_l, herb_room[lost])  # a bare hill regrows as a bare hill does
        cleared = np.zeros((lost.size, cover.shape[1]))
        cleared[:, TREE] = LOSS_TREE
        cleared[:, SOIL] = 0.98 * (1 - herb_l)
        _split_herb(cleared, 0.98 * herb_l, green[sel][lost])
        w2 = np.clip(since_loss / CLEAR_DAYS, 0.0, 1.0)[:, None]
        mixed[lost] = (1 - w2) * mixed[lost] + w2 * cleared
    cover[sel] = mixed


def compute_unit_reflectance(
    units: UnitTable, day: float, doy: float, t_ref: float, north: bool = False, snow: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Reflectance (0–1) of every unit on one date, dims (units, bands), and the snow-covered
    share of each unit, dims (units,): snow (share ``snow`` of the date) lies on the ground
    between crowns, not on evergreen crowns or water."""
    cover = compute_cover(units, day, doy, t_ref, north)
    ends = np.vstack([ENDMEMBERS, BARK]) if north else ENDMEMBERS
    refl = cover @ ends.astype(np.float64)
    snowy = np.zeros(len(units))
    if snow > 0:
        crowns = cover[:, TREE : TREE + 1] * ENDMEMBERS[TREE].astype(np.float64)
        ground = np.where(units.kind == WATERBODY, 0.0, 1.0 - cover[:, TREE])
        snowy = snow * ground
        refl = crowns + (1 - snow * (units.kind != WATERBODY))[:, None] * (refl - crowns)
        refl += snowy[:, None] * SNOW
    return refl * units.bright[:, None], snowy

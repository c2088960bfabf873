"""Land units of plots and prior plots, the fine unit raster and the sparse mixing matrix."""

from __future__ import annotations

import datetime as dt

import numpy as np
from rasterio import features
from scipy import sparse

from pipeline.demo.grid import Grid
from pipeline.demo.landscape import Background
from pipeline.demo.plots import SPECIES, Plot, Prior, draw_land
from pipeline.demo.presets import WorldSpec
from pipeline.demo.species import CLEAN_HERB_CAP, SPECIES_TRAITS
from pipeline.demo.spectra import (
    CROPLAND,
    FOREST,
    RESIDUAL_TREE,
    SHRUB,
    UNIT_DEFAULTS,
    UnitTable,
)

CLOSURE_RATE = 0.03  # shrub cover gained per year under hill closure (以封代造)
#: Starting land other than shrub: tree0 range, soil0 range (the rest is herbaceous).
NATURAL_LAND = {
    "bare": (0.0, 0.04, 0.75, 0.9),  # 荒山荒地 / 裸地: thin grass on bare ground
    "grass": (0.0, 0.03, 0.05, 0.12),
    "sparse": (0.3, 0.45, 0.04, 0.1),  # 疏林地: site preparation spares the standing trees
    # old 油茶 orchard: evergreen rows, clean-cultivated bare soil between them, few weeds
    "orchard": (0.3, 0.42, 0.55, 0.7),
    "bamboo": (0.88, 0.94, 0.01, 0.03),  # 毛竹 stand: dense evergreen culms and leaves
}
#: Herb share of the ground kept by tending after planting, per starting land.
HERB_CAP = {"bare": (0.15, 0.3)}


def to_day(d: dt.date | None) -> float:
    """Days since 1970-01-01 (inf for None)."""
    return float((d - dt.date(1970, 1, 1)).days) if d is not None else np.inf


def _natural_unit(rng: np.random.Generator, base: str, closure: bool = False) -> dict:
    if base == "forest":
        return {"kind": FOREST, "tree0": rng.uniform(0.86, 0.94), "soil0": rng.uniform(0.01, 0.03)}
    if base == "crop":
        return {"kind": CROPLAND, "tree0": 0.0, "soil0": 0.0}
    if base in NATURAL_LAND:
        lo_t, hi_t, lo_s, hi_s = NATURAL_LAND[base]
        tree0 = rng.uniform(lo_t, hi_t)
        return {
            "kind": FOREST if base == "bamboo" else SHRUB,
            "tree0": tree0,
            "soil0": rng.uniform(lo_s, hi_s),
            "rate": CLOSURE_RATE if closure else 0.0,
            "resid": max(0.03, 0.9 * tree0) if base == "sparse" else 0.03,
        }
    return {
        "kind": SHRUB,
        "tree0": rng.uniform(0.15, 0.25),
        "soil0": rng.uniform(0.06, 0.12),
        "rate": CLOSURE_RATE if closure else 0.0,
    }


def _herb_cap(plot: Plot) -> tuple[float, float]:
    """Range of the herb share kept by tending: clean-cultivated species keep bare rows."""
    traits = SPECIES_TRAITS.get(plot.species)
    if traits is not None and traits.clean:
        return CLEAN_HERB_CAP
    return HERB_CAP.get(plot.base, (0.55, 0.68))


def _plot_unit(rng: np.random.Generator, plot: Plot) -> dict:
    unit = _natural_unit(rng, plot.base, plot.closure)
    unit |= {"phase": rng.uniform(-10, 10), "bright": rng.uniform(0.97, 1.03)}
    if plot.planted:
        unit |= {
            "prep": to_day(plot.prep),
            "plant": to_day(plot.plant),
            "grow": plot.grow_days,
            "fmax": plot.fmax,
            "herb_cap": rng.uniform(*_herb_cap(plot)),
            "loss": to_day(plot.loss),
        }
        plot.herb_cap = float(unit["herb_cap"])
        resid = float(unit.get("resid", RESIDUAL_TREE))
        plot.spared = resid if resid > RESIDUAL_TREE else 0.0
    return unit


def _prior_unit(rng: np.random.Generator, prior: Prior) -> dict:
    prep = prior.plant - dt.timedelta(days=int(rng.integers(0, 61)))
    return _natural_unit(rng, "shrub") | {
        "phase": rng.uniform(-10, 10),
        "prep": to_day(prep),
        "plant": to_day(prior.plant),
        "grow": SPECIES[prior.species][0] * 365.25 * rng.uniform(0.85, 1.15),
        "fmax": 0.85 * rng.uniform(0.85, 1.1),
        "herb_cap": rng.uniform(0.55, 0.68),
    }


def build_units(
    grid: Grid,
    bg: Background,
    plots: list[Plot],
    priors: list[Prior],
    rng: np.random.Generator,
) -> tuple[UnitTable, np.ndarray]:
    """All land units and the fine unit raster (int32, dims fine rows × fine cols).

    Priors are burnt first, then plots in reverse placement order so that the first
    plot of an overlapping pair owns the shared ground."""
    rows: list[dict] = []
    shapes = []
    for prior in priors:
        shapes.append((prior.geom, len(bg.units) + len(rows)))
        rows.append(_prior_unit(rng, prior))
    for plot in reversed(plots):
        if plot.land is None:
            continue
        if plot.planted_part is not None:
            shapes.append((plot.land, len(bg.units) + len(rows)))
            rows.append(_natural_unit(rng, plot.base) | {"phase": rng.uniform(-10, 10)})
            shapes.append((plot.planted_part, len(bg.units) + len(rows)))
        else:
            shapes.append((plot.land, len(bg.units) + len(rows)))
        rows.append(_plot_unit(rng, plot))
    names = sorted({k for r in rows for k in r})
    extra = UnitTable.make(
        len(rows), **{k: np.array([r.get(k, UNIT_DEFAULTS[k]) for r in rows]) for k in names}
    )
    units = UnitTable.concat([bg.units, extra])
    label = bg.unit.copy()
    if shapes:
        burned = features.rasterize(
            [(g, v + 1) for g, v in shapes],
            grid.fine_shape,
            transform=grid.fine_transform,
            fill=0,
            dtype=np.int32,
        )
        label = np.where(burned > 0, burned - 1, label).astype(np.int32)
    return units, label


def build_mixing(grid: Grid, label: np.ndarray, n_units: int) -> sparse.csr_matrix:
    """Area fractions of each unit in each 10 m pixel, dims (pixels, units), rows sum to 1."""
    sub = grid.sub
    frows, fcols = grid.fine_shape
    pix = (np.arange(frows)[:, None] // sub) * grid.cols + (np.arange(fcols)[None, :] // sub)
    weights = np.full(label.size, 1.0 / sub**2, dtype=np.float32)
    return sparse.csr_matrix(
        (weights, (pix.ravel(), label.ravel())), shape=(grid.rows * grid.cols, n_units)
    )


def shape_land(spec: WorldSpec, bg: Background, units: UnitTable, seed: int) -> None:
    """Apply the world's land mix and climate to the units (in place; nothing for a
    southern shrub-hill world, so the classic presets stay byte-identical).

    Background shrub/grass patches take the starting land classes of the mix (from their own
    random stream); in the north all natural tree cover is deciduous."""
    if spec.climate == "north":
        units.decid[:] = np.isin(units.kind, (FOREST, SHRUB)).astype(float)
    if spec.land_mix == (("shrub", 1.0),):
        return
    rng = np.random.default_rng([int(seed), 20250101, 11])
    n_bg = len(bg.units)
    hills = np.flatnonzero((bg.units.kind == SHRUB) & (bg.units.tree0 > 0.1))
    natural = {k: v for k, v in NATURAL_LAND.items()}
    for i in hills:
        land = draw_land(rng, spec.land_mix)
        if land in natural:
            lo_t, hi_t, lo_s, hi_s = natural[land]
            units.tree0[i] = rng.uniform(lo_t, hi_t)
            units.soil0[i] = rng.uniform(lo_s, hi_s)
    assert n_bg <= len(units)

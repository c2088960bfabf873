"""Plot scenarios: placement order, per-plot land dynamics and the prior-year plots."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import shapely
from shapely import affinity

from pipeline.demo.landscape import Background
from pipeline.demo.placement import MARGIN, PlacementError, Placer
from pipeline.demo.presets import GENUINE, MU_M2, PAIRED_SCENARIOS, WorldSpec
from pipeline.demo.shapes import (
    add_hole,
    cut_polygon,
    make_bowtie,
    make_multipolygon,
    make_star_polygon,
)
from pipeline.demo.species import SPECIES_TRAITS
from pipeline.errors import TushuError

#: Species name -> years to reach full cover, and its share among plantings.
SPECIES = {"杉木": (4.0, 0.4), "马尾松": (5.0, 0.25), "桉树": (2.5, 0.2), "木荷": (4.0, 0.15)}
#: The same for the north (evergreen conifers, slower growth).
SPECIES_NORTH = {"油松": (5.0, 0.45), "侧柏": (5.5, 0.3), "樟子松": (4.5, 0.25)}
#: Share of the planted trees alive on a LOW_SURVIVAL plot (its canopy is this share of an
#: honest planting's).
LOW_SURVIVAL_SHARE = 0.2
PLANTED_SCENARIOS = (
    "LOW_SURVIVAL", "PARTIAL_PLANTING", "VEGETATION_LOSS", "INSUFFICIENT_DATA",
)  # fmt: skip
#: Autumn-planted plots of these scenarios are planted in the autumn before their year (their
#: survival, loss or cloud-trap story needs the time).
EARLY_SCENARIOS = ("LOW_SURVIVAL", "VEGETATION_LOSS", "INSUFFICIENT_DATA")
#: Scenarios whose plots may lie on bamboo (a claim on a standing bamboo stand is relabelled
#: PRE_EXISTING_FOREST); the others draw their land from the mix without bamboo.
BAMBOO_SCENARIOS = (GENUINE, "NO_PLANTING_EVIDENCE")


@dataclass
class Plot:
    """One reported plot: its true land dynamics and what ends up in the attribute table."""

    scenario: str
    land: shapely.Geometry | None  # valid footprint (UTM); PARTIAL: the whole plot
    geom: shapely.Geometry | None = None  # as reported (may be invalid or None)
    planted_part: shapely.Geometry | None = None  # PARTIAL: prepared and planted part
    base: str = "shrub"  # land before planting: forest or one of presets.LAND_CLASSES
    planted: bool = True
    design: bool = False
    closure: bool = False
    year: int = 2022
    species: str = "杉木"
    plant: dt.date | None = None
    prep: dt.date | None = None
    loss: dt.date | None = None
    grow_days: float = 1460.0
    fmax: float = 0.85
    share: float = 1.0
    pair: int = -1  # index of the partner row (DUPLICATE_ID, OVERLAP)
    county: int = 0  # county the plot lies in
    missing: str = ""  # attribute left empty (MISSING_ATTRIBUTE)
    bowtie: bool = False
    # drawn with the plot's land unit (units.build_units), read by the truth (visibility.py):
    herb_cap: float = 0.6  # herb share of the ground kept by tending
    spared: float = 0.0  # standing tree cover site preparation keeps (sparse forest)


@dataclass
class Prior:
    """A prior-year plot (rendered as a young plantation)."""

    geom: shapely.Geometry
    year: int
    county: int
    plant: dt.date
    species: str


def _draw_planting(rng: np.random.Generator, plot: Plot, spec: WorldSpec) -> None:
    """Planting and site-preparation dates and growth parameters of a plot."""
    autumn = spec.planting_season == "autumn"
    if spec.planting_season == "mixed":
        autumn = bool(rng.random() < 0.5)
    if autumn:  # 秋冬造林: Oct–Dec of Y−1 (counted in year Y) or of Y itself
        early = plot.scenario in EARLY_SCENARIOS or rng.random() < 0.5
        start = dt.date(plot.year - 1 if early else plot.year, 10, 1)
        plot.plant = start + dt.timedelta(days=int(rng.integers(0, 92)))
    else:
        plot.plant = dt.date(plot.year, 1, 1) + dt.timedelta(days=int(rng.integers(0, 120)))
    plot.prep = plot.plant - dt.timedelta(days=int(rng.integers(0, 61)))
    if spec.species_mix:
        traits = SPECIES_TRAITS[plot.species]
        plot.grow_days = traits.years * 365.25 * rng.uniform(0.85, 1.15)
        plot.fmax = min(0.95, traits.closure * rng.uniform(0.9, 1.1))
        return
    years = {**SPECIES, **SPECIES_NORTH}[plot.species][0]
    plot.grow_days = years * 365.25 * rng.uniform(0.85, 1.15)
    plot.fmax = min(0.92, 0.85 * rng.uniform(0.85, 1.15))


def _draw_species(
    rng: np.random.Generator, climate: str = "south", mix: tuple[tuple[str, float], ...] = ()
) -> str:
    """A planted species: from the world's ``species_mix`` or the climate's classic table."""
    if mix:
        names, p = [m[0] for m in mix], np.array([m[1] for m in mix], dtype=float)
        return names[int(rng.choice(len(names), p=p / p.sum()))]
    table = SPECIES_NORTH if climate == "north" else SPECIES
    names = list(table)
    p = np.array([table[n][1] for n in names])
    return names[int(rng.choice(len(names), p=p / p.sum()))]


def _draw_area(rng: np.random.Generator, lo: float, hi: float) -> float:
    """Log-uniform area, m², from a range in 亩."""
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi)))) * MU_M2


def plan_plots(spec: WorldSpec, rng: np.random.Generator) -> list[Plot]:
    """One unplaced Plot per row with scenario, year, species and dynamics drawn."""
    plots: list[Plot] = []
    first = spec.planting_years[0]
    years = spec.planting_years
    for scenario, n in spec.counts:
        offset = int(rng.integers(len(years)))  # years alternate: about half each
        for k in range(n):
            p = Plot(scenario, None, species=_draw_species(rng, spec.climate, spec.species_mix))
            slot = k // 2 if scenario in PAIRED_SCENARIOS else k
            p.year = years[(slot + offset) % len(years)]
            if scenario in ("LOW_SURVIVAL", "INSUFFICIENT_DATA"):
                p.year = first
            if scenario == GENUINE and k < spec.n_design:
                p.planted, p.design, p.share = False, True, 0.0
            elif scenario == "PRE_EXISTING_FOREST":
                p.planted, p.base, p.share = False, "forest", 0.0
            elif scenario == "NO_PLANTING_EVIDENCE":
                p.planted, p.share, p.closure = False, 0.0, k < spec.n_closure
            elif scenario == "RESTRICTED_LAND":
                p.base = "crop"
            elif scenario in ("DUPLICATE_ID", "OVERLAP"):
                p.pair = len(plots) + (1 if k % 2 == 0 else -1)
            elif scenario == "MISSING_ATTRIBUTE":
                p.missing = ("造林年度", "上报面积", "县")[k % 3]
            elif scenario == "INVALID_GEOMETRY":
                p.bowtie = not (k == n - 1 and n >= 2)
            _draw_planting(rng, p, spec)
            if not p.planted:
                p.prep = p.plant = None
            if scenario == "LOW_SURVIVAL":
                p.fmax *= LOW_SURVIVAL_SHARE
            elif scenario == "VEGETATION_LOSS":
                p.share = 0.0
                window = {y: (a, b) for y, a, b in spec.loss_windows}[p.year]
                a, b = (dt.date.fromisoformat(s) for s in window)
                p.loss = a + dt.timedelta(days=int(rng.integers(0, (b - a).days + 1)))
            if p.base == "shrub":
                mix = spec.land_mix
                if scenario not in BAMBOO_SCENARIOS:
                    mix = tuple(m for m in mix if m[0] != "bamboo")
                p.base = draw_land(rng, mix)
            _apply_land(rng, p, spec)
            plots.append(p)
    return plots


def _apply_land(rng: np.random.Generator, p: Plot, spec: WorldSpec) -> None:
    """Bamboo worlds: half the forest plots lie on bamboo; a genuine or unplanted claim on a
    bamboo stand is a claim on forest-like cover, so a perfect checker reports
    PRE_EXISTING_FOREST (the stand stays)."""
    if p.scenario == "PRE_EXISTING_FOREST" and "bamboo" in dict(spec.land_mix):
        p.base = "bamboo" if rng.random() < 0.5 else "forest"
    if p.base == "bamboo" and p.scenario in BAMBOO_SCENARIOS:
        p.scenario, p.planted, p.share, p.closure = "PRE_EXISTING_FOREST", False, 0.0, False
        p.prep = p.plant = None


def draw_land(rng: np.random.Generator, mix: tuple[tuple[str, float], ...]) -> str:
    """A starting land class from the world's mix (no draw when the mix has one class)."""
    if len(mix) == 1:
        return mix[0][0]
    w = np.array([m[1] for m in mix], dtype=float)
    return mix[int(rng.choice(len(mix), p=w / w.sum()))][0]


def _shape_maker(rng: np.random.Generator, kind: str):
    def make(center: tuple[float, float], area: float) -> shapely.Geometry | None:
        if kind == "multi":
            return make_multipolygon(rng, center, area)
        poly = make_star_polygon(rng, center, area, int(rng.integers(5, 13)))
        if kind == "hole":
            return add_hole(rng, poly)
        return poly

    return make


def _place_with_retry(
    placer: Placer, rng, target: str, area: float, kind: str = "simple", **kw
) -> shapely.Geometry:
    """Place a plot, shrinking it (never below 5 亩) when the land is crowded."""
    floor = min(area, 5.0 * MU_M2)
    for shrink in (1.0, 0.8, 0.6, 0.45):
        try:
            size = max(area * shrink, floor)
            return placer.place(rng, target, size, _shape_maker(rng, kind), **kw)
        except PlacementError:
            continue
    raise PlacementError(f"demo world too crowded: cannot place a {target} plot")


def place_plots(
    spec: WorldSpec, bg: Background, placer: Placer, plots: list[Plot], rng: np.random.Generator
) -> list[Prior]:
    """Locate every plot (sets land/geom/county) and create the prior-year layer."""
    priors: list[Prior] = []
    small = (max(spec.plot_mu[0], 5.0), min(spec.plot_mu[1], 40.0))
    for _ in range(spec.n_prior_other):
        geom = _place_with_retry(placer, rng, "hill", _draw_area(rng, *small))
        placer.add(geom, prior=True)
        priors.append(_make_prior(rng, geom, bg))
    order = {"INSUFFICIENT_DATA": 0, "RESTRICTED_LAND": 1, "PRE_EXISTING_FOREST": 2}
    order |= {"OVERLAP": 3, "DUPLICATE_PRIOR": 4, "DUPLICATE_ID": 5}
    areas = [_draw_area(rng, *spec.plot_mu) for _ in plots]
    for i, p in enumerate(plots):
        if p.scenario == "TOO_SMALL":
            # a claim rounded to 0.1 亩 stays within 2 % of such a tiny area
            areas[i] = round(rng.uniform(0.4, 0.9), 1) * MU_M2 * rng.uniform(0.997, 1.003)
        elif p.scenario == "RESTRICTED_LAND":
            areas[i] = _draw_area(rng, spec.plot_mu[0], min(spec.plot_mu[1], 15.0))
        elif p.scenario == "INSUFFICIENT_DATA":
            room = 0.15 * bg.trap.area / MU_M2
            areas[i] = _draw_area(
                rng, spec.plot_mu[0], max(spec.plot_mu[0], min(spec.plot_mu[1], room))
            )
    idx = sorted(range(len(plots)), key=lambda i: (order.get(plots[i].scenario, 9), -areas[i]))
    genuine = [i for i in idx if plots[i].scenario == GENUINE and not plots[i].design]
    holes = set(genuine[: spec.n_holes])
    multis = set(genuine[spec.n_holes : spec.n_holes + spec.n_multi])
    for i in idx:
        p = plots[i]
        if p.land is not None or (p.scenario == "INVALID_GEOMETRY" and not p.bowtie):
            continue  # already placed as a partner, or the null-geometry row
        target = {"INSUFFICIENT_DATA": "trap", "RESTRICTED_LAND": "crop"}.get(p.scenario)
        target = target or ("forest" if p.base == "forest" else "shrub")
        kind = "hole" if i in holes else "multi" if i in multis else "simple"
        p.land = _place_with_retry(placer, rng, target, areas[i], kind)
        p.county = bg.county_at(p.land)
        placer.add(p.land)
        if p.scenario == "OVERLAP":
            q = plots[p.pair]
            q.land = _place_overlap(placer, rng, p.land)
            q.county = bg.county_at(q.land)
            placer.add(q.land)
        elif p.scenario == "DUPLICATE_ID":
            q = plots[p.pair]
            q.land = _place_with_retry(placer, rng, "shrub", areas[p.pair], county=p.county)
            q.county = p.county
            placer.add(q.land)
        elif p.scenario == "DUPLICATE_PRIOR":
            prior = _derive_prior(rng, p.land)
            placer.add(prior, prior=True)
            priors.append(_make_prior(rng, prior, bg))
        if p.scenario == "PARTIAL_PLANTING":
            p.planted_part, p.share = _cut_partial(rng, p.land)
    for p in plots:
        p.geom = make_bowtie(p.land) if p.bowtie else p.land
    return priors


def _place_overlap(
    placer: Placer, rng: np.random.Generator, a: shapely.Geometry
) -> shapely.Geometry:
    """A second plot overlapping `a` by 25–60 % of the smaller of the two."""
    ca = a.centroid
    for _ in range(400):
        area = max(a.area * rng.uniform(0.6, 1.4), 4.0 * MU_M2)
        ang, dist = rng.uniform(0, 2 * np.pi), rng.uniform(0.3, 1.0) * np.sqrt(a.area / np.pi)
        center = (ca.x + dist * np.cos(ang), ca.y + dist * np.sin(ang))
        b = make_star_polygon(rng, center, area, int(rng.integers(5, 13)))
        frac = a.intersection(b).area / min(a.area, b.area)
        if 0.25 <= frac <= 0.6 and placer.check(b, "shrub", partner=a):
            return b
    raise PlacementError("demo world: cannot place an overlapping plot")


def _derive_prior(rng: np.random.Generator, plot: shapely.Geometry) -> shapely.Geometry:
    """A prior-year polygon ≥ 85 % covered by the plot (re-reported ground)."""
    c = plot.centroid
    for _ in range(100):
        k = rng.uniform(0.85, 0.97)
        prior = affinity.scale(plot, k, k, origin=c)
        prior = affinity.rotate(prior, rng.uniform(-6, 6), origin=c)
        prior = affinity.translate(prior, *rng.uniform(-4, 4, 2))
        if prior.is_valid and plot.intersection(prior).area >= 0.85 * prior.area:
            return prior
    raise TushuError("demo world: cannot derive a prior polygon; try another seed")


def _cut_partial(
    rng: np.random.Generator, land: shapely.Geometry
) -> tuple[shapely.Geometry, float]:
    """Contiguous planted part of 30–55 % of a plot, cut by a straight line."""
    for _ in range(50):
        share = rng.uniform(0.3, 0.55)
        part, _rest = cut_polygon(land, share, rng.uniform(0, 2 * np.pi))
        if isinstance(part, shapely.Polygon) and part.area > 0:
            return part, part.area / land.area
    raise TushuError("demo world: cannot cut a partial planting; try another seed")


def _make_prior(rng: np.random.Generator, geom: shapely.Geometry, bg: Background) -> Prior:
    year = int(rng.choice([2019, 2020]))
    plant = dt.date(year, 1, 1) + dt.timedelta(days=int(rng.integers(0, 120)))
    return Prior(geom, year, bg.county_at(geom), plant, _draw_species(rng))


def check_truth(plots: list[Plot], priors: list[Prior], bg: Background) -> None:
    """Assert the spacing promises of the contract (raises TushuError if broken)."""
    lands = [(i, p.land) for i, p in enumerate(plots) if p.land is not None]
    farm = shapely.union_all([g for g, _ in bg.farmland])
    for i, g in lands:
        p = plots[i]
        for j, h in lands:
            if j != i and not (p.scenario == "OVERLAP" and j == p.pair):
                if g.distance(h) < MARGIN - 1e-6:
                    raise TushuError(f"demo world: plots {i} and {j} are too close")
        if p.scenario != "DUPLICATE_PRIOR" and any(
            g.distance(q.geom) < MARGIN - 1e-6 for q in priors
        ):
            raise TushuError(f"demo world: plot {i} touches a prior plot")
        if p.scenario != "RESTRICTED_LAND" and g.distance(farm) < MARGIN - 1e-6:
            raise TushuError(f"demo world: plot {i} touches farmland")

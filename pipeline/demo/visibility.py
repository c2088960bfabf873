"""What 10 m imagery can show of a genuine planting by the end of a world: its expected verdict.

A perfect checker reports what the imagery can settle. Seedlings are far smaller than a pixel
(domain primer: "in years 0–2 Sentinel-2 cannot count survival"); a planting shows either by
its site preparation (green cover cleared around the planting date) or, later, by its canopy.
A genuine planting that shows neither by the last dry season of the imagery cannot be told
from an unplanted claim, so the truth names the outcome the checker must give it:
ESTABLISHMENT_NOT_YET_VISIBLE (suspect: a verifier visits), not a silent pass.

The rule reads the generator's own physics, never a plot's result:

- *clearing*: the green cover site preparation removes — the land class's largest vegetated
  share (1 − its least bare soil) minus the herbs left just after preparation
  (:data:`~pipeline.demo.spectra.HERB_AFTER_PREP`); on sparse forest the standing trees are
  spared (only the herbs between them go). Below :data:`VISIBLE_CLEARING` of the ground the
  clearing itself hardly shows: bare hills (荒山荒地: ≤ 13 %) and clean-cultivated orchards
  (油茶 rows on bare soil: ≤ 33 %, an NDVI drop of only 0.05–0.11) stay below, shrub, grass,
  sparse-forest gaps and cropland far above. On such land a *spring* site work still shows in
  its first growing season (the prepared ground greens up later than the herbs around it),
  but after site work in October–December (秋冬造林: :data:`AUTUMN_MONTHS`) the few herbs have
  regrown (τ ≈ 76 days) before the next growing season, so nothing shows;
- *canopy*: the planted tree cover by the last dry-season day of the imagery, ``fmax · (t /
  grow) ** 1.5`` as :func:`~pipeline.demo.spectra.compute_cover` grows it (for that plot's own
  draws of growth time and closure). Below :data:`VISIBLE_CANOPY` it does not show: young
  crowns over bare ground raise NDVI by ≈ 0.7 per unit of cover, and the establishment the
  method is documented to need (``establish_rise``: 0.25 of a forest–open contrast of
  ≈ 0.4 NDVI, i.e. ≈ 0.1 NDVI) takes ≈ 0.14 of the ground.

The constants were set from that physics, then checked against the plots of the multi-world
evaluation (the five genuine autumn plantings of 2023 on bare and orchard land in
``south-autumn`` fall under them; no genuine plot of the other worlds does).

Worlds of shrub hills (``default``, ``tiny``) have visible clearing everywhere: the rule never
fires there. Only genuine plots are relabelled (their scenario stays GENUINE); the evaluation
reports them in a column of their own.
"""

from __future__ import annotations

import datetime as dt
import math

from pipeline.demo.plots import LOW_SURVIVAL_SHARE, Plot
from pipeline.demo.spectra import (
    HERB_AFTER_PREP,
    HERB_TAU,
    LOSS_HERB_START,
    LOSS_TREE,
    RESIDUAL_TREE,
    compute_planted_tree,
)
from pipeline.demo.units import NATURAL_LAND

NOT_YET_VISIBLE = "ESTABLISHMENT_NOT_YET_VISIBLE"
#: Share of the ground whose green cover site preparation must remove to show at 10 m.
VISIBLE_CLEARING = 0.4
#: Planted tree cover (share of the ground) that shows as establishment at 10 m.
VISIBLE_CANOPY = 0.14
#: Months of site work after which nothing shows on land with little green cover to clear.
AUTUMN_MONTHS = (10, 11, 12)
#: Months of the dry season / winter in which establishment is read (as ``Evidence``).
DRY_MONTHS = (11, 12, 1, 2, 3)
#: Green cover of the starting land classes the generator draws outside NATURAL_LAND.
FULL_COVER = {"shrub": 0.94, "crop": 1.0}


def cleared_cover(land: str) -> float:
    """Largest share of the ground whose green cover site preparation removes on ``land``."""
    if land in NATURAL_LAND:
        lo_t, hi_t, lo_s, _hi_s = NATURAL_LAND[land]
        vegetated = 1.0 - lo_s
        if land == "sparse":  # site preparation spares the standing trees
            vegetated -= 0.9 * lo_t
        return vegetated - HERB_AFTER_PREP
    return FULL_COVER.get(land, 1.0) - HERB_AFTER_PREP


def last_dry_day(end: dt.date) -> dt.date:
    """The last day on or before ``end`` in a dry-season month."""
    day = end
    while day.month not in DRY_MONTHS:
        day = day.replace(day=1) - dt.timedelta(days=1)
    return day


def canopy_at(plant: dt.date, grow_days: float, fmax: float, day: dt.date) -> float:
    """Planted tree cover on ``day`` (share of the ground), as the generator grows it."""
    since = (day - plant).days
    return fmax * min(max(since / grow_days, 0.0), 1.0) ** 1.5


def expected_reasons(
    scenario: str,
    land: str,
    prep: dt.date | None,
    plant: dt.date | None,
    grow_days: float,
    fmax: float,
    end: dt.date,
) -> str:
    """The truth's reasons for a plot: ESTABLISHMENT_NOT_YET_VISIBLE for a genuine planting
    whose site work (``prep``) and canopy both stay below what 10 m imagery shows by ``end``
    (the last imagery date), else the scenario's own ('' for genuine)."""
    own = "" if scenario == "GENUINE" else scenario
    if scenario != "GENUINE" or plant is None or prep is None:
        return own
    if cleared_cover(land) >= VISIBLE_CLEARING or prep.month not in AUTUMN_MONTHS:
        return own
    if canopy_at(plant, grow_days, fmax, last_dry_day(end)) >= VISIBLE_CANOPY:
        return own
    return NOT_YET_VISIBLE


# Felled and low-survival plantings: what the imagery can show of them (the truth of the
# VEGETATION_LOSS and LOW_SURVIVAL scenarios). Both read canopy the imagery may or may not show:
# a felling removes what establishment added, a low-survival plot lacks the crowns of the dead
# trees that an honest planting of its cohort shows. So both use the one level of canopy that
# shows at 10 m, :data:`VISIBLE_CANOPY` (≈ 0.1 NDVI, the establishment step the method is
# documented to need); a smaller change stays inside the spread of honest peers of one cohort
# (closure and growth time each ± 15 %, herbs, brightness). A level of 0.2 was considered and
# set aside: it would call invisible the northern low-survival plots with gaps of 0.14–0.16
# that the checker does find on three worlds (10 of 12).

#: Tree cover (share of the ground) a felling or fire must remove to show as a loss in every
#: season: an evergreen canopy of at least this much (spared trees on sparse forest included).
#: Below it the felling shows only if it also clears the herbs between the crowns
#: (:data:`VISIBLE_CLEARING` of green cover in all, as site work must): on shrub, grass and
#: crop land it does, on bare hills and clean-cultivated rows (herbs 0.08–0.3) it does not.
VISIBLE_LOSS_CANOPY = VISIBLE_CANOPY
#: Gap in tree cover (share of the ground) between an honest planting and a low-survival (or
#: felled) one in the last dry season the imagery sees clear, for LOW_SURVIVAL to show (canopy
#: of ``plot.fmax / LOW_SURVIVAL_SHARE`` against the plot's own). Slow species ~2 years after
#: planting (pines, Schima) and plantings in the gaps of sparse forest (the gap shrinks by the
#: spared share) can stay below it: ESTABLISHMENT_NOT_YET_VISIBLE.
VISIBLE_SURVIVAL_GAP = VISIBLE_CANOPY
#: Day (month, day) at the middle of a whole dry season (Nov–Mar): its mean canopy is read there.
SEASON_MIDDLE = (1, 15)


def season_reading_day(end: dt.date, north: bool = False) -> dt.date:
    """The day whose canopy stands for the last dry season (Nov–Mar) the imagery ending on
    ``end`` sees clear: the middle of its part inside the imagery; in the north a season the
    imagery cuts off after its Nov–Dec is skipped (those months lie mostly under snow, only a
    whole season is read) for the middle of the last whole one."""
    whole = dt.date(
        end.year if end >= dt.date(end.year, DRY_MONTHS[-1], 31) else end.year - 1, *SEASON_MIDDLE
    )
    if end.month in DRY_MONTHS[:2] and not north:  # Nov-Dec of a season cut by the end
        begin = dt.date(end.year, DRY_MONTHS[0], 1)
        return begin + (end - begin) / 2
    if end.month in DRY_MONTHS[2:]:  # Jan-Mar: the season's part up to the end
        begin = dt.date(end.year - 1, DRY_MONTHS[0], 1)
        return begin + (end - begin) / 2
    return whole


def tree_cover_at(plot: Plot, day: dt.date, fmax: float | None = None) -> float:
    """Tree cover of a planted plot on ``day`` (no felling), share of the ground, as
    :func:`~pipeline.demo.spectra.compute_planted_tree` grows it (``fmax``: another closure)."""
    closure = plot.fmax if fmax is None else fmax
    planted = canopy_at(plot.plant, plot.grow_days, closure, day)
    return float(compute_planted_tree(planted, plot.spared or RESIDUAL_TREE))


def herbs_at(plot: Plot, day: dt.date) -> float:
    """Herb share of the open ground of a planted plot on ``day`` (tending regrowth)."""
    since = max((day - plot.plant).days, 0)
    return HERB_AFTER_PREP + (plot.herb_cap - HERB_AFTER_PREP) * (1.0 - math.exp(-since / HERB_TAU))


def loss_shows(plot: Plot) -> bool:
    """Whether the felling of ``plot`` shows: it removes at least :data:`VISIBLE_LOSS_CANOPY`
    of tree cover, or at least :data:`VISIBLE_CLEARING` of green cover (crowns and herbs)."""
    tree = tree_cover_at(plot, plot.loss)
    before = tree + (1.0 - tree) * herbs_at(plot, plot.loss)
    after = LOSS_TREE + (1.0 - LOSS_TREE) * LOSS_HERB_START
    return tree - LOSS_TREE >= VISIBLE_LOSS_CANOPY or before - after >= VISIBLE_CLEARING


def survival_gap(plot: Plot, end: dt.date, north: bool = False) -> float:
    """Tree cover an honest planting of ``plot`` has over ``plot`` itself in the last dry
    season the imagery sees clear (on :func:`season_reading_day`; share of the ground):
    LOW_SURVIVAL plots carry :data:`~pipeline.demo.plots.LOW_SURVIVAL_SHARE` of the honest
    closure; a plot felled before that day keeps only stumps."""
    day = season_reading_day(end, north)
    if plot.scenario == "LOW_SURVIVAL":
        honest = tree_cover_at(plot, day, plot.fmax / LOW_SURVIVAL_SHARE)
        return honest - tree_cover_at(plot, day)
    honest = tree_cover_at(plot, day)
    return honest - LOSS_TREE if plot.loss is not None and plot.loss <= day else 0.0


def truth_reasons(plot: Plot, end: dt.date, north: bool = False) -> str:
    """The truth's reasons of a (non-design) plot by what imagery ending on ``end`` can show
    (``north``: a northern world, snowy winters):

    - VEGETATION_LOSS where the felling shows (:func:`loss_shows`); a felled planting that had
      not shown is what the imagery sees of it: LOW_SURVIVAL where its gap to an honest
      planting in the last dry season the imagery sees clear reaches
      :data:`VISIBLE_SURVIVAL_GAP`, else ESTABLISHMENT_NOT_YET_VISIBLE;
    - LOW_SURVIVAL where that gap reaches :data:`VISIBLE_SURVIVAL_GAP`, else
      ESTABLISHMENT_NOT_YET_VISIBLE;
    - the others as :func:`expected_reasons`.

    The scenario stays; the evaluation reports the relabelled plots apart."""
    planted = plot.plant is not None
    if plot.scenario == "VEGETATION_LOSS" and planted and plot.loss is not None:
        if loss_shows(plot):
            return "VEGETATION_LOSS"
        return (
            "LOW_SURVIVAL"
            if survival_gap(plot, end, north) >= VISIBLE_SURVIVAL_GAP
            else NOT_YET_VISIBLE
        )
    if plot.scenario == "LOW_SURVIVAL" and planted:
        return (
            "LOW_SURVIVAL"
            if survival_gap(plot, end, north) >= VISIBLE_SURVIVAL_GAP
            else NOT_YET_VISIBLE
        )
    return expected_reasons(
        plot.scenario, plot.base, plot.prep, plot.plant, plot.grow_days, plot.fmax, end
    )

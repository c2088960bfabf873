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

from pipeline.demo.spectra import HERB_AFTER_PREP
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

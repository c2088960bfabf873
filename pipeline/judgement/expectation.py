"""Grounds for NO_PLANTING_EVIDENCE: what the imagery should show by now if the plot were planted.

No site preparation and no establishment refute a planting only where one of them was to be
expected. On bare hills (荒山荒地) there is nothing to clear, and a slow species (马尾松, 木荷,
a weeded 油茶 orchard) shows no evergreen rise for years: 1–2 years after planting the imagery
cannot tell such a planting from nothing, and the claim is *not yet settled* (suspect,
ESTABLISHMENT_NOT_YET_VISIBLE), not refuted. The grounds, each read in the same imagery:

- ``peer_clear_share``: the share of the plot's cohort (same planting year, not design stage,
  no forest baseline, never the plot itself) of similar starting land (baseline dry- and
  growing-season forest-likeness within ``peer_baseline_band``) whose plot-level site
  preparation passed the gates: land like this *was* cleared where it was planted;
- ``peer_establish_share``: the share of that cohort of the plot's growth class
  (:mod:`pipeline.judgement.growth`; every class where the plot's is unknown) that has
  established (``establish_rise`` at the gate) by now: plantings like this one *are* visible;
- ``years_after_planting``: the latest dry season with a level for the plot, minus the
  planting year: after ``establish_years`` any planting shows.

A share is NaN where fewer than ``min_peers`` cohort plots qualify (no expectation).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.config import Evidence
from pipeline.judgement.survival import within_band

EXPECTATION_COLUMNS = ("peer_clear_share", "peer_establish_share", "years_after_planting")


def planting_expectation(
    years: np.ndarray,
    candidates: np.ndarray,
    start_level: np.ndarray,
    cleared: np.ndarray,
    establish_rise: np.ndarray,
    group: np.ndarray,
    last_season: np.ndarray,
    ev: Evidence,
) -> pd.DataFrame:
    """The grounds per plot (columns :data:`EXPECTATION_COLUMNS`, positional rows).

    ``years``: planting year per plot (0: none); ``candidates``: plots that may be cohort
    peers (bool: not design stage, no forest baseline); ``start_level``: plots × 2 baseline
    dry / growing forest-likeness; ``cleared``: plot-level site preparation passed (bool);
    ``establish_rise``: change units (NaN: no season after the planting year yet);
    ``group``: growth class per plot (``""`` unknown); ``last_season``: label of the latest dry
    season with a level per plot (NaN: none).
    """
    n = len(years)
    clear_share = np.full(n, np.nan)
    est_share = np.full(n, np.nan)
    has_rise = np.isfinite(establish_rise)
    established = has_rise & (establish_rise >= ev.establish_rise)
    for i in np.flatnonzero(years > 0):
        near = candidates & (years == years[i]) & within_band(start_level, i, ev.peer_baseline_band)
        near[i] = False
        if near.sum() >= ev.min_peers:
            clear_share[i] = cleared[near].mean()
        alike = near & has_rise & ((group == group[i]) if group[i] else True)
        if alike.sum() >= ev.min_peers:
            est_share[i] = established[alike].mean()
    after = np.where(years > 0, last_season - years, np.nan)
    return pd.DataFrame(
        {
            "peer_clear_share": clear_share,
            "peer_establish_share": est_share,
            "years_after_planting": after,
        }
    )

"""Survival against the plot's nearest peers, over every due dry season since planting.

A low-survival plot gains less dry-season forest-likeness over its own same-month baseline than
plots planted the same year on the same kind of land. The yardstick of plot ``i`` in dry season
``k`` is the median gain of its ``survival_peers`` *nearest* peers in starting level (baseline
dry- and growing-season forest-likeness, a proxy for the same starting land class):

- peers are plots of the same planting year that show planting and no forest baseline
  (:func:`~pipeline.judgement.evidence.select_peers`; all such plots when the year has fewer
  than ``min_peers``), never the plot itself (with few peers of its land, a plot in its own
  yardstick hides half its gap), and not plots whose own loss break passed both gates (a
  plot felled after planting is no yardstick of survival);
- of the plot's growth class first (:mod:`pipeline.judgement.growth`: a slow pine beside
  fast eucalyptus is no low survival) where enough peers share it;
- the nearest, not all within a band: where bare, grass, shrub and cropland plots share a
  planting year, a band around a grass plot still takes in cropland and shrub plots, whose
  dry-season gains differ in kind;
- every dry season ``survival_min_years`` or more after the planting year with a gain
  counts, and ``survival_gap_mean`` is the mean of their gaps (one late, partly observed
  season no longer decides alone); ``survival_seasons`` is how many there were.

``survival_gap_growing`` is the same reading on the growing season (calendar years from
``survival_min_years`` after planting): where the dry season barely sets forest and open land
apart (northern deciduous landscapes, snow) the growing season still shows the canopy; it is a
model feature, the rule reads the dry season.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.config import Evidence
from pipeline.imagery.reference import GROWING_MONTHS, nanmedian
from pipeline.judgement.growth import same_class


def within_band(start_level: np.ndarray, i: int, band: float) -> np.ndarray:
    """Plots whose starting levels all lie within ``band`` of plot ``i``'s (a missing level
    does not count against), dims (plots,)."""
    return np.all(~(np.abs(start_level - start_level[i]) > band), 1)


def nearest_peers(start_level: np.ndarray, i: int, candidates: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` candidates (bool per plot) nearest plot ``i`` in starting level (dims plots ×
    2; a dimension missing on either side counts as 0 distance); fewer when fewer exist."""
    diff = np.abs(start_level - start_level[i])
    dist = np.sqrt(np.nansum(np.where(np.isfinite(diff), diff, 0.0) ** 2, 1))
    idx = np.flatnonzero(candidates)
    out = np.zeros(len(candidates), dtype=bool)
    out[idx[np.argsort(dist[idx], kind="stable")[:k]]] = True
    return out


def survival_gaps(
    seasons: dict[int, np.ndarray],
    years: np.ndarray,
    is_peer: np.ndarray,
    lost: np.ndarray,
    start_level: np.ndarray,
    ev: Evidence,
    group: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(``survival_gap_mean``, ``survival_seasons``) per plot (NaN / 0 where no season is due).

    ``seasons``: per dry season (label = year of its January) the plots' gain of forest-likeness
    over their same-month baseline in change units (dims plots); ``years``: planting year per
    plot (0: none); ``is_peer`` / ``lost``: bool per plot; ``start_level``: plots × 2 baseline
    dry / growing forest-likeness; ``group``: growth class per plot (``""`` unknown): peers of
    the plot's class where at least ``min_peers`` of them qualify
    (:func:`~pipeline.judgement.growth.same_class`).
    """
    n = len(years)
    total = np.zeros(n)
    count = np.zeros(n, dtype=int)
    usable = is_peer & ~lost
    band = ev.peer_baseline_band
    for i in np.flatnonzero(years > 0):
        cohort = usable & (years == years[i])
        pool = cohort if cohort.sum() - bool(cohort[i]) >= ev.min_peers else usable
        if group is not None:
            pool = same_class(group, i, pool, ev.min_peers)
        pool = pool.copy()
        pool[i] = False
        for k, gain in seasons.items():
            if k - years[i] < ev.survival_min_years or not np.isfinite(gain[i]):
                continue
            same_kind = pool & np.isfinite(gain) & within_band(start_level, i, band)
            near = nearest_peers(start_level, i, same_kind, ev.survival_peers)
            if near.sum() < 2:  # no yardstick of the plot's kind in this season
                continue
            total[i] += gain[i] - float(np.median(gain[near]))
            count[i] += 1
    mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return mean, count


def growing_levels(D: np.ndarray, dates: pd.DatetimeIndex, min_obs: int) -> dict[int, np.ndarray]:
    """Per calendar year: the plots' median of ``D`` (plots × dates, e.g. the gain over the
    same-month baseline) over the growing-season dates where ≥ ``min_obs``, else NaN."""
    grow = np.isin(dates.month, GROWING_MONTHS)
    out = {}
    for year in np.unique(dates.year[grow]):
        cols = grow & (dates.year == year)
        ok = np.isfinite(D[:, cols]).sum(1) >= min_obs
        level = nanmedian(np.where(ok[:, None], D[:, cols], np.nan), 1)
        out[int(year)] = np.where(ok, level, np.nan)
    return out

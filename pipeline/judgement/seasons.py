"""Dry seasons of a plot's series: which ones a judgement may read, the plot's levels in them and
what they show of establishment.

A dry season is labelled by the year of its January (``Evidence.winter_months``; the autumn
months belong to the next year's label). Only seasons the imagery spans whole are read for
survival; the planting year survival is read by is the season the trees went in. Arrays are
(plots,) or (plots × dates); levels in forest-likeness and changes in change units, as in
:mod:`pipeline.judgement.evidence`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.config import Evidence
from pipeline.imagery.reference import dry_season_label
from pipeline.judgement.peers import nanmedian, unique_rows


def survival_years(
    years: np.ndarray, late: np.ndarray, dated: np.ndarray, ev: Evidence
) -> np.ndarray:
    """The planting year survival is read by, per plot (0: none): the claimed year, or the
    next one where the trees went in only in the autumn of the claimed year (秋冬造林 of Y
    itself, still claimed as Y) — a plot whose site work shows only in the late prep months
    (``late``), and, where the imagery dates at least ``min_peers`` plots of the run there (the
    region plants in autumn), also a plot whose site work it cannot date at all (``dated``
    False: too little to clear on bare hills and orchards): it may be one of them, and its
    survival is not read before it can be due (the benefit of the doubt, as for establishment).
    """
    later = np.asarray(late, bool).copy()
    if later.sum() >= ev.min_peers:
        later |= ~np.asarray(dated, bool)
    return np.where(years > 0, years + later.astype(int), 0)


def whole_seasons(
    seasons: dict[int, np.ndarray], all_dates: pd.Series, ev: Evidence
) -> dict[int, np.ndarray]:
    """The dry seasons (label: year of its January) of ``seasons`` that lie entirely inside the
    imagery period (``all_dates``: every date of the series, clear or not), as
    :func:`count_coverage` counts them."""
    if all_dates.empty:
        return {}
    first, last = all_dates.min(), all_dates.max()
    months = sorted(ev.winter_months, key=lambda m: (m < 7, m))  # autumn months first
    out = {}
    for k, v in seasons.items():
        begin = pd.Timestamp(k - (months[0] >= 7), months[0], 1)
        stop = pd.Timestamp(k - (months[-1] >= 7), months[-1], 1) + pd.offsets.MonthEnd(0)
        if begin >= first.normalize() and stop <= last:
            out[k] = v
    return out


def last_season(levels: dict[int, np.ndarray], n: int) -> np.ndarray:
    """Per plot the label of the latest dry season with a level (NaN: none), dims plots."""
    last = np.full(n, np.nan)
    for k in sorted(levels):
        last = np.where(np.isfinite(levels[k]), float(k), last)
    return last


def count_coverage(
    out, valid, all_dates: pd.Series, dates, years, end, ev: Evidence, grown=None
) -> None:
    """Clear observations in each window a judgement needs, beyond the whole prep window:

    - ``n_planting_year_obs``: in the planting year's part of the prep window (1 January of Y
      to its end): without it, a few autumn scenes of Y−1 would "show" no site work;
    - ``n_survival_winter_obs``: survival is read on the latest dry season with enough clear
      observations; this is the most any season has from the latest one that is due
      (``survival_min_years`` after planting) and entirely inside the imagery period, on (NaN:
      none is due yet); ``missing_winter``: that latest due season (its January's year) when
      no season from it on has ``min_winter_obs``.

    ``valid``: (plot, date) clear observations; ``all_dates``: every date of the series, clear
    or not (the period the imagery covers); ``grown``: the planting year survival is read by
    (the claimed year, or the next one for site work of an autumn planting of Y itself;
    default ``years``).
    """
    grown = years if grown is None else grown
    day = dates.values.astype("datetime64[D]")
    jan = np.array([np.datetime64(f"{y:04d}-01-01") if y > 0 else np.datetime64("NaT")
                    for y in years], dtype="datetime64[D]")  # fmt: skip
    in_year = (day[None, :] >= jan[:, None]) & (day[None, :] < end[:, None])
    out["n_planting_year_obs"] = np.where(years > 0, (valid & in_year).sum(1), np.nan)
    if all_dates.empty:
        return
    first, last = all_dates.min(), all_dates.max()
    winter = dry_season_label(dates, ev.winter_months)
    months = sorted(ev.winter_months, key=lambda m: (m < 7, m))  # autumn months first
    best = np.full(len(years), np.nan)
    missing = np.full(len(years), np.nan)
    settled = np.zeros(len(years), dtype=bool)
    for k in range(last.year + 1, first.year - 1, -1):  # latest season first
        begin = pd.Timestamp(k - (months[0] >= 7), months[0], 1)
        stop = pd.Timestamp(k - (months[-1] >= 7), months[-1], 1) + pd.offsets.MonthEnd(0)
        due = (grown > 0) & (k - grown >= ev.survival_min_years) & ~settled
        n = (valid & (winter == k)[None, :]).sum(1).astype(float)
        best = np.where(due, np.fmax(best, n), best)
        if begin >= first.normalize() and stop <= last:  # the imagery spans the whole season
            missing = np.where(due & (best < ev.min_winter_obs), k, missing)
            settled |= due
    out["n_survival_winter_obs"] = np.where(settled, best, np.nan)
    out["missing_winter"] = missing


def dry_levels(D: np.ndarray, winter: np.ndarray, min_obs: int) -> dict[int, np.ndarray]:
    """Per dry season (label = year of its January): the plots' median change of
    forest-likeness over their same-month baseline where ≥ 2 observations, else NaN; dims
    (plots,) each."""
    out = {}
    for k in np.unique(winter[winter > 0]):
        cols = winter == k
        out[int(k)] = np.where(
            np.isfinite(D[:, cols]).sum(1) >= min_obs, nanmedian(D[:, cols], 1), np.nan
        )
    return out


def fit_establishment(out, seasons: dict[int, np.ndarray], years: np.ndarray) -> None:
    """``establish_rise``: the largest dry-season change of forest-likeness over the plot's
    same-month baseline in the seasons after the planting year's (Y+1 on); ``establish_trend``:
    the least-squares slope per year of those changes from 0 at the baseline (Y−1)."""
    n = len(years)
    rise = np.full(n, np.nan)
    trend = np.full(n, np.nan)
    ks = np.array(sorted(seasons), dtype=int)
    if len(ks):
        vals = np.stack([seasons[k] for k in ks], 1)  # (plots × seasons)
        usable = np.isfinite(vals) & (ks[None, :] >= years[:, None] + 1) & (years[:, None] > 0)
        has = usable.any(1)
        rise[has] = np.where(usable[has], vals[has], -np.inf).max(1)
        # plots of the same year using the same seasons share the fit's abscissae
        rows = np.flatnonzero(has)
        first, group = unique_rows(np.concatenate([years[:, None], usable], 1)[has])
        for g in range(len(first)):
            members = rows[group == g]
            use = usable[members[0]]
            t = np.array([years[members[0]] - 1, *ks[use]], dtype=float)
            y = np.vstack([np.zeros(len(members)), vals[members][:, use].T])
            trend[members] = np.polyfit(t, y, 1)[0]
    out["establish_rise"] = rise
    out["establish_trend"] = trend

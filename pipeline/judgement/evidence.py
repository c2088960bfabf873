"""Read each plot's time series as evidence, relative to its claimed planting year and its peers.

Input: the long series (row, date, ndvi, ndmi, bsi, clear_share), the per-pixel planted shares
and the plot table. Output: one row of metrics per plot. Plots of the same planting year that
show full site preparation and no forest baseline are the *peers*; their per-date median NDVI
removes the season from loss detection and their dry-season NDVI is the survival yardstick.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.config import Evidence
from pipeline.imagery.series import PrepAccumulator, prep_windows, robust_top, update_prep

EVIDENCE_COLUMNS = (
    "n_clear_obs",
    "n_baseline_obs",
    "n_prep_obs",
    "baseline_winter_ndvi",
    "baseline_summer_ndvi",
    "prep_ndvi_drop",
    "prep_bsi_rise",
    "planted_share",
    "data_share",
    "winter_ndvi_last",
    "winter_gap_peers",
    "years_observed",
    "loss_drop",
    "loss_date",
    "n_planting_year_obs",
    "n_survival_winter_obs",
    "missing_winter",
)


def clean_observations(series: pd.DataFrame, ev: Evidence) -> pd.DataFrame:
    """Keep clear observations, then drop isolated NDVI dips (missed cloud / shadow edges).

    An observation is a dip when it lies ``spike_ndvi`` below both neighbours and both are
    within ``spike_max_gap_days``. Returns the kept rows sorted by (row, date).
    """
    obs = series[(series["clear_share"] >= ev.min_clear_share) & series["ndvi"].notna()]
    obs = obs.sort_values(["row", "date"]).reset_index(drop=True)
    same_prev = obs["row"].eq(obs["row"].shift(1))
    same_next = obs["row"].eq(obs["row"].shift(-1))
    gap_prev = (obs["date"] - obs["date"].shift(1)).dt.days
    gap_next = (obs["date"].shift(-1) - obs["date"]).dt.days
    dip = (
        same_prev
        & same_next
        & (gap_prev <= ev.spike_max_gap_days)
        & (gap_next <= ev.spike_max_gap_days)
        & (obs["ndvi"] < obs["ndvi"].shift(1) - ev.spike_ndvi)
        & (obs["ndvi"] < obs["ndvi"].shift(-1) - ev.spike_ndvi)
    )
    return obs[~dip].reset_index(drop=True)


def _wide(obs: pd.DataFrame, rows: np.ndarray, column: str) -> pd.DataFrame:
    return obs.pivot_table(index="row", columns="date", values=column, aggfunc="first").reindex(
        rows
    )


def _winter_label(dates: pd.DatetimeIndex, ev: Evidence) -> np.ndarray:
    """Dry-season label per date: the year of its January; 0 outside the winter months."""
    in_winter = np.isin(dates.month, ev.winter_months)
    return np.where(in_winter, dates.year + (dates.month >= 7), 0)


def _nanmedian(a: np.ndarray, axis: int) -> np.ndarray:
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmedian(a, axis=axis)


def select_peers(
    years: np.ndarray,
    is_design: np.ndarray,
    planted_share: np.ndarray,
    baseline_winter_ndvi: np.ndarray,
    ev: Evidence,
) -> np.ndarray:
    """Which plots may be peers (bool per plot): a planting year, not design stage, full site
    preparation and no forest baseline."""
    return (
        (years > 0)
        & ~is_design
        & (planted_share >= ev.planted_share_full)
        & ~(baseline_winter_ndvi >= ev.forest_winter_ndvi)
    )


def cohort_peers(years: np.ndarray, is_peer: np.ndarray, year: int, ev: Evidence) -> np.ndarray:
    """The peers of planting year ``year`` (bool per plot): the year's own peers, or every peer
    when the year has fewer than ``min_peers``."""
    peers = (years == year) & is_peer
    return peers if peers.sum() >= ev.min_peers else is_peer


def compute_evidence(
    plots: pd.DataFrame, series: pd.DataFrame, pixels: pd.DataFrame, ev: Evidence
) -> pd.DataFrame:
    """Evidence metrics per plot (index = ``row``; NaN where a metric could not be computed).

    ``plots`` needs ``row``, ``planting_year`` and ``is_design``.
    """
    rows = plots["row"].to_numpy()
    out = pd.DataFrame(
        index=pd.Index(rows, name="row"), columns=list(EVIDENCE_COLUMNS), dtype=float
    )
    out["loss_date"] = pd.NaT
    if series.empty:
        return out
    series = series.assign(date=pd.to_datetime(series["date"]))
    obs = clean_observations(series, ev)
    ndvi = _wide(obs, rows, "ndvi")
    bsi = _wide(obs, rows, "bsi")
    dates = pd.DatetimeIndex(ndvi.columns)
    day = dates.values.astype("datetime64[D]")
    N, B = ndvi.to_numpy(dtype=float), bsi.to_numpy(dtype=float)
    valid = np.isfinite(N)
    years = plots["planting_year"].fillna(0).to_numpy(dtype=int)
    start, end = prep_windows(years, ev)
    before = day[None, :] < start[:, None]
    after = day[None, :] >= end[:, None]
    winter = _winter_label(dates, ev)
    summer = np.isin(dates.month, (6, 7, 8, 9))[None, :]

    out["n_clear_obs"] = valid.sum(1)
    out["n_baseline_obs"] = (valid & before).sum(1)
    out["baseline_winter_ndvi"] = _nanmedian(np.where(before & (winter > 0), N, np.nan), 1)
    out["baseline_summer_ndvi"] = _nanmedian(np.where(before & summer, N, np.nan), 1)
    drop, rise, n_prep = _prep_signals(N, B, day, start, end)
    out["n_prep_obs"] = n_prep
    out["prep_ndvi_drop"] = drop
    out["prep_bsi_rise"] = rise
    _coverage(out, valid, series["date"], dates, years, end, ev)

    pix = pixels.set_index("row").reindex(rows)
    out["planted_share"] = pix["planted_share"].to_numpy()
    out["data_share"] = pix["data_share"].to_numpy()

    is_peer = select_peers(
        years,
        plots["is_design"].to_numpy(dtype=bool),
        out["planted_share"].to_numpy(),
        out["baseline_winter_ndvi"].to_numpy(),
        ev,
    )
    peer_daily = np.full_like(N, np.nan)
    for y in np.unique(years[years > 0]):
        cohort = years == y
        peers = cohort_peers(years, is_peer, y, ev)
        med = _nanmedian(N[peers], 0) if peers.any() else np.full(N.shape[1], np.nan)
        enough = np.isfinite(N[peers]).sum(0) >= min(ev.min_peers, max(peers.sum(), 1))
        peer_daily[cohort] = np.where(enough, med, np.nan)[None, :]
        _survival(out, N, winter, cohort, peers, y, ev)
    _loss(out, N - peer_daily, day, after, ev)
    return out


def _coverage(out, valid, all_dates: pd.Series, dates, years, end, ev: Evidence) -> None:
    """Clear observations in each window a judgement needs, beyond the whole prep window:

    - ``n_planting_year_obs``: in the planting year's part of the prep window (1 January of Y
      to its end): without it, a few autumn scenes of Y−1 would "show" no site work;
    - ``n_survival_winter_obs``: survival is read on the latest dry season with enough clear
      observations; this is the most any season has from the latest one that is due
      (``survival_min_years`` after planting) and entirely inside the imagery period, on (NaN:
      none is due yet); ``missing_winter``: that latest due season (its January's year) when
      no season from it on has ``min_winter_obs``.

    ``valid``: (plot, date) clear observations; ``all_dates``: every date of the series, clear
    or not (the period the imagery covers).
    """
    day = dates.values.astype("datetime64[D]")
    jan = np.array([np.datetime64(f"{y:04d}-01-01") if y > 0 else np.datetime64("NaT")
                    for y in years], dtype="datetime64[D]")  # fmt: skip
    in_year = (day[None, :] >= jan[:, None]) & (day[None, :] < end[:, None])
    out["n_planting_year_obs"] = np.where(years > 0, (valid & in_year).sum(1), np.nan)
    if all_dates.empty:
        return
    first, last = all_dates.min(), all_dates.max()
    winter = _winter_label(dates, ev)
    months = sorted(ev.winter_months, key=lambda m: (m < 7, m))  # autumn months first
    best = np.full(len(years), np.nan)
    missing = np.full(len(years), np.nan)
    settled = np.zeros(len(years), dtype=bool)
    for k in range(last.year + 1, first.year - 1, -1):  # latest season first
        begin = pd.Timestamp(k - (months[0] >= 7), months[0], 1)
        stop = pd.Timestamp(k - (months[-1] >= 7), months[-1], 1) + pd.offsets.MonthEnd(0)
        due = (years > 0) & (k - years >= ev.survival_min_years) & ~settled
        n = (valid & (winter == k)[None, :]).sum(1).astype(float)
        best = np.where(due, np.fmax(best, n), best)
        if begin >= first.normalize() and stop <= last:  # the imagery spans the whole season
            missing = np.where(due & (best < ev.min_winter_obs), k, missing)
            settled |= due
    out["n_survival_winter_obs"] = np.where(settled, best, np.nan)
    out["missing_winter"] = missing


def _prep_signals(N, B, day, start, end):
    """Per plot: robust largest NDVI drop / BSI rise in the prep window below / above the plot's
    own baseline for the same time of year, and the number of window observations used (the
    per-pixel accumulator of :mod:`pipeline.imagery.series`, run on the plot means)."""
    acc = PrepAccumulator.empty(N.shape[0])
    for t in range(N.shape[1]):
        update_prep(acc, day[t], N[:, t], B[:, t], start, end)
    return robust_top(acc.drop, acc.prep_n), robust_top(acc.rise, acc.prep_n), acc.prep_n


def _survival(out, N, winter, cohort, peers, year: int, ev: Evidence) -> None:
    """Latest dry season ≥ survival_min_years after planting: plot vs peer median NDVI."""
    labels = [k for k in np.unique(winter) if k - year >= ev.survival_min_years]
    idx = np.flatnonzero(cohort)
    for k in sorted(labels):
        cols = winter == k
        n_obs = np.isfinite(N[:, cols]).sum(1)
        vals = np.where(n_obs >= ev.min_winter_obs, _nanmedian(N[:, cols], 1), np.nan)
        peer = _nanmedian(vals[peers], 0) if np.isfinite(vals[peers]).sum() >= 2 else np.nan
        ok = idx[np.isfinite(vals[idx])]
        if np.isfinite(peer) and len(ok):
            out.iloc[ok, out.columns.get_loc("winter_ndvi_last")] = vals[ok]
            out.iloc[ok, out.columns.get_loc("winter_gap_peers")] = vals[ok] - peer
            out.iloc[ok, out.columns.get_loc("years_observed")] = k - year


def _loss(out, anomaly, day, after, ev: Evidence) -> None:
    """Largest step down of the peer anomaly after the prep window (median before − after).

    The loss date is the first observation, from the best split on, below the midpoint of the
    step (the best split can precede the drop when the after-window is already mostly low).
    """
    n = anomaly.shape[0]
    best = np.full(n, np.nan)
    level = np.full(n, np.nan)
    split = np.full(n, -1)
    A = np.where(after, anomaly, np.nan)
    ok = np.isfinite(A)
    for t in range(A.shape[1]):
        pre = (day >= day[t] - ev.loss_before_days) & (day < day[t])
        post = (day >= day[t]) & (day < day[t] + ev.loss_after_days)
        n_pre, n_post = (ok & pre).sum(1), (ok & post).sum(1)
        cand = ok[:, t] & (n_pre >= ev.loss_min_obs) & (n_post >= ev.loss_min_obs)
        if not cand.any():
            continue
        pre_med = _nanmedian(np.where(pre, A, np.nan), 1)
        step = pre_med - _nanmedian(np.where(post, A, np.nan), 1)
        better = cand & (np.nan_to_num(step, nan=-np.inf) > np.nan_to_num(best, nan=-np.inf))
        best[better], level[better], split[better] = step[better], pre_med[better], t
    when = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    for i in np.flatnonzero(split >= 0):
        below = np.flatnonzero(ok[i, split[i] :] & (A[i, split[i] :] < level[i] - best[i] / 2))
        when[i] = day[split[i] + (below[0] if len(below) else 0)]
    out["loss_drop"] = best
    out["loss_date"] = pd.to_datetime(when)

"""Read each plot's time series as evidence, relative to its claimed planting year, the
reference pixels of the same imagery and its peers.

Input: the long series (row, date, ndvi, ndmi, bsi, clear_share and, from cube sources, the
references ref_forest / ref_open of :mod:`pipeline.imagery.reference`), the per-pixel planted
shares and the plot table. Output: one row of metrics per plot.

Levels are read as *forest-likeness*: ``(ndvi − ref_open) / contrast``, where ``contrast`` is
the median dry-season gap between the forest and open-land references (pooled over the run;
the fallback levels of :class:`~pipeline.config.Evidence` where the source gives none). So 0
is "like the open land around", 1 "like the forest around", in any region, sensor or season.
A plot was already forest when it was forest-like in the dry season *and* the growing season
(grass is as green as forest in summer in the south, as brown as leafless forest in a northern
winter). Changes (establishment, survival gap, loss step) are in units of
``max(contrast, min_change_scale)``: where forest and open land are hardly apart in the
imagery (a landscape of sparse trees and grass) a tiny NDVI change is not a large one.
*Peers* are plots of the same planting year that show planting and no forest baseline; those
that also start from a similar baseline level (a proxy for the same starting land class) are
the survival yardstick, and the per-date median of the whole cohort removes season and common
growth before the loss break test (:mod:`pipeline.judgement.breaks`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.config import Evidence
from pipeline.imagery.reference import GROWING_MONTHS, dry_season_label
from pipeline.imagery.series import (
    PrepAccumulator,
    prep_windows,
    robust_top,
    seasonal_expectation,
    update_prep,
)
from pipeline.judgement.breaks import detect_breaks
from pipeline.judgement.expectation import EXPECTATION_COLUMNS, planting_expectation
from pipeline.judgement.growth import growth_class
from pipeline.judgement.own_level import own_step
from pipeline.judgement.peers import (
    PeerSets,
    masked_medians,
    member_chunks,
    nanmedian,
    near_peers,
    unique_rows,
)
from pipeline.judgement.planted import PLANTED_COLUMNS, relative_shares
from pipeline.judgement.spread import robust_scores
from pipeline.judgement.survival import closed_canopy_level, growing_levels, survival_gaps

EVIDENCE_COLUMNS = (
    "n_clear_obs",
    "n_baseline_obs",
    "n_prep_obs",
    "baseline_winter_ndvi",
    "baseline_summer_ndvi",
    "reference_contrast",
    "baseline_dry_index",
    "baseline_growing_index",
    "baseline_forest_index",
    "prep_ndvi_drop",
    "prep_bsi_rise",
    "establish_rise",
    "establish_trend",
    "establish_vs_peers",
    "planted_share",
    "data_share",
    "winter_index_last",
    "winter_gap_peers",
    "years_observed",
    "loss_drop",
    "loss_z",
    "loss_confidence",
    "loss_date",
    "n_planting_year_obs",
    "n_survival_winter_obs",
    "missing_winter",
    "survival_gap_mean",
    "survival_seasons",
    "survival_gap_growing",
    "loss_drop_spread",
    "site_work_late",
    "prep_drop_index",
    "loss_own_drop",
    "canopy_level",
    *EXPECTATION_COLUMNS,
    *PLANTED_COLUMNS,
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


def _wide(
    obs: pd.DataFrame, rows: np.ndarray, column: str, dates: pd.Index | None = None
) -> pd.DataFrame:
    """(plots × dates) table of one column; every date of ``dates`` kept even where the column
    is missing on all plots (a sensor without SWIR gives an all-NaN BSI). ``obs``: sorted by
    (row, date), as :func:`clean_observations` gives it; a (row, date) given twice keeps its
    first value."""
    if column not in obs:
        return pd.DataFrame(np.nan, index=rows, columns=dates)
    day = obs["date"].to_numpy()
    if dates is None:
        dates = pd.DatetimeIndex(np.unique(day), name="date")
    r = pd.Index(rows).get_indexer(obs["row"].to_numpy())
    c = pd.Index(dates).get_indexer(day)
    same = np.r_[False, (r[1:] == r[:-1]) & (c[1:] == c[:-1])]
    if same.any():  # a (row, date) twice: the first non-missing value, as a pivot gives it
        wide = obs.pivot_table(index="row", columns="date", values=column, aggfunc="first",
                               dropna=False)  # fmt: skip
        return wide.reindex(index=rows, columns=dates)
    values = np.full((len(rows), len(dates)), np.nan)
    keep = (r >= 0) & (c >= 0)
    values[r[keep], c[keep]] = obs[column].to_numpy()[keep]
    return pd.DataFrame(values, index=rows, columns=dates)


def reference_scale(
    series: pd.DataFrame, dates: pd.DatetimeIndex, ev: Evidence
) -> tuple[np.ndarray, float, float]:
    """Per date the open-land level (dims dates), and the forest − open contrast of the dry
    season and of the growing season (NDVI), pooled over the run's plots (per date the median
    of their tiles' reference levels: a small tile with little forest in view does not set its
    own scale). The fallback levels where there are no references or the dry-season contrast
    is below ``min_reference_contrast``; the growing-season contrast is then NaN (not used)."""
    fallback = (
        np.full(len(dates), ev.fallback_open_ndvi),
        ev.fallback_forest_ndvi - ev.fallback_open_ndvi,
        np.nan,
    )
    if "ref_open" not in series or series["ref_open"].isna().all():
        return fallback
    by_date = series.groupby("date")[["ref_forest", "ref_open"]].median().reindex(dates)
    gap = (by_date["ref_forest"] - by_date["ref_open"]).to_numpy(float)
    dry = dry_season_label(dates, ev.winter_months) > 0
    growing = np.isin(dates.month, GROWING_MONTHS)
    contrast = float(np.nanmedian(gap[dry])) if np.isfinite(gap[dry]).any() else np.nan
    if not contrast >= ev.min_reference_contrast:
        return fallback
    grow = float(np.nanmedian(gap[growing])) if np.isfinite(gap[growing]).any() else np.nan
    ro = by_date["ref_open"].interpolate(limit_direction="both").to_numpy(float)
    return ro, contrast, grow if grow >= ev.min_reference_contrast else np.nan


def select_peers(
    years: np.ndarray,
    is_design: np.ndarray,
    planted_share: np.ndarray,
    baseline_forest_index: np.ndarray,
    ev: Evidence,
) -> np.ndarray:
    """Which plots may be peers (bool per plot): a planting year, not design stage, full
    planting evidence and no forest baseline."""
    return (
        (years > 0)
        & ~is_design
        & (planted_share >= ev.planted_share_full)
        & ~(baseline_forest_index >= ev.forest_index)
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
    if not pd.api.types.is_datetime64_any_dtype(series["date"]):
        series = series.assign(date=pd.to_datetime(series["date"]))
    used = [c for c in ("row", "date", "ndvi", "bsi", "clear_share") if c in series]
    obs = clean_observations(series[used], ev)
    ndvi = _wide(obs, rows, "ndvi")
    dates = pd.DatetimeIndex(ndvi.columns)
    B = _wide(obs, rows, "bsi", ndvi.columns).to_numpy(dtype=float)
    del obs  # the wide tables hold what is used of it (memory: a province's series)
    ro, contrast, grow_contrast = reference_scale(series, dates, ev)
    day = dates.values.astype("datetime64[D]")
    N = ndvi.to_numpy(dtype=float)
    X = (N - ro[None, :]) / contrast  # forest-likeness
    scale = max(contrast, ev.min_change_scale)  # of changes (establishment, survival, loss)
    valid = np.isfinite(N)
    years = plots["planting_year"].fillna(0).to_numpy(dtype=int)
    start, end = prep_windows(years, ev)
    main_end = prep_windows(years, ev, late=False)[1]
    before = day[None, :] < start[:, None]
    winter = dry_season_label(dates, ev.winter_months)
    summer = np.isin(dates.month, GROWING_MONTHS)[None, :]

    out["n_clear_obs"] = valid.sum(1)
    out["n_baseline_obs"] = (valid & before).sum(1)
    out["baseline_winter_ndvi"] = nanmedian(np.where(before & (winter > 0), N, np.nan), 1)
    out["baseline_summer_ndvi"] = nanmedian(np.where(before & summer, N, np.nan), 1)
    out["reference_contrast"] = contrast
    base_x = nanmedian(np.where(before & (winter > 0), X, np.nan), 1)
    base_g = nanmedian(np.where(before & summer, N - ro[None, :], np.nan), 1) / grow_contrast
    out["baseline_dry_index"] = base_x
    out["baseline_growing_index"] = base_g
    # the growing season counts where it sets forest and open land apart at least half as
    # well as the dry season (north: leafless forest and brown grass; south: it does not)
    use_g = np.isfinite(base_g) & (grow_contrast >= 0.5 * contrast)
    out["baseline_forest_index"] = np.where(use_g, np.fmin(base_x, base_g), base_x)
    drop, rise, n_prep = _prep_signals(N, B, day, start, end)
    out["n_prep_obs"] = n_prep
    out["prep_ndvi_drop"] = drop
    out["prep_bsi_rise"] = rise
    out["prep_drop_index"] = drop / max(contrast, ev.min_change_scale)
    late = _late_site_work(N, B, day, start, main_end, drop, rise, ev)
    out["site_work_late"] = np.where(years > 0, late, np.nan)
    del B
    # the loss test reads after the site work: after the late months where it shows only there
    after = day[None, :] >= np.where(late, end, main_end)[:, None]
    grown = survival_years(
        years, late, (drop >= ev.prep_ndvi_drop) | (rise >= ev.prep_bsi_rise), ev
    )
    _coverage(out, valid, series["date"], dates, years, end, ev, grown)
    Xc = X * (contrast / scale)
    seasons = _dry_levels(Xc - _same_month_baseline(Xc, before, dates), winter, ev.min_winter_obs)
    levels = _dry_levels(Xc, winter, ev.min_winter_obs)
    grow = growing_levels(Xc - _same_month_baseline(Xc, before, dates), dates, ev.min_winter_obs)
    del X, Xc
    _establishment(out, seasons, years)

    pix = pixels.set_index("row").reindex(rows)
    out["planted_share"] = pix["planted_share"].to_numpy()
    out["data_share"] = pix["data_share"].to_numpy()

    is_peer = select_peers(
        years,
        plots["is_design"].to_numpy(dtype=bool),
        out["planted_share"].to_numpy(),
        out["baseline_forest_index"].to_numpy(),
        ev,
    )
    anomaly = np.full(N.shape, np.nan)
    start_level = np.stack([base_x, out["baseline_growing_index"].to_numpy()], 1)
    group = growth_class(
        plots["species"] if "species" in plots else None, len(rows), ev.growth_classes
    )
    for y in np.unique(years[years > 0]):
        cohort = years == y
        peers = cohort_peers(years, is_peer, y, ev)
        anomaly[cohort] = class_peer_anomaly(
            N, start_level, np.flatnonzero(cohort), peers, group, ev, scale
        )
    # survival is read against the plantings of the season the trees went in: site work that
    # shows only after the main prep window (秋冬造林 of Y itself) makes the plot a year
    # younger than its claimed cohort, its survival due a year later
    # survival is read on dry seasons the imagery spans whole (as their coverage is counted):
    # the first weeks of a season cut off by the end of the imagery decide nothing alone
    whole = whole_seasons(seasons, series["date"], ev)
    for y in np.unique(grown[grown > 0]):
        peers = cohort_peers(grown, is_peer, y, ev)
        members = np.flatnonzero(grown == y)
        for part in member_chunks(start_level[members], members, int(peers.sum())):
            near = near_peers(start_level, part, peers, ev.peer_baseline_band)
            _survival(out, whole, {k: levels[k] for k in whole}, near, y, ev)
    _loss(out, anomaly, day, after, ev, own=N / scale)
    out["loss_drop_spread"] = robust_scores(out["loss_drop"].to_numpy(float), ev.loss_drop / 10)
    lost = (
        (out["loss_drop"].to_numpy() >= ev.loss_drop)
        & (out["loss_z"].to_numpy() >= ev.loss_z)
        & ~(out["loss_drop_spread"].to_numpy() < ev.loss_spread)
        & ~(out["loss_own_drop"].to_numpy() < ev.loss_own_drop)
    )
    gap, n_seasons = survival_gaps(whole, grown, is_peer, lost, start_level, ev, group)
    # where no due season found a yardstick among the nearest same-kind peers (survival_seasons
    # 0), the latest season against the band peers (winter_gap_peers) is the reading: a plot
    # without near peers of its kind is not thereby passed (the default demo world's
    # low-survival plots all fell there)
    # species that close within the imagery: their own level against the references (the
    # dry-season levels are in change units: back to forest-likeness)
    out["canopy_level"] = closed_canopy_level(
        levels, years, plots["species"] if "species" in plots else None, ev.canopy_closed_by
    ) * (scale / contrast)
    fallback = out["winter_gap_peers"].to_numpy(float)
    out["survival_gap_mean"] = np.where(n_seasons > 0, gap, fallback)
    out["survival_seasons"] = n_seasons
    out["survival_gap_growing"] = survival_gaps(grow, grown, is_peer, lost, start_level, ev, group)[
        0
    ]
    cleared = (out["prep_ndvi_drop"].to_numpy() >= ev.prep_ndvi_drop) | (
        out["prep_bsi_rise"].to_numpy() >= ev.prep_bsi_rise
    )
    candidates = (
        (years > 0)
        & ~plots["is_design"].to_numpy(dtype=bool)
        & ~(out["baseline_forest_index"].to_numpy() >= ev.forest_index)
    )
    shares = relative_shares(
        out["planted_share"].to_numpy(float), years, candidates, start_level, ev
    )
    for col in PLANTED_COLUMNS:
        out[col] = shares[col].to_numpy()
    expect = planting_expectation(
        years,
        candidates,
        start_level,
        cleared,
        out["establish_rise"].to_numpy(float),
        group,
        _last_season(levels, len(rows)),
        ev,
    )
    for col in EXPECTATION_COLUMNS:
        out[col] = expect[col].to_numpy()
    return out


def class_peer_anomaly(
    N: np.ndarray,
    start_level: np.ndarray,
    members: np.ndarray,
    peers: np.ndarray,
    group: np.ndarray,
    ev: Evidence,
    scale: float,
) -> np.ndarray:
    """:func:`peer_anomaly` of the plots ``members`` (indices) against the ``peers`` (bool per
    plot) of their own growth class where at least ``min_peers`` of them (not counting the plot)
    share it (:func:`~pipeline.judgement.growth.same_class`), narrowed to a similar start; all
    ``peers`` where fewer than ``min_peers`` remain. Dims (members × dates), change units."""
    out = np.full((len(members), N.shape[1]), np.nan)
    keys = np.stack([group[members].astype(str), peers[members].astype(str)], 1)
    for g, is_peer in np.unique(keys, axis=0):
        chosen = np.flatnonzero((keys[:, 0] == g) & (keys[:, 1] == is_peer))
        pool = peers
        if g:
            narrowed = peers & (group == g)
            if narrowed.sum() - (is_peer == "True") >= ev.min_peers:
                pool = narrowed
        for sel in member_chunks(start_level[members[chosen]], chosen, int(pool.sum())):
            near = near_peers(start_level, members[sel], pool, ev.peer_baseline_band)
            if pool is peers:  # peer_anomaly's own fallback is to all peers
                out[sel] = peer_anomaly(N, near, ev.min_peers, scale)
                continue
            few = near.masks.sum(1)[near.of_member] < ev.min_peers
            vals = peer_anomaly(N, near, ev.min_peers, scale)
            out[sel[~few]] = vals[~few]
            if few.any():  # too few near peers of the class: every peer of the cohort
                every = near_peers(start_level, members[sel[few]], peers, np.inf)
                out[sel[few]] = peer_anomaly(N, every, ev.min_peers, scale)
    return out


def peer_anomaly(N: np.ndarray, near: PeerSets, min_peers: int, scale: float) -> np.ndarray:
    """Each member's NDVI minus the per-date median of its near peers (all peers where fewer
    than ``min_peers`` are near; NaN on dates fewer than ``min_peers`` of them — or all, if
    fewer — are clear), in change units; dims (members × dates)."""
    masks = near.masks
    few = masks.sum(1) < min_peers
    if few.any():  # (a copy only then: the sets of a province's distinct plots are large)
        masks = masks.copy()
        masks[few] = True
    sets = near.regrouped(masks)
    med, count = masked_medians(N[sets.peers], sets.masks, coords=sets.levels)
    size = sets.masks.sum(1)
    enough = count >= np.minimum(min_peers, np.maximum(size, 1))[:, None]
    return (N[sets.members] - np.where(enough, med, np.nan)[sets.of_member]) / scale


def _late_site_work(N, B, day, start, main_end, drop, rise, ev: Evidence) -> np.ndarray:
    """Per plot (bool): site preparation passes the gates in the whole window (``drop``,
    ``rise``) but not in its main part (to ``prep_end_month`` of Y): the site work of an
    autumn planting of Y itself, after which the loss test starts."""
    if ev.prep_late_months == 0:
        return np.zeros(N.shape[0], dtype=bool)
    main_drop, main_rise, _ = _prep_signals(N, B, day, start, main_end)
    full = (drop >= ev.prep_ndvi_drop) | (rise >= ev.prep_bsi_rise)
    main = (main_drop >= ev.prep_ndvi_drop) | (main_rise >= ev.prep_bsi_rise)
    return full & ~main


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
    :func:`_coverage` counts them."""
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


def _last_season(levels: dict[int, np.ndarray], n: int) -> np.ndarray:
    """Per plot the label of the latest dry season with a level (NaN: none), dims plots."""
    last = np.full(n, np.nan)
    for k in sorted(levels):
        last = np.where(np.isfinite(levels[k]), float(k), last)
    return last


def _coverage(
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


def _prep_signals(N, B, day, start, end):
    """Per plot: robust largest NDVI drop / BSI rise in the prep window below / above the plot's
    own baseline for the same time of year, and the number of window observations used (the
    per-pixel accumulator of :mod:`pipeline.imagery.series`, run on the plot means)."""
    acc = PrepAccumulator.empty(N.shape[0])
    for t in range(N.shape[1]):
        update_prep(acc, day[t], N[:, t], B[:, t], start, end)
    return robust_top(acc.drop, acc.prep_n), robust_top(acc.rise, acc.prep_n), acc.prep_n


def _same_month_baseline(X: np.ndarray, before: np.ndarray, dates: pd.DatetimeIndex):
    """Each plot's baseline mean for the month of each date (±1 month pooled; NaN where
    none), dims (plots × dates): a later value minus it is a change for the same season."""
    month = dates.month.to_numpy() - 1
    base = np.where(before, X, np.nan)
    ok = np.isfinite(base)
    sums = np.stack([np.where(ok[:, month == m], base[:, month == m], 0).sum(1) for m in range(12)])
    counts = np.stack([ok[:, month == m].sum(1) for m in range(12)])
    table = np.stack([seasonal_expectation(sums, counts, m + 1) for m in range(12)])
    return table[month].T


def _dry_levels(D: np.ndarray, winter: np.ndarray, min_obs: int) -> dict[int, np.ndarray]:
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


def _establishment(out, seasons: dict[int, np.ndarray], years: np.ndarray) -> None:
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


def _survival(out, seasons, levels, near: PeerSets, year: int, ev: Evidence) -> None:
    """Latest dry season ≥ ``survival_min_years`` after planting: the plot's gain in
    forest-likeness over its own same-month baseline (change units) against the median gain
    of peers that started within ``peer_baseline_band`` of it (all peers when fewer than
    ``min_peers`` did) — ``winter_gap_peers``, with the season's level in
    ``winter_index_last``; where the season's dates have no same-month baseline, its level
    against the peers' levels. ``establish_vs_peers``: the gain gap of the latest season with
    one (also under ``survival_min_years``). ``near``: the cohort and its near peers; a gap
    needs ≥ 2 peers with a value."""
    names = ("establish_vs_peers", "winter_index_last", "winter_gap_peers", "years_observed")
    cols = {c: out[c].to_numpy(dtype=float, copy=True) for c in names}
    idx = near.members
    n = len(out)
    for k in sorted(levels):
        if k - year < 1:
            continue
        gain = seasons.get(k, np.full(n, np.nan))
        level = levels[k]
        masks = near.masks.copy()
        masks[(masks & np.isfinite(level[near.peers])).sum(1) < ev.min_peers] = True
        sets = near.regrouped(masks)
        values = np.stack([gain, level], 1)[sets.peers]
        values[~np.isfinite(values)] = np.nan  # a gap is read against finite values only
        med, count = masked_medians(values, sets.masks, coords=sets.levels)
        med, count = med[sets.of_member], count[sets.of_member]
        with np.errstate(invalid="ignore"):
            gap_gain = np.where((count[:, 0] >= 2) & np.isfinite(gain[idx]),
                                gain[idx] - med[:, 0], np.nan)  # fmt: skip
            gap_level = np.where((count[:, 1] >= 2) & np.isfinite(level[idx]),
                                 level[idx] - med[:, 1], np.nan)  # fmt: skip
        read = np.isfinite(level[idx])
        has_gain = read & np.isfinite(gap_gain)
        cols["establish_vs_peers"][idx[has_gain]] = gap_gain[has_gain]
        gap = np.where(np.isfinite(gap_gain), gap_gain, gap_level)
        if k - year >= ev.survival_min_years:
            due = read & np.isfinite(gap)
            cols["winter_index_last"][idx[due]] = level[idx[due]]
            cols["winter_gap_peers"][idx[due]] = gap[due]
            cols["years_observed"][idx[due]] = k - year
    for c, v in cols.items():
        out[c] = v


def _loss(out, anomaly, day, after, ev: Evidence, own: np.ndarray | None = None) -> None:
    """Break test (:func:`~pipeline.judgement.breaks.detect_breaks`) on each plot's peer anomaly
    after the prep window, in forest-likeness units. ``loss_drop`` / ``loss_z`` are the
    largest step and its statistic (also where below the gates, as evidence); ``loss_date``
    and ``loss_confidence`` only where both gates pass. ``loss_own_drop``: the step of the
    plot's own series ``own`` (plots × dates, change units) at that break
    (:func:`~pipeline.judgement.own_level.own_step`), NaN where the break did not pass the gates
    (the rules read it only there)."""
    t_all = day.astype("datetime64[D]").astype(float)
    n = anomaly.shape[0]
    usable = after & np.isfinite(anomaly)  # < 2 × loss_min_obs: no split to test (NaN)
    found = detect_breaks(
        t_all,
        anomaly,
        usable,
        min_drop=ev.loss_drop,
        min_z=ev.loss_z,
        min_obs=ev.loss_min_obs,
        before_days=ev.loss_before_days,
        after_days=ev.loss_after_days,
        trend=True,
        season=True,
    )
    conf = np.where(found.passed, found.confidence, np.nan)
    when = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    when[found.passed] = found.day[found.passed].astype("int64").astype("datetime64[D]")
    step, z = found.step, found.z
    own_drop = np.full(n, np.nan)
    if own is not None:  # only where the break passed its gates: the rules read it only there
        for i in np.flatnonzero(found.passed):
            mine = after[i] & np.isfinite(own[i])
            own_drop[i] = own_step(
                t_all[mine],
                own[i, mine],
                float(found.day[i]),
                min_obs=ev.loss_min_obs,
                before_days=ev.loss_before_days,
                after_days=ev.loss_after_days,
            )
    out["loss_drop"] = step
    out["loss_z"] = z
    out["loss_confidence"] = conf
    out["loss_date"] = pd.to_datetime(when)
    out["loss_own_drop"] = own_drop

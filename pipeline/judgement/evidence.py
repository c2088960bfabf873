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
from pipeline.judgement.expectation import (
    EXPECTATION_COLUMNS,
    clearing_read,
    planting_expectation,
)
from pipeline.judgement.growth import growth_class
from pipeline.judgement.own_level import own_step
from pipeline.judgement.peers import (
    PeerSets,
    masked_medians,
    member_chunks,
    nanmedian,
    near_peers,
)
from pipeline.judgement.planted import PLANTED_COLUMNS, relative_shares
from pipeline.judgement.seasons import (
    count_coverage,
    dry_levels,
    fit_establishment,
    last_season,
    survival_years,
    whole_seasons,
)
from pipeline.judgement.site_work import baseline_scatter
from pipeline.judgement.spread import robust_scores
from pipeline.judgement.survival import (
    canopy_closure,
    closed_canopy_level,
    growing_levels,
    peer_survival,
    run_noise,
    survival_gaps,
)

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
    "survival_gap_z",
    "loss_drop_spread",
    "site_work_late",
    "prep_drop_index",
    "prep_drop_z",
    "loss_own_drop",
    "canopy_level",
    "canopy_closure",
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


def deciduous_forest(
    N: np.ndarray,
    ro: np.ndarray,
    grow_contrast: float,
    baseline_growing: np.ndarray,
    dates: pd.DatetimeIndex,
    base_g: np.ndarray,
    ev: Evidence,
) -> np.ndarray:
    """Whether a plot read as deciduous forest before planting (bool per plot): its baseline
    growing-season forest-likeness reaches ``deciduous_growing_index`` (as forest-like as the
    forest references in leaf) and the median of every baseline growing month of every year
    reaches ``forest_index`` (crops show a harvest gap; grass and shrub sit below the forest).

    ``N``: NDVI (plots, dates); ``ro``: open-land level per date; ``baseline_growing``: (plots,
    dates) mask of baseline growing-season dates.
    """
    if not np.isfinite(grow_contrast):
        return np.zeros(len(N), bool)
    G = np.where(baseline_growing, (N - ro[None, :]) / grow_contrast, np.nan)
    month = dates.year.to_numpy() * 12 + dates.month.to_numpy()
    lowest = np.full(len(N), np.inf)
    for m in np.unique(month[baseline_growing.any(0)]):
        level = nanmedian(G[:, month == m], 1)
        lowest = np.where(np.isfinite(level), np.fmin(lowest, level), lowest)
    steady = np.isfinite(lowest) & (lowest >= ev.forest_index)
    return (base_g >= ev.deciduous_growing_index) & steady


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
    forest_index = np.where(use_g, np.fmin(base_x, base_g), base_x)
    leafy = deciduous_forest(N, ro, grow_contrast, before & summer, dates, base_g, ev)
    out["baseline_forest_index"] = np.where(use_g & leafy, base_g, forest_index)
    drop, rise, n_prep = _prep_signals(N, B, day, start, end)
    out["n_prep_obs"] = n_prep
    out["prep_ndvi_drop"] = drop
    out["prep_bsi_rise"] = rise
    out["prep_drop_index"] = drop / max(contrast, ev.min_change_scale)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["prep_drop_z"] = drop / baseline_scatter(N, before, dates.month.to_numpy())
    late = _late_site_work(N, B, day, start, main_end, drop, rise, ev)
    out["site_work_late"] = np.where(years > 0, late, np.nan)
    del B
    # the loss test reads after the site work: after the late months where it shows only there
    after = day[None, :] >= np.where(late, end, main_end)[:, None]
    grown = survival_years(
        years, late, (drop >= ev.prep_ndvi_drop) | (rise >= ev.prep_bsi_rise), ev
    )
    count_coverage(out, valid, series["date"], dates, years, end, ev, grown)
    Xc = X * (contrast / scale)
    seasons = dry_levels(Xc - _same_month_baseline(Xc, before, dates), winter, ev.min_winter_obs)
    levels = dry_levels(Xc, winter, ev.min_winter_obs)
    grow = growing_levels(Xc - _same_month_baseline(Xc, before, dates), dates, ev.min_winter_obs)
    del X, Xc
    fit_establishment(out, seasons, years)

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
            peer_survival(out, whole, {k: levels[k] for k in whole}, near, y, ev)
    _loss(out, anomaly, day, after, ev, own=N / scale)
    out["loss_drop_spread"] = robust_scores(out["loss_drop"].to_numpy(float), ev.loss_drop / 10)
    own_drop = out["loss_own_drop"].to_numpy()
    lost = (
        (out["loss_drop"].to_numpy() >= ev.loss_drop)
        & (out["loss_z"].to_numpy() >= ev.loss_z)
        & (~(out["loss_drop_spread"].to_numpy() < ev.loss_spread) | (own_drop >= ev.loss_own_sure))
        & ~(own_drop < ev.loss_own_drop)
    )  # as the VEGETATION_LOSS rules read it (pipeline.judgement.rules)
    spread = np.full(len(rows), np.nan)
    gap, n_seasons = survival_gaps(whole, grown, is_peer, lost, start_level, ev, group, spread)
    # where no due season found a yardstick among the nearest same-kind peers (survival_seasons
    # 0), the latest season against the band peers (winter_gap_peers) is the reading for a plot
    # of unknown growth class: a plot without near peers of its kind is not thereby passed (the
    # default demo world's low-survival plots all fell there). A plot of a known class had its
    # own and the slower classes as yardstick (pipeline.judgement.survival): the band peers
    # would read its species against faster ones, so it gets no peer reading (NaN)
    # species that close within the imagery: their own level against the references (the
    # dry-season levels are in change units: back to forest-likeness), and how far it went from
    # where the plot started towards the forest references (canopy_closure)
    canopy = closed_canopy_level(
        levels, years, plots["species"] if "species" in plots else None, ev.canopy_closed_by
    ) * (scale / contrast)
    out["canopy_level"] = canopy
    out["canopy_closure"] = canopy_closure(canopy, base_x)
    fallback = np.where(group == "", out["winter_gap_peers"].to_numpy(float), np.nan)
    out["survival_gap_mean"] = np.where(n_seasons > 0, gap, fallback)
    # the gap against the run's scatter of like plots (survival_spread): in a noisy landscape
    # an honest plot lags its few like peers by as much as a failed one does in a clear one
    noise = run_noise(spread)  # NaN where too few plots read one: z NaN, the gap alone reads
    noise = max(noise, ev.survival_gap / 10) if np.isfinite(noise) else np.nan
    out["survival_gap_z"] = out["survival_gap_mean"].to_numpy(float) / noise
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
        last_season(levels, len(rows)),
        ev,
        clearing_read(
            out["n_prep_obs"].to_numpy(float),
            out["n_planting_year_obs"].to_numpy(float),
            cleared,
            out["planted_share"].to_numpy(float),
            out["planted_share_rel"].to_numpy(float),
            ev,
        ),
        out["prep_ndvi_drop"].to_numpy(float),
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

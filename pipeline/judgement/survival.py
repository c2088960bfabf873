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
  fast eucalyptus is no low survival) where enough peers share it; where they do not, or none
  of them started near it, of the classes that grow no faster than the plot's
  (:func:`~pipeline.judgement.growth.no_faster`: a pine beside pines and cypresses, a Chinese
  fir beside firs and pines; an orchard only beside orchards). A plot of a known class is never
  read against faster-growing peers: where no slower-or-equal yardstick exists, its peers say
  nothing of its survival (``survival_gap_mean`` NaN) rather than blame its species; every
  usable peer is the pool only for a plot whose class is unknown;
- the nearest, not all within a band: where bare, grass, shrub and cropland plots share a
  planting year, a band around a grass plot still takes in cropland and shrub plots, whose
  dry-season gains differ in kind;
- every dry season ``survival_min_years`` or more after the planting year with a gain
  counts, and ``survival_gap_mean`` is the mean of their gaps (one late, partly observed
  season no longer decides alone); ``survival_seasons`` is how many there were.

Where the plot's species closes its canopy within the imagery (``canopy_closed_by``: evergreen
eucalyptus and acacias in 2–3 years), :func:`closed_canopy_level` reads its own dry-season
level in forest-likeness, against the forest and open-land references of the same imagery,
once that season has come: an honest planting then reads forest-like whatever land it
replaced and whatever peers it has (the peer reading needs peers of its kind and start, which
a county may not have).

``survival_gap_growing`` is the same reading on the growing season (calendar years from
``survival_min_years`` after planting): where the dry season barely sets forest and open land
apart (northern deciduous landscapes, snow) the growing season still shows the canopy; it is a
model feature, the rule reads the dry season.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from pipeline.config import Evidence
from pipeline.imagery.reference import GROWING_MONTHS, nanmedian
from pipeline.judgement.growth import first_species, no_faster, only_own_class
from pipeline.judgement.peers import MAX_CELLS, PeerSets, masked_medians


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
    spread: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(``survival_gap_mean``, ``survival_seasons``) per plot (NaN / 0 where no season is due).
    ``spread`` (dims plots, optional) is filled in place with the mean over the read seasons
    of the robust spread of the yardstick peers' gains (1.4826 · MAD; NaN where none read):
    how far honest plots of the plot's kind scatter (:func:`run_noise`).

    ``seasons``: per dry season (label = year of its January) the plots' gain of forest-likeness
    over their same-month baseline in change units (dims plots); ``years``: planting year per
    plot (0: none); ``is_peer`` / ``lost``: bool per plot; ``start_level``: plots × 2 baseline
    dry / growing forest-likeness; ``group``: growth class per plot (``""`` unknown): peers of
    the plot's class where at least ``min_peers`` of them qualify, else (or where none of them
    gives a yardstick) the peers no faster than its class
    (:func:`~pipeline.judgement.growth.no_faster`); all usable peers only where the class is
    unknown.

    Each plot is read only against its pool (its planting-year cohort, or all usable plots
    when the cohort is too small), held as an index array: the work is Σ pool size over the
    plots, not plots². The nearest peers come from a ``cKDTree`` per missing-level pattern of
    the pool (the levels both sides have); they are ordered exactly as :func:`nearest_peers`
    orders them, and a plot whose peers might reach beyond what the trees returned (ties at
    the edge, few candidates within the band) is read against its whole pool. The plots of a
    pool are read a batch at once (``MAX_CELLS`` seasons × plots × candidates), one by one only
    where the batch cannot decide (those past the trees' reach): the same
    results, bit for bit, as :func:`~pipeline.judgement.peers.within_band` /
    :func:`nearest_peers` over full-length masks (levels finite or NaN).
    """
    n = len(years)
    total = np.zeros(n)
    count = np.zeros(n, dtype=int)
    scatter = np.zeros(n)
    usable = np.asarray(is_peer & ~lost, dtype=bool)
    band = ev.peer_baseline_band
    labels = list(seasons)
    if not labels:
        if spread is not None:
            spread[:] = np.nan
        return np.full(n, np.nan), count
    gains = np.stack([np.asarray(seasons[k], dtype=float) for k in labels])  # seasons × plots
    finite_gain = np.isfinite(gains)
    labels_arr = np.asarray(labels)
    usable_idx = np.flatnonzero(usable)
    labels_y, sizes = np.unique(years[usable], return_counts=True)
    cohort_n = dict(zip(labels_y.tolist(), sizes.tolist(), strict=True))
    pools: dict[tuple[int, str, str], np.ndarray] = {}

    def pool_of(base: int, cls: str, kind: str) -> np.ndarray:
        key = (base, cls, kind)
        if key not in pools:
            idx = usable_idx if base == 0 else usable_idx[years[usable_idx] == base]
            if kind == "class":
                idx = idx[group[idx] == cls]
            elif kind == "slower":
                idx = idx[no_faster(group[idx], cls)]
            pools[key] = idx
        return pools[key]

    # plots with a due season, each to the pools it reads in turn (its cohort where that has
    # min_peers others; its class where that has, then the classes no faster): all at once
    planted = np.flatnonzero(years > 0)
    due_at = (labels_arr[:, None] - years[planted][None, :] >= ev.survival_min_years) & (
        finite_gain[:, planted]
    )
    planted = planted[due_at.any(0)]
    y_of = years[planted]
    y_set, y_inv = np.unique(y_of, return_inverse=True)
    y_n = np.array([cohort_n.get(int(v), 0) for v in y_set], dtype=int)[y_inv.ravel()]
    self_in = usable[planted].astype(int)
    base_of = np.where(y_n - self_in >= ev.min_peers, y_of, 0)
    if group is None:
        cls_of = np.full(len(planted), "", dtype=object)
    else:
        cls_of = np.array([g if g else "" for g in group[planted]], dtype=object)
    stages: list[dict[tuple[int, str, str], np.ndarray]] = [{}, {}]
    for base in np.unique(base_of):
        here = base_of == base
        for cls in np.unique(cls_of[here]):
            sel = planted[here & (cls_of == cls)]
            if not cls:
                stages[0][(int(base), "", "all")] = sel
                continue
            narrow = len(pool_of(int(base), cls, "class")) - usable[sel] >= ev.min_peers
            stages[0][(int(base), cls, "class")] = sel[narrow]
            stages[0][(int(base), cls, "slower")] = sel[~narrow]
            if not only_own_class(cls):
                stages[1][(int(base), cls, "slower")] = sel[narrow]

    k_peers = ev.survival_peers
    k_tree = 4 * k_peers + 16  # nearest pool plots read from the tree before the exact order

    def gaps(i: int, pool: np.ndarray, sub: np.ndarray, radius: float) -> bool:
        """Add plot ``i``'s season gaps read against pool positions ``sub`` (sorted); False
        (nothing added) where a season's nearest peers may lie outside ``sub``, i.e. are not
        all strictly nearer than ``radius`` (the tree distance no plot outside ``sub`` is
        nearer than)."""
        diff = np.abs(start_level[pool[sub]] - start_level[i])
        ok = np.all(~(diff > band), 1) & (pool[sub] != i)
        cand = sub[ok]
        diff = diff[ok]
        dist = np.sqrt(np.nansum(np.where(np.isfinite(diff), diff, 0.0) ** 2, 1))
        rank = np.argsort(dist, kind="stable")
        order, dist = pool[cand[rank]], dist[rank]
        due = np.flatnonzero((labels_arr - years[i] >= ev.survival_min_years) & finite_gain[:, i])
        finite = finite_gain[np.ix_(due, order)]  # due seasons × candidates by distance
        taken = finite & (np.cumsum(finite, 1) <= k_peers)
        n_near = taken.sum(1)
        if np.isfinite(radius):
            if not len(order):
                return False
            last = np.where(n_near > 0, taken.shape[1] - 1 - np.argmax(taken[:, ::-1], 1), 0)
            if (n_near < k_peers).any() or not (dist[last] < radius * (1 - 1e-9)).all():
                return False
        vals = np.sort(np.where(taken, gains[np.ix_(due, order)], np.inf), 1)
        for row, s in enumerate(due):
            m = n_near[row]
            if m < 2:  # no yardstick of the plot's kind in this season
                continue
            v = vals[row]
            # np.median of the m values, bit for bit: the middle one, or the mean of two
            med = v[m // 2] if m % 2 else (v[m // 2 - 1] + v[m // 2]) / 2
            total[i] += gains[s, i] - float(med)
            count[i] += 1
            scatter[i] += 1.4826 * float(np.median(np.abs(v[:m] - med)))
        return True

    def gaps_batch(plots: np.ndarray, pool: np.ndarray, subs: np.ndarray, radius: np.ndarray):
        """:func:`gaps` for many plots at once (``subs``: plots × pool positions, sorted;
        ``radius`` per plot): the same values, added in the same order; per plot whether
        it was read (False: nothing added, :func:`gaps` decides)."""
        cand = pool[subs]  # plots × candidates
        diff = np.abs(start_level[cand] - start_level[plots][:, None, :])
        ok = np.all(~(diff > band), 2) & (cand != plots[:, None])
        dist = np.sqrt(np.nansum(np.where(np.isfinite(diff), diff, 0.0) ** 2, 2))
        dist = np.where(ok, dist, np.inf)
        n_ok = ok.sum(1)
        rank = np.argsort(dist, axis=1, kind="stable")  # near ones first, in gaps' order
        rank = rank[:, : max(1, int(n_ok.max(initial=0)))]  # past every plot's near ones: none
        order = np.take_along_axis(cand, rank, 1)
        dist = np.take_along_axis(dist, rank, 1)
        valid = np.arange(order.shape[1])[None, :] < n_ok[:, None]
        due = (labels_arr[:, None] - years[plots][None, :] >= ev.survival_min_years) & (
            finite_gain[:, plots]
        )  # seasons × plots
        finite = finite_gain[:, order] & valid[None]  # seasons × plots × candidates
        slot = np.cumsum(finite, 2, dtype=np.int32)
        taken = finite & (slot <= k_peers)
        n_near = taken.sum(2)
        last = np.where(n_near > 0, taken.shape[2] - 1 - np.argmax(taken[:, :, ::-1], 2), 0)
        far = ~(np.take_along_axis(dist, last.T, 1).T < (radius * (1 - 1e-9))[None, :])
        fails = ((n_near < k_peers) | far) & due
        read = ~np.isfinite(radius) | ((n_ok > 0) & ~fails.any(0))
        at_s, at_p, at_c = np.nonzero(taken)  # the (at most k_peers) taken ones, packed
        vals = np.full((len(labels), len(plots), k_peers), np.inf)
        vals[at_s, at_p, slot[at_s, at_p, at_c] - 1] = gains[at_s, order[at_p, at_c]]
        vals.sort(2)
        m = n_near
        half = np.minimum(m // 2, vals.shape[2] - 1)[..., None]
        below = np.maximum(m // 2 - 1, 0)[..., None]

        def middle(v: np.ndarray) -> np.ndarray:
            """np.median of each row's m smallest (sorted) values, bit for bit."""
            upper = np.take_along_axis(v, half, 2)[..., 0]
            lower = np.take_along_axis(v, below, 2)[..., 0]
            return np.where(m % 2 == 1, upper, (lower + upper) / 2)

        with np.errstate(invalid="ignore"):
            med = middle(vals)
            dev = np.abs(vals - med[..., None])  # the taken ones first, inf past them
            dev.sort(2)
            mad = middle(dev)
        add = due & (m >= 2) & read[None, :]
        for s in range(len(labels)):  # season by season, as gaps adds them
            hit = add[s]
            at = plots[hit]
            total[at] += gains[s, at] - med[s, hit]
            count[at] += 1
            scatter[at] += 1.4826 * mad[s, hit]
        return read

    def read_pool(key: tuple[int, str, str], plots: np.ndarray) -> None:
        pool = pool_of(*key)
        if not len(pool):  # no peer at all: no yardstick
            return
        everywhere = np.arange(len(pool))
        has = ~np.isnan(start_level[pool])
        d_pat, d_inv = np.unique(has, axis=0, return_inverse=True)
        groups = [np.flatnonzero(d_inv.ravel() == a) for a in range(len(d_pat))]
        q_has = ~np.isnan(start_level[plots])
        q_pat, q_inv = np.unique(q_has, axis=0, return_inverse=True)
        for b, qp in enumerate(q_pat):
            mine = plots[q_inv.ravel() == b]
            # per missing-level pattern of the pool: its k_tree nearest over the levels both
            # sides have (all of it where it is small or shares none), and how far they reach
            parts, radius = [], np.full(len(mine), np.inf)
            trees = []  # (members, dims, tree or None: every member)
            for dp, members in zip(d_pat, groups, strict=True):
                dims = np.flatnonzero(dp & qp)
                if not len(dims) or len(members) <= k_tree:
                    parts.append(np.broadcast_to(members, (len(mine), len(members))))
                    trees.append((members, dims, None))
                    continue
                tree = cKDTree(start_level[pool[members]][:, dims])
                dist, pos = tree.query(start_level[mine][:, dims], k=k_tree)
                parts.append(members[pos])
                radius = np.minimum(radius, dist[:, -1])
                trees.append((members, dims, tree))
            subs = np.sort(np.concatenate(parts, 1), 1)
            read = np.zeros(len(mine), dtype=bool)
            step = max(1, MAX_CELLS // max(1, subs.shape[1] * len(labels)))
            for lo in range(0, len(mine), step):
                sl = slice(lo, lo + step)
                read[sl] = gaps_batch(mine[sl], pool, subs[sl], radius[sl])
            for j in np.flatnonzero(~read):
                i = mine[j]
                if gaps(i, pool, subs[j], radius[j]):
                    continue
                if np.isfinite(radius[j]):  # ties at the edge: every plot as near as the k-th
                    r = radius[j] * (1 + 1e-8) + 1e-12
                    ball = [m if t is None else m[t.query_ball_point(start_level[i][d], r)]
                            for m, d, t in trees]  # fmt: skip
                    if gaps(i, pool, np.unique(np.concatenate(ball)).astype(int), r):
                        continue
                gaps(i, pool, everywhere, np.inf)

    for stage, by_pool in enumerate(stages):  # a next pool only where the last gave none
        for key, plots in by_pool.items():
            plots = plots if stage == 0 else plots[count[plots] == 0]
            if len(plots):
                read_pool(key, plots)
    mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    if spread is not None:
        spread[:] = np.where(count > 0, scatter / np.maximum(count, 1), np.nan)
    return mean, count


def run_noise(spread: np.ndarray, min_plots: int = 5) -> float:
    """The run's survival noise (change units): the median over its plots of the spread of
    their yardstick peers' gains (:func:`survival_gaps`), NaN where fewer than ``min_plots``
    have one. Where forest and open land are hardly apart (sparse trees and grass under snow)
    honest plots of one kind scatter by 0.3 change units, on a clear southern world by 0.03:
    a gap is read against this scatter as well as against ``survival_gap``."""
    ok = np.isfinite(spread)
    return float(np.median(spread[ok])) if ok.sum() >= min_plots else float("nan")


def closed_canopy_level(
    levels: dict[int, np.ndarray],
    years: np.ndarray,
    species: pd.Series | None,
    closed_by: dict[str, int],
) -> np.ndarray:
    """Per plot (dims plots): its dry-season level in the latest season with one that is at
    least ``closed_by[species]`` seasons after its planting year (label − year), NaN where
    the species is not listed (first listed species of a mixed planting, as
    :func:`~pipeline.judgement.growth.growth_class`), no such season is observed, or no
    planting year. ``levels``: per dry season (label = year of its January) the plots'
    forest-likeness (dims plots)."""
    n = len(years)
    out = np.full(n, np.nan)
    if species is None or not closed_by or not levels:
        return out
    due_after = first_species(species).map(lambda s: closed_by.get(s, -1)).to_numpy(dtype=float)
    listed = (due_after >= 0) & (years > 0)
    for k in sorted(levels):
        level = np.asarray(levels[k], dtype=float)
        due = listed & (k - years >= due_after) & np.isfinite(level)
        out = np.where(due, level, out)
    return out


def canopy_closure(level: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Share of the way from the plot's starting dry-season level to the forest references
    that its canopy level has gone (dims plots; forest-likeness in, share out): ``(level − s) /
    (1 − s)`` with ``s`` the starting level, or 0 where the plot started like the open land or
    below (or its start is unknown). On bare, grass and cleared land it is the level itself; on
    sparse forest planted in its gaps (补植) the spared trees already read half forest-like
    and only a rise beyond them is the planting's canopy. NaN where the level is NaN or the plot
    started forest-like (s ≥ 1)."""
    s = np.clip(np.where(np.isfinite(start), start, 0.0), 0.0, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(s < 1, (level - s) / (1 - s), np.nan)


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


def peer_survival(out, seasons, levels, near: PeerSets, year: int, ev: Evidence) -> None:
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

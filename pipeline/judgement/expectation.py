"""Grounds for NO_PLANTING_EVIDENCE: what the imagery should show by now if the plot were planted.

No site preparation and no establishment refute a planting only where one of them was to be
expected. On bare hills (荒山荒地) there is nothing to clear, and a slow species (马尾松, 木荷,
a weeded 油茶 orchard) shows no evergreen rise for years: 1–2 years after planting the imagery
cannot tell such a planting from nothing, and the claim is *not yet settled* (suspect,
ESTABLISHMENT_NOT_YET_VISIBLE), not refuted. The grounds, each read in the same imagery:

- ``peer_clear_share``: the share of the plot's cohort (same planting year, not design stage,
  no forest baseline, never the plot itself) of similar starting land (baseline dry- and
  growing-season forest-likeness within ``peer_baseline_band``) whose plot-level site
  preparation passed the gates: land like this *was* cleared where it was planted. Read among
  the plot's growth class where at least ``min_peers`` such plots are of it (eucalyptus is
  cleared whole, pines are often planted in pits that a plot mean hardly shows), else the
  whole cohort. Peers whose site preparation the imagery cannot tell (too few clear views in
  the prep window or the planting year's part of it: what INSUFFICIENT_DATA reads) are left
  out: unknown is not "not cleared"; so are partial plantings whose plot-level site work
  failed the gates, diluted by their unplanted part (:func:`clearing_read`);
- ``peer_establish_share``: the share of that cohort of the plot's growth class
  (:mod:`pipeline.judgement.growth`; every class where the plot's is unknown) that has
  established (``establish_rise`` at the gate) by now: plantings like this one *are* visible;
- ``years_after_planting``: the latest dry season with a level for the plot, minus the
  planting year: after ``establish_years`` any planting shows.

- ``prep_work_share``: the plot's site-preparation NDVI drop as a share of the median drop of
  the cohort's cleared plots (those counted in ``peer_clear_share``, every growth class): with
  ``prep_drop_z``, pit- or strip-sized site work that the clearing ground does not refute
  (:mod:`pipeline.judgement.site_work`).

A share is NaN where fewer than ``min_peers`` cohort plots qualify (no expectation).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from pipeline.config import Evidence
from pipeline.judgement.peers import grid_levels, unique_rows, uses_grid
from pipeline.judgement.site_work import work_shares

EXPECTATION_COLUMNS = (
    "peer_clear_share",
    "peer_establish_share",
    "years_after_planting",
    "prep_work_share",
)


def planting_expectation(
    years: np.ndarray,
    candidates: np.ndarray,
    start_level: np.ndarray,
    cleared: np.ndarray,
    establish_rise: np.ndarray,
    group: np.ndarray,
    last_season: np.ndarray,
    ev: Evidence,
    prep_read: np.ndarray | None = None,
    drop: np.ndarray | None = None,
) -> pd.DataFrame:
    """The grounds per plot (columns :data:`EXPECTATION_COLUMNS`, positional rows).

    ``years``: planting year per plot (0: none); ``candidates``: plots that may be cohort
    peers (bool: not design stage, no forest baseline); ``start_level``: plots × 2 baseline
    dry / growing forest-likeness; ``cleared``: plot-level site preparation passed (bool);
    ``establish_rise``: change units (NaN: no season after the planting year yet);
    ``group``: growth class per plot (``""`` unknown); ``last_season``: label of the latest dry
    season with a level per plot (NaN: none); ``prep_read``: plots whose site preparation the
    imagery can tell (bool; default all) — only they count among the clearing peers;
    ``drop``: site-preparation NDVI drop per plot (NDVI; default: no ``prep_work_share``).
    """
    n = len(years)
    clear_share = np.full(n, np.nan)
    est_share = np.full(n, np.nan)
    work_share = np.full(n, np.nan)
    has_rise = np.isfinite(establish_rise)
    established = has_rise & (establish_rise >= ev.establish_rise)
    band = ev.peer_baseline_band
    candidates = np.asarray(candidates, dtype=bool)
    cleared = np.asarray(cleared, dtype=bool)
    read = np.ones(n, bool) if prep_read is None else np.asarray(prep_read, dtype=bool)
    readers = candidates & read  # peers whose site preparation the imagery can tell
    planted = np.flatnonzero(years > 0)
    order = planted[np.argsort(years[planted], kind="stable")]
    cuts = np.flatnonzero(np.diff(years[order])) + 1
    for query in np.split(order, cuts):  # one planting-year cohort at a time
        if not len(query):
            continue
        members = np.flatnonzero(candidates & (years == years[query[0]]))
        seen = members[read[members]]
        near_n = band_counts(start_level, seen, query, band) - readers[query]
        clear_n = band_counts(start_level, seen[cleared[seen]], query, band) - (
            readers[query] & cleared[query]
        )
        ok = near_n >= ev.min_peers
        clear_share[query[ok]] = clear_n[ok] / near_n[ok]
        if drop is not None:
            work_share[query] = work_shares(drop, seen[cleared[seen]], query, ev.min_peers)
        for cls in np.unique(group[query]):
            q = query[group[query] == cls]
            if cls:  # site work differs by species: 桉树 fully cleared, pines planted in pits
                alike = seen[group[seen] == cls]
                self_in = readers[q]
                alike_n = band_counts(start_level, alike, q, band) - self_in
                alike_clear = band_counts(start_level, alike[cleared[alike]], q, band) - (
                    self_in & cleared[q]
                )
                ok = alike_n >= ev.min_peers
                clear_share[q[ok]] = alike_clear[ok] / alike_n[ok]
            pool = members[has_rise[members]]
            if cls:
                pool = pool[group[pool] == cls]
            self_in = candidates[q] & has_rise[q]  # the plot's own class is its class
            alike_n = band_counts(start_level, pool, q, band) - self_in
            est_n = band_counts(start_level, pool[established[pool]], q, band) - (
                self_in & established[q]
            )
            ok = alike_n >= ev.min_peers
            est_share[q[ok]] = est_n[ok] / alike_n[ok]
    after = np.where(years > 0, last_season - years, np.nan)
    return pd.DataFrame(
        {
            "peer_clear_share": clear_share,
            "peer_establish_share": est_share,
            "years_after_planting": after,
            "prep_work_share": work_share,
        }
    )


def clearing_read(
    n_prep_obs: np.ndarray,
    n_planting_year_obs: np.ndarray,
    cleared: np.ndarray,
    share: np.ndarray,
    share_rel: np.ndarray,
    ev: Evidence,
) -> np.ndarray:
    """Per plot (bool): whether the imagery tells if its site was prepared, so that it may
    count among the clearing peers of :func:`planting_expectation` (cleared or not).

    Not where the prep window (``n_prep_obs``) or the planting year's part of it
    (``n_planting_year_obs``) has fewer than ``min_prep_obs`` clear views (what
    INSUFFICIENT_DATA reads before site work), and not on a partial planting whose plot-level
    site work failed the gates (``cleared`` False): its unplanted part dilutes the plot mean,
    so the failed gate says nothing of the part that was planted (one that passes despite the
    dilution was cleared). Partial as PARTIAL_PLANTING reads it: per-pixel planted ``share``
    at least ``planted_share_none`` (planted at all), and the share relative to what planted
    land like this shows (``share_rel``: ``planted_share_rel``; NaN: ``share``) below
    ``planted_share_full`` — a full planting the per-pixel test finds weakly on bare hills
    still counts."""
    rel = np.where(np.isnan(share_rel), share, share_rel)
    with np.errstate(invalid="ignore"):
        seen = (n_prep_obs >= ev.min_prep_obs) & (n_planting_year_obs >= ev.min_prep_obs)
        partial = (share >= ev.planted_share_none) & (rel < ev.planted_share_full)
    return seen & (np.asarray(cleared, dtype=bool) | ~partial)


def band_counts(level: np.ndarray, data: np.ndarray, query: np.ndarray, band: float) -> np.ndarray:
    """Per plot of ``query`` (indices), how many plots of ``data`` (indices) have starting
    levels (``level``: plots × dims) all within ``band`` of its own, a level missing on either
    side not counting against (as :func:`~pipeline.judgement.peers.within_band`): one
    Chebyshev box query per pair of missing-level patterns. Where ``data`` is a large pool
    (:func:`~pipeline.judgement.peers.uses_grid`), the box of each query's start-level grid
    cell centre instead, one query per occupied cell, as the near-peer sets there
    (:func:`~pipeline.judgement.peers.near_peers`): the ball sizes make per-plot queries
    O(plots × pool) there."""
    out = np.zeros(len(query), dtype=int)
    if not len(query) or not len(data):
        return out
    if uses_grid(len(data)):
        cells = grid_levels(level[query])
        first, inverse = unique_rows(cells)
        both = np.concatenate([level[data], cells[first]])  # the pool, then one row per cell
        centres = len(data) + np.arange(len(first))
        return _box_counts(both, np.arange(len(data)), centres, band)[inverse]
    return _box_counts(level, data, query, band)


def _box_counts(level: np.ndarray, data: np.ndarray, query: np.ndarray, band: float) -> np.ndarray:
    """:func:`band_counts`, one plot at a time (one Chebyshev box query per plot of
    ``query``)."""
    out = np.zeros(len(query), dtype=int)
    d_has = ~np.isnan(level[data])
    q_has = ~np.isnan(level[query])
    d_pat, d_inv = np.unique(d_has, axis=0, return_inverse=True)
    q_pat, q_inv = np.unique(q_has, axis=0, return_inverse=True)
    d_inv, q_inv = d_inv.ravel(), q_inv.ravel()
    for a, dp in enumerate(d_pat):
        pts = level[data[d_inv == a]]
        for b, qp in enumerate(q_pat):
            rows = np.flatnonzero(q_inv == b)
            dims = np.flatnonzero(dp & qp)
            if not len(dims):
                out[rows] += len(pts)
                continue
            tree = cKDTree(pts[:, dims])
            out[rows] += tree.query_ball_point(
                level[query[rows]][:, dims], band, p=np.inf, return_length=True
            )
    return out

"""Peer yardsticks for many plots at once: who each plot's near peers are, and the medians over
them, computed once per distinct peer set instead of once per plot.

A plot's *near peers* (:func:`near_peers`) are the peers whose baseline dry- and growing-season
forest-likeness both lie within a band of its own (:func:`within_band`
applied to every plot at once). Plots with the same start levels share them, and plots with
different levels often do too: medians are taken per distinct peer set (:func:`masked_medians`),
each exactly as ``np.nanmedian`` over the set's rows gives it. Identical peer rows (the same
series several times) are counted, not repeated.

In a large pool (at least :data:`GRID_MIN_PEERS` peers: a province's cohort) a member's start
levels are first put on a grid of :data:`GRID_STEP` (:func:`grid_levels`): members in one grid
cell share the near peers of the cell's centre. That moves each band edge by at most half a
step (a sandwich: every peer within ``band − GRID_STEP / 2`` of the plot is in its set, none
beyond ``band + GRID_STEP / 2``) and bounds the distinct sets by the occupied cells instead of
the plots. Smaller pools keep every plot's own set, exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_CELLS = 4_000_000
"""Work arrays are cut into pieces of about this many cells (8 bytes each)."""

MAX_SET_CELLS = 200_000_000
"""Near-peer sets are built for at most about this many (plot, peer) pairs at once (1 byte
each, a few copies while read): :func:`member_chunks`."""


GRID_MIN_PEERS = 5_000
"""Pools of at least this many peers share near-peer sets per start-level grid cell
(:func:`grid_levels`). Below it every plot keeps its own set exactly (the demo worlds: hundreds
of plots; the exact path costs O(plots × √peers) per date, seconds up to a few thousand
peers). Above it a cohort's plots are mostly distinct and their exact sets cost minutes
(200 000 plots: 13 CPU minutes, docs/performance.md), while a set a band wide holds hundreds
to thousands of peers, whose median a half-step shift of the band's edges hardly moves (the
bound is tested in tests/unit/judgement/test_peers.py)."""

GRID_STEP = 0.02
"""Grid step of :func:`grid_levels`, forest-likeness (0: like the open land, 1: like the
forest). A fifteenth of the default ``peer_baseline_band`` (0.3), and below the start levels'
own noise: a start level is the median of a few baseline observations of NDVI (noise ~0.02-0.05)
over a forest / open-land contrast of ~0.3-0.5, i.e. uncertain by a few hundredths itself."""


def grid_levels(levels: np.ndarray, step: float = GRID_STEP) -> np.ndarray:
    """``levels`` (any dims) moved to the centre of their grid cell of ``step`` (cells
    ``[k·step, (k+1)·step)``): each moves by at most ``step / 2``; NaN stays NaN."""
    return (np.floor(np.asarray(levels, dtype=float) / step) + 0.5) * step


def unique_rows(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the first of each distinct row of ``a`` (rows × columns, compared byte for
    byte: NaNs alike, −0.0 apart from 0.0) and, per row, the number of its distinct row."""
    a = np.ascontiguousarray(a)
    if a.ndim == 1:
        a = a[:, None]
    if a.shape[1] == 0 or len(a) == 0:
        return np.zeros(min(len(a), 1), int), np.zeros(len(a), int)
    rows = a.view(np.dtype((np.void, a.dtype.itemsize * a.shape[1]))).ravel()
    _, first, inverse = np.unique(rows, return_index=True, return_inverse=True)
    return first, inverse.ravel()


def within_band(start_level: np.ndarray, i: int, band: float) -> np.ndarray:
    """Plots whose baseline dry- and growing-season forest-likeness (``start_level``, plots ×
    2) all lie within ``band`` of plot ``i``'s (a missing level does not count against): a
    proxy for the same starting land class; dims (plots,). The one-plot definition that
    :func:`near_peers` and the survival / expectation readings apply to many plots at once."""
    return np.all(~(np.abs(start_level - start_level[i]) > band), 1)


@dataclass(frozen=True)
class PeerSets:
    """The distinct peer sets of a group of plots: ``members`` (plot indices), ``peers``
    (indices of the candidate peers), ``masks`` (sets × peers, bool), ``of_member`` (per
    member, the row of its set in ``masks``) and ``levels`` (the peers' start levels, peers ×
    levels: where sets lie, for the order :func:`masked_medians` reads them in)."""

    members: np.ndarray
    peers: np.ndarray
    masks: np.ndarray
    of_member: np.ndarray
    levels: np.ndarray | None = None

    def regrouped(self, masks: np.ndarray) -> PeerSets:
        """These plots with each set replaced by ``masks`` (same rows), equal sets merged (kept
        in their order; ``masks`` itself, not a copy, where no two are equal)."""
        first, inverse = unique_rows(np.packbits(masks, axis=1))
        order = np.argsort(first)
        place = np.empty(len(first), int)
        place[order] = np.arange(len(first))
        kept = masks if len(first) == len(masks) else masks[first[order]]
        return PeerSets(self.members, self.peers, kept, place[inverse][self.of_member], self.levels)


def near_peers(
    start_level: np.ndarray, members: np.ndarray, is_peer: np.ndarray, band: float
) -> PeerSets:
    """For each plot of ``members``, the plots of ``is_peer`` (bool per plot) whose
    ``start_level`` (plots × levels) all lie within ``band`` of its own (a missing level does
    not count against), as :class:`PeerSets`. In pools of at least :data:`GRID_MIN_PEERS`
    peers, within ``band`` of its grid cell's centre (:func:`grid_levels`) instead."""
    peers = np.flatnonzero(is_peer)
    own = start_level[members]
    if uses_grid(len(peers)):
        own = grid_levels(own)
    first, inverse = unique_rows(own)
    levels = own[first]
    cand = start_level[peers]
    masks = np.ones((len(levels), len(peers)), bool)
    step = max(1, MAX_CELLS // max(1, len(peers)))
    for lo in range(0, len(levels), step):
        part = masks[lo : lo + step]
        for d in range(cand.shape[1]):  # one level at a time: no (sets × peers × levels) array
            part &= ~(np.abs(cand[None, :, d] - levels[lo : lo + step, d, None]) > band)
    return PeerSets(members, peers, masks, inverse, cand).regrouped(masks)


def masked_medians(
    values: np.ndarray,
    masks: np.ndarray,
    counted: bool | None = None,
    coords: np.ndarray | None = None,
    how: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per set (row of ``masks``, sets × rows of ``values``) and column of ``values`` (rows ×
    columns): the median of the set's values, exactly as ``np.nanmedian`` (NaN where none),
    and how many finite values there are; dims (sets × columns) both.

    Three ways, the same values bit for bit (``how``: ``"sorted"``, ``"counted"``,
    ``"ranked"``; None: the cheapest by an estimate; ``counted`` True / False is the older
    spelling of ``"counted"`` / ``"sorted"``):

    - *sorted*: each set's rows gathered and sorted (few or small sets);
    - *counted*: where rows repeat (the same series several times), each distinct row is
      counted instead of repeated;
    - *ranked*: many large, overlapping sets (every plot its own near peers): the sets taken
      in an order where each differs little from the one before (by their rows' ``coords``,
      rows × dims, e.g. the peers' start levels), every column's rows ranked once, and each
      set's median read from counts of its ranks per block of ranks, updated from the set
      before by the rows that enter and leave (:func:`_ranked_medians`).
    """
    n_sets, n_cols = len(masks), values.shape[1]
    med = np.full((n_sets, n_cols), np.nan)
    count = np.zeros((n_sets, n_cols), int)
    if n_sets == 0 or len(values) == 0:
        return med, count
    if how is None and counted is not None:
        how = "counted" if counted else "sorted"
    sizes = masks.sum(1)
    if how is None:
        direct = float(sizes.sum()) * np.log2(max(2, sizes.max()))
        ranked = n_sets * (12.0 * np.sqrt(len(values)) + len(values) / max(n_cols, 1))
        # without coords the sets come in no useful order: the rows entering and leaving
        # between neighbours could be all of them (sets × rows pairs held at once)
        if n_sets >= 32 and coords is not None and ranked < 0.5 * direct:
            how = "ranked"
    if how == "ranked":
        return _ranked_medians(values, masks, coords)
    if how is None and float(sizes.sum()) <= len(values):  # e.g. one set of all rows: sorting
        how = "sorted"  # its rows costs less than finding the distinct rows (a sort of all)
    first, inverse = unique_rows(values)
    if how is None:
        direct = float(sizes.sum()) * np.log2(max(2, sizes.max()))
        how = "sorted" if direct <= 2.0 * n_sets * len(first) else "counted"
    if how == "sorted":
        for g in range(n_sets):
            rows = values[masks[g]]
            med[g], count[g] = (_sorted_median if rows.size < MAX_CELLS // 4 else _selected_median)(
                rows
            )
        return med, count
    distinct = values[first]
    weights = np.zeros((n_sets, len(first)))
    for g in range(n_sets):  # how often each distinct row is in the set
        weights[g] = np.bincount(inverse[masks[g]], minlength=len(first))
    step = max(1, MAX_CELLS // len(first))
    for c in range(n_cols):
        order = np.argsort(distinct[:, c], kind="stable")  # NaN last
        v = distinct[order, c]
        finite = np.isfinite(v)
        for lo in range(0, n_sets, step):
            w = np.cumsum(weights[lo : lo + step, order] * ~np.isnan(v), axis=1)
            k = w[:, -1].astype(int)
            at_lo = (w <= ((k - 1) // 2)[:, None]).sum(1)  # first position past rank (k-1)//2
            at_hi = (w <= (k // 2)[:, None]).sum(1)
            a = v[np.minimum(at_lo, len(v) - 1)]
            b = v[np.minimum(at_hi, len(v) - 1)]
            mid = np.where(k % 2 == 1, a, (a + b) / 2)
            med[lo : lo + step, c] = np.where(k > 0, mid, np.nan)
            count[lo : lo + step, c] = weights[lo : lo + step, order] @ finite
    return med, count


def member_chunks(levels: np.ndarray, items: np.ndarray, n_peers: int) -> list[np.ndarray]:
    """``items`` (plot indices or positions; ``levels``: their start levels, items × levels) in
    pieces whose near-peer sets over ``n_peers`` peers fit in :data:`MAX_SET_CELLS`, each of
    nearby start levels (so its sets overlap): all of ``items`` as one piece where they fit.
    Every plot's peers and medians are its own, so the pieces give the same values."""
    size = max(1, MAX_SET_CELLS // max(1, n_peers))
    if len(items) <= size:
        return [items]
    if uses_grid(n_peers):  # near_peers builds one set per occupied grid cell
        cells = grid_levels(np.asarray(levels, dtype=float))
        if len(unique_rows(cells)[0]) <= size:
            return [items]
    order = level_order(np.nan_to_num(np.asarray(levels, dtype=float)))
    return np.array_split(items[order], -(-len(items) // size))


def uses_grid(n_peers: int) -> bool:
    """Whether a pool of ``n_peers`` peers shares near-peer sets per grid cell
    (:data:`GRID_MIN_PEERS`)."""
    return n_peers >= GRID_MIN_PEERS


def level_order(points: np.ndarray) -> np.ndarray:
    """An order of ``points`` (n × dims, finite) in which neighbours lie close: by the first
    dimension in √n strips, along the second one way and back (boustrophedon)."""
    n = len(points)
    if points.ndim == 1 or points.shape[1] == 1 or n < 3:
        return np.argsort(points.reshape(n, -1)[:, 0], kind="stable")
    x = points[:, 0]
    strips = max(1, int(np.sqrt(n)))
    strip = np.minimum(((x - x.min()) / max(np.ptp(x), 1e-300) * strips).astype(int), strips - 1)
    return np.lexsort((np.where(strip % 2 == 1, -points[:, 1], points[:, 1]), strip))


def set_order(masks: np.ndarray, coords: np.ndarray | None) -> np.ndarray:
    """An order of the sets (rows of ``masks``, sets × rows) in which neighbours share most
    rows: by the mean ``coords`` (rows × dims, NaN as 0) of their rows, in a boustrophedon over
    strips of the first dimension (the order only changes the work of
    :func:`_ranked_medians`, never its result)."""
    n = len(masks)
    if coords is None or n < 3:
        return np.arange(n)
    c = np.nan_to_num(np.asarray(coords, dtype=float).reshape(len(coords), -1))
    cent = np.empty((n, c.shape[1]))
    step = max(1, MAX_CELLS // max(1, masks.shape[1]))
    for lo in range(0, n, step):
        cent[lo : lo + step] = masks[lo : lo + step].astype(np.float32) @ c
    cent /= np.maximum(masks.sum(1), 1)[:, None]
    return level_order(cent)


def _ranked_medians(
    values: np.ndarray, masks: np.ndarray, coords: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`masked_medians` by ranks (dims as there). Per column the rows are ranked once
    (NaN last) and the ranks cut into blocks of about √rows; per set, its number of rows in
    each block is the previous set's plus the rows that enter minus those that leave, so the
    block of the median's ranks is found from those counts and the rank within the block from
    the set's own rows in it: O(sets × √rows + changes) per column instead of O(Σ set sizes
    × log) for sorting. The k-th smallest values are the same values a sort gives, so the
    medians are bit for bit those of ``np.nanmedian``."""
    n_sets, n_cols = len(masks), values.shape[1]
    n_rows = len(values)
    order = set_order(masks, coords)
    masks = np.ascontiguousarray(masks)  # read flat by _block_counts (no copy if it is)
    # rows entering / leaving from one set to the next (set position, row, entering?)
    pos_parts, row_parts = [], []
    step = max(1, MAX_CELLS // max(1, n_rows))
    for lo in range(0, n_sets - 1, step):
        hi = min(lo + step, n_sets - 1)
        s, r = np.nonzero(masks[order[lo + 1 : hi + 1]] != masks[order[lo:hi]])
        pos_parts.append(s + lo + 1)
        row_parts.append(r)
    at = np.concatenate(pos_parts) if pos_parts else np.zeros(0, int)
    rows = np.concatenate(row_parts) if row_parts else np.zeros(0, int)
    enter = masks[order[at], rows]
    start = np.flatnonzero(masks[order[0]])
    med = np.full((n_sets, n_cols), np.nan)
    count = np.zeros((n_sets, n_cols), int)
    for c in range(n_cols):
        v = values[:, c]
        present = ~np.isnan(v)
        n_present = int(present.sum())
        if n_present == 0:
            continue
        srt = np.argsort(v, kind="stable")  # NaN last
        rank = np.empty(n_rows, int)
        rank[srt] = np.arange(n_rows)
        size = max(1, int(np.sqrt(n_present)))
        n_blocks = -(-n_present // size)
        width = n_blocks + 1  # the last block: NaN rows
        block = np.where(present, rank // size, n_blocks)
        cell = at * width + block[rows]
        delta = np.bincount(cell[enter], minlength=n_sets * width) - np.bincount(
            cell[~enter], minlength=n_sets * width
        )
        delta[:width] += np.bincount(block[start], minlength=width)
        per_block = np.cumsum(delta.reshape(n_sets, width)[:, :n_blocks], axis=0)
        upto = np.cumsum(per_block, axis=1, dtype=np.int32)  # sets × blocks
        k = upto[:, -1]
        has = k > 0
        a, b = _middle_pair(k, upto, masks, order, v, srt, size, n_present)
        mid = np.where(k % 2 == 1, a, (a + b) / 2)
        med[order, c] = np.where(has, mid, np.nan)
        infinite = np.flatnonzero(np.isinf(v))
        count[order, c] = k - (masks[:, infinite].sum(1)[order] if len(infinite) else 0)
    return med, count


def _middle_pair(k, upto, masks, sets, v, srt, size: int, n_present: int):
    """Per set (rows ``sets`` of ``masks``, sets × rows) with ``k`` non-NaN values of ``v``
    (rows): its values of rank (k − 1) // 2 and k // 2 (0-based). ``upto``: per set its count
    of rows up to each block of ``size`` ranks (sets × blocks); ``srt``: the rows by rank (NaN
    last). Both are read from the first one's block where the second is in it too (the usual
    case)."""
    lo, hi = np.maximum(k - 1, 0) // 2, k // 2
    block, before, cum = _block_counts(lo, upto, masks, sets, srt, size, n_present)
    last = n_present - 1
    j_lo = (cum <= (lo - before)[:, None]).sum(1)
    a = v[srt[np.minimum(block * size + np.minimum(j_lo, size - 1), last)]]
    j_hi = (cum <= (hi - before)[:, None]).sum(1)
    b = v[srt[np.minimum(block * size + np.minimum(j_hi, size - 1), last)]]
    beyond = np.flatnonzero((j_hi >= size) & (k > 0))  # the second in a later block
    if len(beyond):
        block, before, cum = _block_counts(hi[beyond], upto[beyond], masks, sets[beyond], srt,
                                           size, n_present)  # fmt: skip
        j = (cum <= (hi[beyond] - before)[:, None]).sum(1)
        b[beyond] = v[srt[np.minimum(block * size + np.minimum(j, size - 1), last)]]
    return a, b


def _block_counts(r, upto, masks, sets, srt, size: int, n_present: int):
    """Per set: the block of its rank ``r``, its count of rows before that block, and its
    running count of rows over the block's ranks (sets × size)."""
    setpos = np.arange(len(sets))
    block = np.minimum((upto <= r[:, None]).sum(1), upto.shape[1] - 1)
    before = np.where(block > 0, upto[setpos, np.maximum(block - 1, 0)], 0)
    slots = block[:, None] * size + np.arange(size)[None, :]  # the ranks of the block
    cells = sets[:, None] * masks.shape[1] + srt[np.minimum(slots, n_present - 1)]
    mine = np.take(masks.reshape(-1), cells) & (slots < n_present)  # flat: faster than 2-D
    return block, before, np.cumsum(mine, axis=1, dtype=np.int32)


def _sorted_median(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column medians of the non-NaN values of ``rows`` (NaN where none, as
    ``np.nanmedian``) and the counts of their finite values."""
    if len(rows) == 0:
        return np.full(rows.shape[1], np.nan), np.zeros(rows.shape[1], int)
    s = np.sort(rows, axis=0)  # NaN last
    k = (~np.isnan(s)).sum(0)
    cols = np.arange(s.shape[1])
    a = s[np.maximum(k - 1, 0) // 2, cols]
    b = s[np.minimum(k // 2, len(s) - 1), cols]
    mid = np.where(k % 2 == 1, a, (a + b) / 2)
    return np.where(k > 0, mid, np.nan), np.isfinite(s).sum(0)


def _selected_median(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_sorted_median` by selection (``np.partition``) one column at a time: the same
    values (the k-th smallest are those a sort puts there), less work for many rows."""
    med = np.full(rows.shape[1], np.nan)
    count = np.isfinite(rows).sum(0)
    for c, v in enumerate(np.ascontiguousarray(rows.T)):
        v = v[~np.isnan(v)]
        k = len(v)
        if k == 0:
            continue
        lo, hi = (k - 1) // 2, k // 2
        part = np.partition(v, [lo, hi])
        med[c] = part[lo] if k % 2 == 1 else (part[lo] + part[hi]) / 2
    return med, count


def nanmedian(a: np.ndarray, axis: int) -> np.ndarray:
    """``np.nanmedian`` of a 2-D array along ``axis`` (the same values, without its warning
    on all-NaN lanes), from one sort instead of masked arrays."""
    a = np.asarray(a)
    if a.ndim != 2 or a.dtype.kind != "f":
        from pipeline.imagery.reference import nanmedian as reference

        return reference(a, axis)
    return _sorted_median(a if axis == 0 else a.T)[0]

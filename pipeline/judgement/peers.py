"""Peer yardsticks for many plots at once: who each plot's near peers are, and the medians over
them, computed once per distinct peer set instead of once per plot.

A plot's *near peers* (:func:`near_peers`) are the peers whose baseline dry- and growing-season
forest-likeness both lie within a band of its own (:func:`within_band`
applied to every plot at once). Plots with the same start levels share them, and plots with
different levels often do too: medians are taken per distinct peer set (:func:`masked_medians`),
each exactly as ``np.nanmedian`` over the set's rows gives it. Identical peer rows (the same
series several times) are counted, not repeated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_CELLS = 4_000_000
"""Work arrays are cut into pieces of about this many cells (8 bytes each)."""


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
    (indices of the candidate peers), ``masks`` (sets × peers, bool) and ``of_member`` (per
    member, the row of its set in ``masks``)."""

    members: np.ndarray
    peers: np.ndarray
    masks: np.ndarray
    of_member: np.ndarray

    def regrouped(self, masks: np.ndarray) -> PeerSets:
        """These plots with each set replaced by ``masks`` (same rows), equal sets merged."""
        first, inverse = unique_rows(np.packbits(masks, axis=1))
        return PeerSets(self.members, self.peers, masks[first], inverse[self.of_member])


def near_peers(
    start_level: np.ndarray, members: np.ndarray, is_peer: np.ndarray, band: float
) -> PeerSets:
    """For each plot of ``members``, the plots of ``is_peer`` (bool per plot) whose
    ``start_level`` (plots × levels) all lie within ``band`` of its own (a missing level does
    not count against), as :class:`PeerSets`."""
    peers = np.flatnonzero(is_peer)
    first, inverse = unique_rows(start_level[members])
    levels = start_level[members][first]
    cand = start_level[peers]
    masks = np.empty((len(levels), len(peers)), bool)
    step = max(1, MAX_CELLS // max(1, cand.size))
    for lo in range(0, len(levels), step):
        diff = np.abs(cand[None, :, :] - levels[lo : lo + step, None, :])
        masks[lo : lo + step] = np.all(~(diff > band), 2)
    return PeerSets(members, peers, masks, inverse).regrouped(masks)


def masked_medians(
    values: np.ndarray, masks: np.ndarray, counted: bool | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per set (row of ``masks``, sets × rows of ``values``) and column of ``values`` (rows ×
    columns): the median of the set's values, exactly as ``np.nanmedian`` (NaN where none),
    and how many finite values there are; dims (sets × columns) both.

    Sets of many rows are medians of their sorted columns; where rows repeat (the same series
    several times) and sets are many, each distinct row is counted instead of repeated
    (``counted``: force one way or the other; None: the cheaper).
    """
    n_sets, n_cols = len(masks), values.shape[1]
    med = np.full((n_sets, n_cols), np.nan)
    count = np.zeros((n_sets, n_cols), int)
    if n_sets == 0 or len(values) == 0:
        return med, count
    first, inverse = unique_rows(values)
    sizes = masks.sum(1)
    direct = float(sizes.sum()) * np.log2(max(2, sizes.max()))
    if not counted if counted is not None else direct <= 2.0 * n_sets * len(first):
        for g in range(n_sets):
            med[g], count[g] = _sorted_median(values[masks[g]])
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


def nanmedian(a: np.ndarray, axis: int) -> np.ndarray:
    """``np.nanmedian`` of a 2-D array along ``axis`` (the same values, without its warning
    on all-NaN lanes), from one sort instead of masked arrays."""
    a = np.asarray(a)
    if a.ndim != 2 or a.dtype.kind != "f":
        from pipeline.imagery.reference import nanmedian as reference

        return reference(a, axis)
    return _sorted_median(a if axis == 0 else a.T)[0]

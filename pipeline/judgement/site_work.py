"""Site work of some kind: a drop too small for a clearing, read against peers and the plot's
own scatter, so that "land like this was cleared where planted" does not refute a plot that was
worked in pits or strips.

Pits and strips (穴状 / 带状整地) work a fifth to a third of a plot; its mean NDVI then falls by
about that share of a full clearing's drop, below the site-preparation gate. Such a drop counts
as site work where both hold:

- ``prep_work_share`` (:func:`work_shares`): the plot's drop is at least ``site_work_share`` of
  the median drop of its cohort's cleared plots — what site work shows in this imagery, season
  and land (read in :mod:`pipeline.judgement.expectation`);
- ``prep_drop_z`` (:func:`baseline_scatter`): the drop stands ``site_work_z`` times the plot's
  own scatter about its same-month baseline (before the prep window) — the second-largest of a
  window's 20–40 deviations reaches about 2 scatters by noise alone, 2.5 in about 2 % of windows
  (a crop plot's harvests and a northern grassland's dry years scatter widely).
"""

from __future__ import annotations

import numpy as np


def baseline_scatter(N: np.ndarray, before: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Per plot the standard deviation of its NDVI about its own calendar-month means in the
    baseline (dims plots; NDVI; NaN with fewer than 3 degrees of freedom). A month's own
    seasonal slope (green-up, senescence) counts in it: a wide season spares fewer drops.

    ``N``: plots × dates NDVI (NaN: not clear); ``before``: plots × dates, in the baseline;
    ``months``: calendar month (1–12) per date.
    """
    ss = np.zeros(len(N))
    dof = np.zeros(len(N))
    for m in np.unique(months):
        cols = np.flatnonzero(months == m)
        x = np.where(before[:, cols], N[:, cols], np.nan)
        n = np.isfinite(x).sum(1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.nansum(x, 1) / n
        ss += np.nansum((x - mean[:, None]) ** 2, 1)
        dof += np.maximum(n - 1, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(dof >= 3, np.sqrt(ss / dof), np.nan)


def work_shares(
    drop: np.ndarray, cleared: np.ndarray, query: np.ndarray, min_peers: int
) -> np.ndarray:
    """Per plot of ``query`` (indices) its ``drop`` over the median drop of the ``cleared``
    plots (indices; the plot itself left out), NaN where fewer than ``min_peers`` of them or the
    median is not positive."""
    cleared = cleared[np.isfinite(drop[cleared])]
    if len(cleared) < max(min_peers, 1):
        return np.full(len(query), np.nan)
    ref = np.sort(drop[cleared])
    own = np.isin(query, cleared)
    # without the plot: the sorted values with its own (position k) taken out, m of them
    k = np.where(own, np.searchsorted(ref, drop[query]), len(ref))
    m = len(ref) - own.astype(int)

    def nth(j: np.ndarray) -> np.ndarray:
        return ref[np.where(j < k, j, j + 1)]

    m = np.maximum(m, 1)  # (a lone plot: NaN below)
    median = np.where(m % 2 == 1, nth((m - 1) // 2), (nth(m // 2 - 1) + nth(m // 2)) / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(median > 0, drop[query] / median, np.nan)
    return np.where(len(ref) - own >= min_peers, share, np.nan)

"""The planted share read against its peers: how much of land like this the per-pixel test finds.

The per-pixel test (site preparation or establishment,
:func:`pipeline.imagery.series.planted_shares`) does not find every planted pixel alike on every
land: on bare hills (荒山荒地) there is little to clear and young crowns are small, a sensor without
SWIR has no bare-soil rise, a 16 m pixel mixes more edge. A fully planted plot there shows, say,
70 % of its pixels planted, and read as an absolute share it is PARTIAL_PLANTING with a third of
its area lost. The same imagery says how much the test finds on planted land like this: the
plots of the same planting year, of similar starting land, that show planting. Their median
share is the *detection rate*; a plot's share divided by it (at most 1) is its planted share
relative to what planted land like this shows.

- ``planted_share_rate``: the median per-pixel planted share of the plot's near peers — plots of
  the same planting year, not design stage, no forest baseline, with a share of at least
  ``planted_share_none`` (planted at all), starting within ``peer_baseline_band`` of the plot
  (the plot itself among them where it qualifies); NaN where fewer than ``min_peers`` are near;
- ``planted_share_rel``: ``min(1, planted_share / rate)``; the share itself where there is no
  rate. Only PARTIAL_PLANTING and the planted area read it: the refutation (no planting at
  all) stays on the share itself, and a rate never lowers a share.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.config import Evidence
from pipeline.judgement.peers import masked_medians, near_peers

PLANTED_COLUMNS = ("planted_share_rate", "planted_share_rel")


def relative_shares(
    share: np.ndarray,
    years: np.ndarray,
    candidates: np.ndarray,
    start_level: np.ndarray,
    ev: Evidence,
) -> pd.DataFrame:
    """Per plot (positional rows) the detection rate of its near peers and its relative share
    (columns :data:`PLANTED_COLUMNS`).

    ``share``: per-pixel planted share (NaN: none); ``years``: planting year (0: none);
    ``candidates``: plots that may be peers (bool: not design stage, no forest baseline);
    ``start_level``: plots × 2 baseline dry / growing forest-likeness.
    """
    n = len(share)
    rate = np.full(n, np.nan)
    with np.errstate(invalid="ignore"):
        planted = np.asarray(candidates, bool) & (share >= ev.planted_share_none)
    for y in np.unique(years[years > 0]):
        members = np.flatnonzero(years == y)
        pool = planted & (years == y)
        if pool.sum() < ev.min_peers:
            continue
        near = near_peers(start_level, members, pool, ev.peer_baseline_band)
        med, count = masked_medians(share[near.peers][:, None], near.masks, coords=near.levels)
        ok = count[:, 0] >= ev.min_peers
        rate[members] = np.where(ok, med[:, 0], np.nan)[near.of_member]
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(rate > 0, np.minimum(1.0, share / rate), share)
    rel = np.where(np.isfinite(rate), np.fmax(rel, share), share)
    return pd.DataFrame({"planted_share_rate": rate, "planted_share_rel": rel})

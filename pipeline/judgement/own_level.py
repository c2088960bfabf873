"""The plot's own level at a loss break: a drop against the peers must also be a drop.

The loss break test (:mod:`pipeline.judgement.breaks`) runs on the plot minus its peers'
per-date median, which removes the season and common growth. Where the peers' seasonal swing
differs from the plot's (herb-covered peers greening in spring beside a bare plot), that
difference alone makes a "drop" although the plot's own NDVI never falls. :func:`own_step`
reads the plot's *own* series at the break found on the anomaly: the same history window and
monitor, level (and an annual harmonic where the history spans ≥ 300 days) fitted on the
history, the step = fitted − observed in the monitor (median, > 0 for a drop).
"""

from __future__ import annotations

import numpy as np

from pipeline.judgement.breaks import fit_history, predict


def own_step(
    t: np.ndarray,
    y: np.ndarray,
    day: float,
    *,
    min_obs: int,
    before_days: float,
    after_days: float,
) -> float:
    """Step down of series ``y`` (days ``t``, sorted, finite) at ``day``: the history
    ``before_days`` before it fitted (level, plus season when ≥ 6 observations span ≥ 300
    days) against the first ``min_obs`` observations from ``day`` on (within ``after_days``);
    NaN when either side has fewer than ``min_obs``. Units of ``y``."""
    pre = (t >= day - before_days) & (t < day)
    post_idx = np.flatnonzero((t >= day) & (t < day + after_days))[:min_obs]
    if pre.sum() < min_obs or len(post_idx) < min_obs:
        return float("nan")
    tp, yp = t[pre], y[pre]
    season = len(tp) >= 6 and tp[-1] - tp[0] >= 300
    coef = fit_history(tp, yp, trend=False, season=season)
    expected = predict(coef, t[post_idx], tp[-1], False, season)
    return float(np.median(expected - y[post_idx]))

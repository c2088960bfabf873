"""A metric read against the run's own spread of it: how far a plot stands out from the others.

Where forest and open land are hardly apart in the imagery (a northern landscape of sparse
trees, grass and snowy winters) every plot's series is noisier in change units, and the largest
step of an honest plot can pass a fixed magnitude gate. Read against the steps of all plots of
the same run, a felling still stands far out while that noise does not: ``robust_scores``
gives ``(value − median) / (1.4826 · MAD)`` over the plots with a value (the median and MAD
ignore the few plots that truly changed), with the MAD floored at ``min_spread``.

What the spread of ``loss_drop`` holds besides noise (read on two independent young-plantation
worlds): the largest step of the plot minus its peers is also made by the peers rising (a
cohort growing apart: the plot's own level rose while the anomaly fell, own step < 0 on most
honest plots with a large step), by weeding and herb phenology, and it grows with the monitored
length (a cohort planted earlier has more splits to take the largest of: there the honest median
step was 0.27 against 0.10 for the latest cohort). A clear felling (step 0.53, statistic 26,
own drop 0.67) then stood only ≈ 2 robust SD out, so the default gate is 2 (the value the
project's training fit chose), not 3. Reading the spread on the own step, on own drops only or
per cohort did not separate losses from honest plots better on those worlds (not adopted).
Where the plot's *own* level falls a large step at the break (``loss_own_sure``), the spread
gate is waived: the honest plots it holds back step against their peers, not on their own
(:mod:`pipeline.judgement.rules`).
"""

from __future__ import annotations

import numpy as np


def robust_scores(values: np.ndarray, min_spread: float) -> np.ndarray:
    """Robust z-scores of ``values`` (dims plots; NaN stays NaN, and all NaN where fewer than
    5 plots have a value: too few to know the spread)."""
    ok = np.isfinite(values)
    if ok.sum() < 5:
        return np.full(len(values), np.nan)
    med = float(np.median(values[ok]))
    mad = 1.4826 * float(np.median(np.abs(values[ok] - med)))
    return (values - med) / max(mad, min_spread)

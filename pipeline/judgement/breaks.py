"""Loss as a break test on a stable history (BFAST-Monitor-like), for one series at a time.

At each candidate split the history before it (``before_days``) is fitted with a level, and
optionally a trend and one annual harmonic (season); the first ``min_obs`` observations after
it (within ``after_days``: the monitor's moving window) are compared with the fit's
prediction, so a slow divergence (a plot growing slower than its peers) is no break while a
clearing is. The break statistic is a moving sum of the residuals scaled by the history's
robust noise, ``z = step · √n_after / noise``; a break
is reported when the largest step passes both the magnitude gate (``step ≥ min_drop``) and the
statistic gate (``z ≥ min_z``). It is dated to the *first observation of the new level*,
searched from the start of the history window (the best split can follow the drop when the
after-window is already mostly low), and given a confidence in (0, 1): 0.5 at the gates,
rising as the weaker of the two margins grows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

YEAR_DAYS = 365.25
MIN_NOISE_SHARE = 0.1  # the history noise is at least this share of the magnitude gate


@dataclass(frozen=True)
class Break:
    """The largest downward step: index and day of the first observation at the new level,
    the step (history prediction − new level, > 0 for a drop), the statistic, a confidence and
    whether it passed both gates (only then is it a break)."""

    index: int
    day: float
    step: float
    z: float
    confidence: float
    passed: bool


def _design(t: np.ndarray, t0: float, trend: bool, season: bool) -> np.ndarray:
    cols = [np.ones_like(t)]
    if trend:
        cols.append((t - t0) / YEAR_DAYS)
    if season:
        w = 2 * np.pi * t / YEAR_DAYS
        cols += [np.cos(w), np.sin(w)]
    return np.stack(cols, 1)


def fit_history(
    t: np.ndarray, y: np.ndarray, trend: bool = False, season: bool = False
) -> np.ndarray:
    """Least-squares coefficients of level (+ trend per year) (+ annual harmonic) on (t, y)."""
    X = _design(t, t[-1], trend, season)
    return np.linalg.lstsq(X, y, rcond=None)[0]


def predict(coef: np.ndarray, t: np.ndarray, t_end: float, trend: bool, season: bool):
    """The fitted model at days ``t`` (``t_end``: the history's last day, the trend origin)."""
    return _design(t, t_end, trend, season) @ coef


def detect_break(
    t: np.ndarray,
    y: np.ndarray,
    *,
    min_drop: float,
    min_z: float,
    min_obs: int = 3,
    before_days: float = 240.0,
    after_days: float = 120.0,
    trend: bool = False,
    season: bool = False,
    min_history_days: float = 0.0,
) -> Break | None:
    """The largest downward step of series ``y`` at days ``t`` (sorted, finite), tested
    against the gates (``passed``); None when no split has ``min_obs`` on both sides.

    ``trend`` / ``season``: fit them on the history (needs ≥ 4 / ≥ 6 history observations
    spanning ≥ 60 / ≥ 300 days; otherwise the fit falls back to fewer terms). Splits whose
    history spans less than ``min_history_days`` are not tested.
    """
    n = len(t)
    best: tuple | None = None  # step, z, split, coefficients, trend origin, terms
    for j in range(n):
        pre = (t >= t[j] - before_days) & (t < t[j])
        post = np.zeros(n, bool)
        post[j : j + min_obs] = True  # the monitor: the first observations after the split
        post &= t < t[j] + after_days
        n_pre, n_post = int(pre.sum()), int(post.sum())
        if n_pre < min_obs or n_post < min_obs:
            continue
        tp, yp = t[pre], y[pre]
        span = tp[-1] - tp[0]
        if span < min_history_days:
            continue
        use_season = season and n_pre >= 6 and span >= 300
        use_trend = trend and n_pre >= 4 and span >= 60
        coef = fit_history(tp, yp, use_trend, use_season)
        fitted = predict(coef, tp, tp[-1], use_trend, use_season)
        resid_pre = yp - fitted
        resid = y[post] - predict(coef, t[post], tp[-1], use_trend, use_season)
        step = -float(np.median(resid))
        mad = 1.4826 * float(np.median(np.abs(resid_pre - np.median(resid_pre))))
        noise = max(mad, MIN_NOISE_SHARE * min_drop)
        z = step * np.sqrt(n_post) / noise
        if best is None or step > best[0]:
            best = (step, z, j, coef, tp[-1], use_trend, use_season)
    if best is None:
        return None
    step, z, j, coef, t_end, use_trend, use_season = best
    first = int(np.flatnonzero(t >= t[j] - before_days)[0])
    low = y - predict(coef, t, t_end, use_trend, use_season) < -step / 2
    onset = j
    for s in range(first, n):
        if low[s] and low[s : s + 3].mean() > 0.5:
            onset = s
            break
    margin = min(step / min_drop, z / min_z)
    confidence = float(1 / (1 + np.exp(-4 * (margin - 1))))
    passed = step >= min_drop and z >= min_z
    return Break(onset, float(t[onset]), step, float(z), confidence, passed)

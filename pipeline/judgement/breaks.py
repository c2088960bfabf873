"""Loss as a break test on a stable history (BFAST-Monitor-like): one series at a time
(:func:`detect_break`, the reference) or many on one date axis (:func:`detect_breaks`).

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


@dataclass(frozen=True)
class Breaks:
    """:func:`detect_breaks` per series (dims (series,)): whether a split was testable
    (``found``; the other fields are NaN / False where not) and, as :class:`Break`, the index
    (into the full date axis) and day of the first observation at the new level, the step, the
    statistic, the confidence and whether both gates passed."""

    found: np.ndarray
    index: np.ndarray
    day: np.ndarray
    step: np.ndarray
    z: np.ndarray
    confidence: np.ndarray
    passed: np.ndarray


def detect_breaks(
    t: np.ndarray,
    Y: np.ndarray,
    usable: np.ndarray,
    *,
    min_drop: float,
    min_z: float,
    min_obs: int = 3,
    before_days: float = 240.0,
    after_days: float = 120.0,
    trend: bool = False,
    season: bool = False,
    min_history_days: float = 0.0,
    max_cells: int = 2_000_000,
) -> Breaks:
    """:func:`detect_break` on every row of ``Y`` at once: series × dates, days ``t`` (dims
    (dates,), strictly increasing), ``usable`` (series × dates) the observations each series
    keeps (finite). Same splits, fits, medians and dating as the per-series test (the history
    fits are solved from their normal equations instead of an SVD: results agree to rounding).

    Work and memory are linear in the (split × history-window) cells, done ``max_cells`` at a
    time (rows in chunks): about dates × history observations per series.
    """
    t = np.asarray(t, dtype=float)
    n_rows, n_dates = Y.shape
    res = Breaks(
        found=np.zeros(n_rows, bool),
        index=np.full(n_rows, -1),
        day=np.full(n_rows, np.nan),
        step=np.full(n_rows, np.nan),
        z=np.full(n_rows, np.nan),
        confidence=np.full(n_rows, np.nan),
        passed=np.zeros(n_rows, bool),
    )
    if n_rows == 0 or n_dates == 0:
        return res
    # the most observations any history window can hold (on the shared date axis)
    window = int(np.max(np.arange(n_dates) - np.searchsorted(t, t - before_days, "left")))
    per_row = n_dates * 16 + max(window, 1) * 8  # running sums; the best split's window
    step_rows = max(1, max_cells // per_row)
    for lo in range(0, n_rows, step_rows):
        rows = slice(lo, min(lo + step_rows, n_rows))
        _detect_chunk(
            t, Y[rows], usable[rows], res, lo, min_drop, min_z, min_obs, before_days,
            after_days, trend, season, min_history_days,
        )  # fmt: skip
    return res


def _columns(tt: np.ndarray, t_end: np.ndarray, use_trend, use_season) -> np.ndarray:
    """Design columns (…, 4): level, trend per year from ``t_end``, cos, sin — zero where the
    term is not used (shapes of ``tt``; ``t_end`` / flags broadcast against it)."""
    w = 2 * np.pi * tt / YEAR_DAYS
    return np.stack(
        [
            np.ones_like(tt),
            np.where(use_trend, (tt - t_end) / YEAR_DAYS, 0.0),
            np.where(use_season, np.cos(w), 0.0),
            np.where(use_season, np.sin(w), 0.0),
        ],
        -1,
    )


def _solve_spd(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve stacks of small symmetric positive definite systems (…, k, k) x = (…, k) by a
    Cholesky factorisation written over the stack (one numpy operation per entry)."""
    k = A.shape[-1]
    a = [[np.ascontiguousarray(A[..., i, j]) for j in range(k)] for i in range(k)]
    L = [[None] * k for _ in range(k)]
    for i in range(k):
        for j in range(i + 1):
            s = a[i][j] - sum((L[i][m] * L[j][m] for m in range(j)), np.zeros_like(a[i][j]))
            L[i][j] = np.sqrt(np.maximum(s, 0.0)) if i == j else s / L[j][j]
    u = [None] * k
    for i in range(k):  # forward: L u = b
        u[i] = b[..., i] - sum((L[i][m] * u[m] for m in range(i)), np.zeros_like(b[..., i]))
        u[i] = u[i] / L[i][i]
    x = [None] * k
    for i in reversed(range(k)):  # backward: Lᵀ x = u
        rest = sum((L[m][i] * x[m] for m in range(i + 1, k)), np.zeros_like(u[i]))
        x[i] = (u[i] - rest) / L[i][i]
    return np.stack(x, -1)


def _row_median(v: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Median of the first ``n`` values of each row of ``v`` sorted ascending (as np.median)."""
    r = np.arange(len(v))
    n = np.maximum(n, 1)
    a, b = v[r, (n - 1) // 2], v[r, n // 2]
    return np.where((n % 2) == 1, a, (a + b) / 2)


def _detect_chunk(t, Y, usable, res, offset, min_drop, min_z, min_obs, before_days,
                  after_days, trend, season, min_history_days) -> None:  # fmt: skip
    """:func:`detect_breaks` on one chunk of rows, written into ``res`` at ``offset``.

    Every split's history fit comes from running sums along the row (its step needs only
    the fit and the ``min_obs`` observations after it); the best split's fit is then solved
    again from its own observations, as are its noise (the residuals' MAD) and its onset.
    """
    r_obs, c_obs = np.nonzero(usable)  # row-major: each row's observations in time order
    if len(r_obs) == 0:
        return
    ft, fy = t[c_obs], Y[r_obs, c_obs].astype(float)
    n_row = np.bincount(r_obs, minlength=len(Y))
    start = np.concatenate([[0], np.cumsum(n_row)[:-1]])
    end = start + n_row
    span_key = 4.0 * (np.abs(t).max() + before_days + after_days + 1)
    key = r_obs * span_key + ft  # one sorted axis for all rows (integer-valued: exact)
    g = np.arange(len(ft))
    a = np.searchsorted(key, key - before_days, "left")  # first history observation
    stop = np.searchsorted(key, key + after_days, "left")
    b = np.minimum(np.minimum(g + min_obs, end[r_obs]), stop)
    n_pre, n_post = g - a, b - g
    ok = (n_pre >= min_obs) & (n_post >= min_obs)
    span = np.where(ok, ft[np.maximum(g - 1, 0)] - ft[a], -np.inf)
    ok &= span >= min_history_days
    s = np.flatnonzero(ok)  # the tested splits
    if len(s) == 0:
        return
    n_pre_s, sp = n_pre[s], span[s]
    use_season = season & (n_pre_s >= 6) & (sp >= 300)
    use_trend = trend & (n_pre_s >= 4) & (sp >= 60)
    t_end = ft[s - 1]
    coef = _window_fits(ft, fy, a[s], s, t_end, use_trend, use_season)
    pidx = s[:, None] + np.arange(min_obs)  # n_post == min_obs for every tested split
    Xq = _columns(ft[pidx], t_end[:, None], use_trend[:, None], use_season[:, None])
    resid = fy[pidx] - np.einsum("swk,sk->sw", Xq, coef)
    resid.sort(1)
    step = -_row_median(resid, n_post[s])
    # the best split per row: the largest step, the first one on ties (as the loop's ``>``)
    row_s = r_obs[s]
    order = np.lexsort((s, -step, row_s))
    first_of_row = np.r_[True, row_s[order][1:] != row_s[order][:-1]]
    best = order[first_of_row]
    rows, j, a_b = row_s[best], s[best], a[s][best]
    t_end_b, trend_b, season_b = t_end[best], use_trend[best], use_season[best]
    # the best split's fit again from its own observations, its step and noise
    width = int(n_pre_s[best].max())
    idx = a_b[:, None] + np.arange(width)
    inside = idx < j[:, None]
    idx = np.where(inside, idx, j[:, None] - 1)
    yp = np.where(inside, fy[idx], 0.0)
    Xp = _columns(ft[idx], t_end_b[:, None], trend_b[:, None], season_b[:, None])
    Xp *= inside[..., None]
    A = np.einsum("swk,swl->skl", Xp, Xp) + _unused(trend_b, season_b)
    coef_b = _solve_spd(A, np.einsum("swk,sw->sk", Xp, yp))
    resid_pre = np.where(inside, yp - np.einsum("swk,sk->sw", Xp, coef_b), np.inf)
    resid_pre.sort(1)
    med = _row_median(resid_pre, n_pre_s[best])
    dev = np.where(np.isfinite(resid_pre), np.abs(resid_pre - med[:, None]), np.inf)
    dev.sort(1)
    mad = 1.4826 * _row_median(dev, n_pre_s[best])
    post = pidx[best]
    Xq = _columns(ft[post], t_end_b[:, None], trend_b[:, None], season_b[:, None])
    resid = fy[post] - np.einsum("swk,sk->sw", Xq, coef_b)
    resid.sort(1)
    n_post_b = n_post[j]
    step_b = -_row_median(resid, n_post_b)
    z_b = step_b * np.sqrt(n_post_b) / np.maximum(mad, MIN_NOISE_SHARE * min_drop)
    # onset: the first observation from the history start on that is low, with most of the
    # next three low too (else the split)
    width = int(n_row[rows].max())
    idx = start[rows][:, None] + np.arange(width)
    inside = idx < end[rows][:, None]
    idx = np.where(inside, idx, end[rows][:, None] - 1)
    X = _columns(ft[idx], t_end_b[:, None], trend_b[:, None], season_b[:, None])
    low = inside & (fy[idx] - np.einsum("swk,sk->sw", X, coef_b) < -step_b[:, None] / 2)
    ahead = low.astype(int)
    ahead[:, :-1] += low[:, 1:]
    ahead[:, :-2] += low[:, 2:]
    left = np.minimum(3, end[rows][:, None] - idx)
    cand = low & (2 * ahead > left) & (idx >= a_b[:, None])
    onset = np.where(cand.any(1), idx[np.arange(len(rows)), cand.argmax(1)], j)
    margin = np.minimum(step_b / min_drop, z_b / min_z)
    out = offset + rows
    res.found[out] = True
    res.index[out] = c_obs[onset]
    res.day[out] = ft[onset]
    res.step[out] = step_b
    res.z[out] = z_b
    res.confidence[out] = 1 / (1 + np.exp(-4 * (margin - 1)))
    res.passed[out] = (step_b >= min_drop) & (z_b >= min_z)


def _unused(use_trend: np.ndarray, use_season: np.ndarray) -> np.ndarray:
    """(splits, 4, 4): 1 on the diagonal of the terms not fitted (their coefficient is 0)."""
    out = np.zeros((len(use_trend), 4, 4))
    out[:, 1, 1] = ~use_trend
    out[:, 2, 2] = out[:, 3, 3] = ~use_season
    return out


def _window_fits(ft, fy, a, j, t_end, use_trend, use_season) -> np.ndarray:
    """Least-squares coefficients (splits × 4, as :func:`_columns`) of each split's history
    (observations ``a`` to ``j − 1`` of the flat axis) from running sums along each row:
    linear in observations, whatever the window length. Days are centred on the axis and in
    years, so the sums keep ~13 significant digits."""
    centre = (ft.min() + ft.max()) / 2
    tau = (ft - centre) / YEAR_DAYS
    w = 2 * np.pi * ft / YEAR_DAYS
    c, s_ = np.cos(w), np.sin(w)
    terms = np.stack(
        [np.ones_like(ft), tau, c, s_, tau * tau, tau * c, tau * s_, c * c, c * s_, s_ * s_,
         fy, tau * fy, c * fy, s_ * fy],
        1,
    )  # fmt: skip
    run = np.zeros((len(ft) + 1, terms.shape[1]))
    np.cumsum(terms, axis=0, out=run[1:])  # a chunk's rows are few: the sums stay small
    S = run[j] - run[a]
    (n, st, sc, ss, stt, stc, sts, scc, scs, sss, sy, sty, scy, ssy) = S.T
    e = (t_end - centre) / YEAR_DAYS  # trend column: (t − t_end) / year = tau − e
    su, suu = st - n * e, stt - 2 * e * st + n * e * e
    suc, sus, suy = stc - e * sc, sts - e * ss, sty - e * sy
    tr, se = use_trend.astype(float), use_season.astype(float)
    A = np.empty((len(j), 4, 4))
    A[:, 0] = np.stack([n, su * tr, sc * se, ss * se], 1)
    A[:, 1] = np.stack([su * tr, suu * tr, suc * tr * se, sus * tr * se], 1)
    A[:, 2] = np.stack([sc * se, suc * tr * se, scc * se, scs * se], 1)
    A[:, 3] = np.stack([ss * se, sus * tr * se, scs * se, sss * se], 1)
    A += _unused(use_trend, use_season)
    rhs = np.stack([sy, suy * tr, scy * se, ssy * se], 1)
    return _solve_spd(A, rhs)

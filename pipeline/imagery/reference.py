"""Reference levels from the same imagery: stable forest and stable open land around the plots.

Absolute NDVI levels do not travel between regions, sensors and seasons (evergreen forest in
the humid south reads ~0.8 in winter, deciduous forest over snow in the north ~0.3). So every
level the judgement reads is put on a scale set by pixels of the same tile and dates: pixels
sampled outside the plots, kept when their dry-season level is stable from year to year, and
split in two by their dry-season level (Otsu's threshold): the upper class is the *forest*
reference, the lower the *open land* reference. A plot's NDVI on a date then reads as a
forest-likeness ``(ndvi − open) / (forest − open)``: 0 = like the open land around it, 1 = like
the forest.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

#: Growing-season NDVI below this is not land vegetation of any climate (water, roofs, rock):
#: such pixels are never a reference. Absolute on purpose: it only removes non-land pixels.
NOT_VEGETATION_NDVI = 0.1
#: Months of the growing season used to recognise non-vegetation pixels.
GROWING_MONTHS = (6, 7, 8, 9)
REFERENCE_COLUMNS = ("ref_forest", "ref_open")
#: NDVI between two modes of the upper class that makes them two land covers, not noise.
MODE_GAP = 0.1


def nanmedian(a: np.ndarray, axis: int) -> np.ndarray:
    """``np.nanmedian`` without the all-NaN warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(a, axis=axis)


def dry_season_label(dates: pd.DatetimeIndex, months: tuple[int, ...]) -> np.ndarray:
    """Dry-season label per date: the year of its January; 0 outside the dry-season months."""
    in_season = np.isin(dates.month, months)
    return np.where(in_season, dates.year + (dates.month >= 7), 0)


def otsu_split(values: np.ndarray, bins: int = 64) -> float:
    """Otsu's threshold of a 1-D sample (the split maximising the between-class variance)."""
    v = values[np.isfinite(values)]
    if len(v) < 2 or v.min() == v.max():
        return float("nan")
    hist, edges = np.histogram(v, bins=bins)
    centers = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(hist)
    w1 = w0[-1] - w0
    m0 = np.cumsum(hist * centers) / np.maximum(w0, 1)
    m1 = (np.sum(hist * centers) - np.cumsum(hist * centers)) / np.maximum(w1, 1)
    between = w0 * w1 * (m0 - m1) ** 2
    return float(edges[1:][int(np.argmax(between))])


def classify_reference_pixels(
    ndvi: np.ndarray, dates: pd.DatetimeIndex, dry_months: tuple[int, ...], stable_share: float
) -> tuple[np.ndarray, np.ndarray]:
    """Forest and open-land masks of sampled pixels, dims (pixels,).

    ``ndvi``: (dates, pixels), NaN where not clear. A pixel is a candidate when its
    growing-season NDVI marks land vegetation and it has a dry-season level in ≥ 2 years; the
    ``stable_share`` most stable candidates (smallest range of yearly dry-season medians) are
    split by Otsu's threshold on their dry-season level.
    """
    n = ndvi.shape[1]
    none = np.zeros(n, bool)
    label = dry_season_label(dates, dry_months)
    years = [k for k in np.unique(label) if k > 0]
    if len(years) < 2:
        return none, none
    yearly = np.stack([nanmedian(ndvi[label == k], 0) for k in years])  # (years, pixels)
    level = nanmedian(yearly, 0)
    n_years = np.isfinite(yearly).sum(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        spread = np.nanmax(yearly, 0) - np.nanmin(yearly, 0)
    growing = nanmedian(ndvi[np.isin(dates.month, GROWING_MONTHS)], 0)
    cand = (n_years >= 2) & np.isfinite(level) & ~(growing < NOT_VEGETATION_NDVI)
    if cand.sum() < 10:
        return none, none
    stable = cand & (spread <= np.quantile(spread[cand], stable_share))
    split = otsu_split(level[stable])
    if not np.isfinite(split):
        return none, none
    forest, open_ = stable & (level > split), stable & (level <= split)
    while forest.sum() >= 20:  # the forest is the top mode: split again while it is bimodal
        sub = otsu_split(level[forest])
        hi, lo = forest & (level > sub), forest & (level <= sub)
        if not np.isfinite(sub) or hi.sum() < 0.1 * forest.sum() or lo.sum() == 0:
            break
        if np.median(level[hi]) - np.median(level[lo]) < MODE_GAP:
            break
        forest = hi
    return forest, open_


def reference_levels(
    ndvi: np.ndarray,
    dates: pd.DatetimeIndex,
    dry_months: tuple[int, ...],
    stable_share: float = 0.75,
    min_pixels: int = 5,
) -> pd.DataFrame:
    """Per date: the level of the forest and of the open-land reference pixels.

    ``ndvi``: (dates, pixels) of pixels sampled around the plots. A class's level on a date is
    its pixels' median level over all dates plus the median, over the class pixels clear on
    that date, of their departure from their own median level: the level does not jump with
    which pixels a cloud happens to leave clear. Dates where fewer than ``min_pixels`` of a
    class are clear are filled by linear interpolation in time (then the nearest value); all
    NaN when no reference could be formed.
    """
    forest, open_ = classify_reference_pixels(ndvi, dates, dry_months, stable_share)
    out = pd.DataFrame(index=pd.DatetimeIndex(dates, name="date"))
    for name, mask in zip(REFERENCE_COLUMNS, (forest, open_), strict=True):
        sub = ndvi[:, mask]
        own = nanmedian(sub, 0) if mask.any() else np.zeros(0)
        level = nanmedian(own, 0) + nanmedian(sub - own[None, :], 1) if mask.any() else np.nan
        level = np.where(np.isfinite(sub).sum(1) >= min_pixels, level, np.nan)
        s = pd.Series(level, index=out.index, dtype=float)
        out[name] = s.interpolate("time", limit_area="inside").ffill().bfill()
    return out.reset_index()


def sample_reference_cells(n_cells: int, covered: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """Up to ``n`` flat cell indices of the tile grid outside every plot (seeded, sorted)."""
    free = np.setdiff1d(np.arange(n_cells), np.unique(covered))
    if len(free) <= n:
        return free
    return np.sort(np.random.default_rng(seed).choice(free, n, replace=False))

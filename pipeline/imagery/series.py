"""Per-plot time series and per-pixel site-preparation evidence for one tile.

The cube is walked date chunk by date chunk, so memory is bounded by (chunk × tile) and the
per-pixel accumulators (one value per plot–cell pair), whatever the number of dates.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import xarray as xr

from pipeline.config import Imagery, PrepSettings
from pipeline.imagery.indices import INDEX_NAMES
from pipeline.imagery.reference import (
    REFERENCE_COLUMNS,
    reference_levels,
    sample_reference_cells,
)
from pipeline.imagery.sampled import sample_indices
from pipeline.imagery.zonal import CoverageWeights, pair_means

ESTABLISH_SLOTS = 3  # dry seasons 1, 2 and ≥ 3 after the planting year


@dataclass
class PrepAccumulator:
    """Running per-pair statistics: baseline monthly sums, then deviations in the prep window.

    Dates must arrive in time order: the baseline (before the window) is complete when the
    window starts, so each window observation is compared with the pair's own baseline for
    the same time of year.
    """

    month_ndvi: np.ndarray  # (12, pairs) sums of baseline NDVI per calendar month
    month_bsi: np.ndarray  # (12, pairs)
    month_n: np.ndarray  # (12, pairs) counts of baseline NDVI
    month_bsi_n: np.ndarray  # (12, pairs) counts of baseline BSI (none for sensors w/o SWIR)
    drop: np.ndarray  # (2, pairs): the two largest NDVI drops below the baseline
    rise: np.ndarray  # (2, pairs): the two largest BSI rises above the baseline
    prep_n: np.ndarray  # (pairs,) clear observations in the window with a baseline
    dry_sum: np.ndarray  # (3, pairs): sums of dry-season NDVI minus the same-month baseline,
    dry_n: np.ndarray  # (3, pairs)   1, 2 and ≥ 3 dry seasons after the planting year

    @classmethod
    def empty(cls, n: int) -> PrepAccumulator:
        return cls(
            np.zeros((12, n)),
            np.zeros((12, n)),
            np.zeros((12, n)),
            np.zeros((12, n)),
            np.full((2, n), np.nan),
            np.full((2, n), np.nan),
            np.zeros(n, np.int32),
            np.zeros((ESTABLISH_SLOTS, n)),
            np.zeros((ESTABLISH_SLOTS, n)),
        )

    def establish_rise(self) -> np.ndarray:
        """Per pair: the largest mean rise of a dry season after the planting year above the
        pair's own baseline for the same months (NDVI; NaN without one)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(self.dry_n >= 2, self.dry_sum / self.dry_n, np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmax(mean, 0)

    @property
    def base_n(self) -> np.ndarray:
        return self.month_n.sum(0)


def prep_windows(
    years: np.ndarray, ev: PrepSettings, late: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) of the site-preparation window per planting year.

    The window runs from ``prep_start_month`` of Y−1 to the end of ``prep_end_month`` of Y
    (site preparation, planting and the first growing season) and, with ``late``, the
    ``prep_late_months`` after it (autumn planting of Y itself, 秋冬造林, still claimed as Y);
    the baseline is everything before its start. Missing years (0) give NaT.
    """
    starts = np.full(len(years), np.datetime64("NaT"), dtype="datetime64[D]")
    ends = starts.copy()
    last = ev.prep_end_month + (ev.prep_late_months if late else 0)  # month of Y, may pass 12
    for y in {int(v) for v in years if v > 0}:
        sel = years == y
        starts[sel] = np.datetime64(date(y - 1, ev.prep_start_month, 1))
        ends[sel] = np.datetime64(date(y + last // 12, last % 12 + 1, 1))
    return starts, ends


def seasonal_expectation(sums: np.ndarray, counts: np.ndarray, month: int) -> np.ndarray:
    """Baseline mean for calendar ``month`` (1–12) from monthly sums: the month's own mean,
    else the mean of both neighbouring months when both have values (never one neighbour
    alone: at a season's turn it would read the other season as the baseline).

    ``sums``/``counts``: (12, n). NaN where there is no such baseline.
    """
    prev, own, nxt = (month - 2) % 12, month - 1, month % 12
    with np.errstate(invalid="ignore", divide="ignore"):
        own_mean = sums[own] / counts[own]
        both = (counts[prev] > 0) & (counts[nxt] > 0)
        around = (sums[prev] + sums[nxt]) / (counts[prev] + counts[nxt])
        return np.where(counts[own] > 0, own_mean, np.where(both, around, np.nan))


def fold_top2(top: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Fold values ``v`` (NaN = none) into the two largest seen so far."""
    hi1, hi2 = top
    return np.stack([np.fmax(hi1, v), np.where(v > hi1, hi1, np.fmax(hi2, v))])


def update_prep(
    acc: PrepAccumulator,
    day: np.datetime64,
    ndvi: np.ndarray,
    bsi: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    dry_months: tuple[int, ...] = (),
) -> None:
    """Fold one date's per-pair NDVI / BSI (NaN = not clear) into the accumulator.

    BSI is optional: a sensor without SWIR (GF-1/GF-6 WFV) gives NaN BSI and the test then
    rests on NDVI alone. In ``dry_months`` the NDVI also feeds the establishment sums: the
    baseline (before the window) and the dry seasons after the planting year Y (the season
    whose January is in Y+1, Y+2, ≥ Y+3).
    """
    m = int(str(day)[5:7]) - 1
    clear = np.isfinite(ndvi)
    has_bsi = clear & np.isfinite(bsi)
    base = clear & (day < start)
    acc.month_ndvi[m] += np.where(base, ndvi, 0.0)
    acc.month_n[m] += base
    acc.month_bsi[m] += np.where(base & has_bsi, bsi, 0.0)
    acc.month_bsi_n[m] += base & has_bsi
    if m + 1 in dry_months:
        label = int(str(day)[:4]) + (m + 1 >= 7)
        planting = start.astype("datetime64[Y]").astype(int) + 1970 + 1  # start: Oct of Y-1
        slot = label - planting
        exp = seasonal_expectation(acc.month_ndvi, acc.month_n, m + 1)
        use = clear & ~np.isnat(start) & (slot >= 1) & np.isfinite(exp)
        cols = np.flatnonzero(use)
        rows = np.minimum(slot[use], ESTABLISH_SLOTS) - 1
        np.add.at(acc.dry_sum, (rows, cols), (ndvi - exp)[use])
        np.add.at(acc.dry_n, (rows, cols), 1.0)
    window = clear & (day >= start) & (day < end)
    if not window.any():
        return
    exp_ndvi = seasonal_expectation(acc.month_ndvi, acc.month_n, m + 1)
    exp_bsi = seasonal_expectation(acc.month_bsi, acc.month_bsi_n, m + 1)
    window &= np.isfinite(exp_ndvi)
    acc.drop = fold_top2(acc.drop, np.where(window, exp_ndvi - ndvi, np.nan))
    acc.rise = fold_top2(acc.rise, np.where(window, bsi - exp_bsi, np.nan))
    acc.prep_n += window


def robust_top(top: np.ndarray, n: np.ndarray) -> np.ndarray:
    """The second-largest value where there are ≥ 3 observations, else the largest."""
    return np.where(n >= 3, top[1], top[0])


def planted_shares(
    acc: PrepAccumulator, weights: CoverageWeights, ev: PrepSettings, contrast: float = np.nan
) -> pd.DataFrame:
    """Per plot: share of its (data-covered) area whose pixels show planting.

    A pixel shows planting by site preparation — in the prep window NDVI falls
    ``prep_ndvi_drop`` below its own baseline for the same time of year, or BSI rises
    ``prep_bsi_rise`` above it — or by establishment: a later dry season's mean NDVI lies
    ``establish_rise`` × ``contrast`` above its own baseline for the same months (``contrast``:
    the dry-season NDVI gap between the forest and open-land references of the same imagery,
    or the fallback levels' gap when there are none; at least ``min_change_scale``).
    """
    if not np.isfinite(contrast):
        contrast = ev.fallback_forest_ndvi - ev.fallback_open_ndvi
    contrast = max(contrast, ev.min_change_scale)
    has_prep = (acc.base_n >= 2) & (acc.prep_n >= 1)
    est = acc.establish_rise()
    has = has_prep | np.isfinite(est)
    planted = (
        has_prep
        & (
            (robust_top(acc.drop, acc.prep_n) >= ev.prep_ndvi_drop)
            | (robust_top(acc.rise, acc.prep_n) >= ev.prep_bsi_rise)
        )
    ) | (est >= ev.establish_rise * contrast)
    w = weights.coverage
    n = weights.n_plots
    total = np.bincount(weights.plot, w, minlength=n)
    with_data = np.bincount(weights.plot, w * has, minlength=n)
    planted_w = np.bincount(weights.plot, w * planted, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.DataFrame(
            {
                "n_pixels": total,
                "data_share": np.where(total > 0, with_data / total, 0.0),
                "planted_share": np.where(with_data > 0, planted_w / with_data, np.nan),
            }
        )


def extract_series(
    raw: xr.Dataset,
    weights: CoverageWeights,
    rows: np.ndarray,
    years: np.ndarray,
    imagery: Imagery,
    ev: PrepSettings,
    date_chunk: int = 12,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Time series per plot and date, and per-plot planted shares, for one tile.

    ``raw``: lazy DN cube (time, y, x) on the weights' grid; ``rows``/``years``: the plots'
    row ids and claimed planting years (0 when unknown), in the weights' plot order. Returns
    (series with columns row, date, ndvi, ndmi, bsi, clear_share; pixel evidence per row).
    """
    chunks = (
        raw.isel(time=slice(a, a + date_chunk)).compute()
        for a in range(0, raw.sizes["time"], date_chunk)
    )
    return reduce_chunks(chunks, weights, rows, years, imagery, ev)


def reduce_chunks(
    chunks: Iterable[xr.Dataset],
    weights: CoverageWeights,
    rows: np.ndarray,
    years: np.ndarray,
    imagery: Imagery,
    ev: PrepSettings,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`extract_series` over in-memory cube chunks (time order, numpy-backed)."""
    reducer = ChunkReducer(weights, rows, years, imagery, ev)
    for chunk in chunks:
        reducer.add(chunk)
    return reducer.result()


class ChunkReducer:
    """Per-plot series, reference levels and site-preparation evidence of one tile, fed one
    in-memory cube chunk at a time (time order): per chunk, one gather per band at the
    plots' and reference cells, masks and indices there in numpy, then two weighted
    bincounts per date over all plot–cell pairs."""

    def __init__(
        self,
        weights: CoverageWeights,
        rows: np.ndarray,
        years: np.ndarray,
        imagery: Imagery,
        ev: PrepSettings,
    ) -> None:
        self.weights, self.rows, self.imagery, self.ev = weights, rows, imagery, ev
        start, end = prep_windows(years, ev)
        self.pair_start, self.pair_end = start[weights.plot], end[weights.plot]
        self.acc = PrepAccumulator.empty(len(weights.plot))
        self.frames: list[pd.DataFrame] = []
        # reference pixels (outside the plots) sampled once per tile: their NDVI per date
        self.ref_cells = sample_reference_cells(
            int(np.prod(weights.shape)), weights.cell, ev.reference_pixels
        )
        self.ref_ndvi: list[np.ndarray] = []
        self.days: list[np.ndarray] = []
        # the cells sampled per chunk: every plot–cell pair, then the reference cells
        cells = np.concatenate([weights.cell, self.ref_cells])
        self.cell_rows, self.cell_cols = np.divmod(cells, weights.shape[1])

    def add(self, chunk: xr.Dataset) -> None:
        """Fold one chunk (DN cube on the weights' grid, dims time, y, x) in.

        Masks and indices are computed at the plots' cells and the reference cells only
        (:func:`~pipeline.imagery.sampled.sample_indices`: the values the whole-grid
        ``mask_clouds`` + ``compute_indices`` give there)."""
        w, rows = self.weights, self.rows
        days = chunk["time"].values.astype("datetime64[D]")
        idx = sample_indices(chunk, self.cell_rows, self.cell_cols, self.imagery)
        npairs = len(w.cell)
        out = {"row": np.tile(rows, len(days)), "date": np.repeat(days, len(rows))}
        arrays = {}
        for name in INDEX_NAMES:
            arrays[name] = idx[name][:, :npairs]
            mean, share = pair_means(arrays[name], w)
            out[name] = mean.ravel().astype("float32")
            if name == "ndvi":  # clear = NDVI observed (BSI / NDMI are empty without SWIR)
                out["clear_share"] = share.ravel().astype("float32")
        self.frames.append(pd.DataFrame(out))
        self.ref_ndvi.append(idx["ndvi"][:, npairs:])
        self.days.append(days)
        for t, day in enumerate(days):
            update_prep(
                self.acc,
                day,
                arrays["ndvi"][t],
                arrays["bsi"][t],
                self.pair_start,
                self.pair_end,
                self.ev.winter_months,
            )

    def result(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(series: row, date, ndvi, ndmi, bsi, clear_share, ref_forest, ref_open; pixel
        evidence per row)."""
        ev = self.ev
        series = pd.concat(self.frames, ignore_index=True) if self.frames else pd.DataFrame()
        contrast = np.nan
        if self.frames:
            dates = pd.DatetimeIndex(np.concatenate(self.days))
            refs = reference_levels(
                np.concatenate(self.ref_ndvi), dates, ev.winter_months, ev.reference_stable_share
            )
            series = series.merge(
                refs.astype({"date": series["date"].dtype}), on="date", how="left"
            )
            contrast = dry_contrast(refs, ev.winter_months)
        pixels = planted_shares(self.acc, self.weights, ev, contrast)
        pixels.insert(0, "row", self.rows)
        return series, pixels


def dry_contrast(refs: pd.DataFrame, dry_months: tuple[int, ...]) -> float:
    """Median dry-season gap between the forest and open-land references (NDVI; NaN if none)."""
    if refs.empty or refs[list(REFERENCE_COLUMNS)].isna().all().any():
        return float("nan")
    dry = np.isin(pd.DatetimeIndex(refs["date"]).month, dry_months)
    gap = (refs["ref_forest"] - refs["ref_open"])[dry]
    return float(gap.median()) if gap.notna().any() else float("nan")

"""Per-plot time series and per-pixel site-preparation evidence for one tile.

The cube is walked date chunk by date chunk, so memory is bounded by (chunk × tile) and the
per-pixel accumulators (one value per plot–cell pair), whatever the number of dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import xarray as xr

from pipeline.config import Evidence, Imagery
from pipeline.imagery import INDICES, compute_indices, mask_clouds
from pipeline.zonal import CoverageWeights, zonal_means


@dataclass
class PrepAccumulator:
    """Running per-pair statistics of NDVI and BSI in the baseline season and the prep window."""

    base_ndvi: np.ndarray
    base_bsi: np.ndarray
    base_n: np.ndarray
    prep_min: np.ndarray  # (2, pairs): the two lowest NDVI in the prep window
    prep_max_bsi: np.ndarray  # (2, pairs): the two highest BSI in the prep window
    prep_n: np.ndarray

    @classmethod
    def empty(cls, n: int) -> PrepAccumulator:
        return cls(
            np.zeros(n),
            np.zeros(n),
            np.zeros(n, np.int32),
            np.full((2, n), np.nan),
            np.full((2, n), np.nan),
            np.zeros(n, np.int32),
        )


def prep_windows(years: np.ndarray, ev: Evidence) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) of the site-preparation window per planting year.

    The window runs from ``prep_start_month`` of Y−1 to the end of ``prep_end_month`` of Y;
    the baseline is everything before its start. Missing years give NaT.
    """
    starts = np.full(len(years), np.datetime64("NaT"), dtype="datetime64[D]")
    ends = starts.copy()
    for y in {int(v) for v in years if v > 0}:
        end_y, end_m = (y, ev.prep_end_month + 1) if ev.prep_end_month < 12 else (y + 1, 1)
        sel = years == y
        starts[sel] = np.datetime64(date(y - 1, ev.prep_start_month, 1))
        ends[sel] = np.datetime64(date(end_y, end_m, 1))
    return starts, ends


def update_prep(
    acc: PrepAccumulator,
    day: np.datetime64,
    ndvi: np.ndarray,
    bsi: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    ev: Evidence,
) -> None:
    """Fold one date's per-pair NDVI / BSI (NaN = not clear) into the accumulator."""
    month = int(str(day)[5:7])
    clear = np.isfinite(ndvi) & np.isfinite(bsi)
    base = clear & (day < start) & (month in ev.season_months)
    acc.base_ndvi += np.where(base, ndvi, 0.0)
    acc.base_bsi += np.where(base, bsi, 0.0)
    acc.base_n += base
    prep = clear & (day >= start) & (day < end)
    v = np.where(prep, ndvi, np.nan)
    lo1, lo2 = acc.prep_min
    acc.prep_min = np.stack([np.fmin(lo1, v), np.where(v < lo1, lo1, np.fmin(lo2, v))])
    b = np.where(prep, bsi, np.nan)
    hi1, hi2 = acc.prep_max_bsi
    acc.prep_max_bsi = np.stack([np.fmax(hi1, b), np.where(b > hi1, hi1, np.fmax(hi2, b))])
    acc.prep_n += prep


def planted_shares(acc: PrepAccumulator, weights: CoverageWeights, ev: Evidence) -> pd.DataFrame:
    """Per plot: share of its (data-covered) area whose pixels show site preparation.

    A pixel shows preparation when NDVI in the prep window falls ``prep_ndvi_drop`` below its
    baseline same-season mean, or BSI rises ``prep_bsi_rise`` above it (second-lowest /
    second-highest value, so one missed cloud cannot make it).
    """
    has = (acc.base_n >= 2) & (acc.prep_n >= 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        base_ndvi = acc.base_ndvi / acc.base_n
        base_bsi = acc.base_bsi / acc.base_n
    low = np.where(acc.prep_n >= 3, acc.prep_min[1], acc.prep_min[0])
    high = np.where(acc.prep_n >= 3, acc.prep_max_bsi[1], acc.prep_max_bsi[0])
    planted = has & ((base_ndvi - low >= ev.prep_ndvi_drop) | (high - base_bsi >= ev.prep_bsi_rise))
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
    ev: Evidence,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Time series per plot and date, and per-plot planted shares, for one tile.

    ``raw``: lazy DN cube (time, y, x) on the weights' grid; ``rows``/``years``: the plots'
    row ids and claimed planting years (0 when unknown), in the weights' plot order. Returns
    (series with columns row, date, ndvi, ndmi, bsi, clear_share; pixel evidence per row).
    """
    start, end = prep_windows(years, ev)
    pair_start, pair_end = start[weights.plot], end[weights.plot]
    acc = PrepAccumulator.empty(len(weights.plot))
    frames = []
    n_time = raw.sizes["time"]
    for a in range(0, n_time, imagery.date_chunk):
        chunk = raw.isel(time=slice(a, a + imagery.date_chunk))
        idx = compute_indices(mask_clouds(chunk, imagery)).compute()
        days = idx["time"].values.astype("datetime64[D]")
        out = {"row": np.tile(rows, len(days)), "date": np.repeat(days, len(rows))}
        arrays = {}
        for name in INDICES:
            arr = idx[name].values
            arrays[name] = arr.reshape(len(days), -1)[:, weights.cell]
            mean, share = zonal_means(arr, weights)
            out[name] = mean.ravel().astype("float32")
        out["clear_share"] = share.ravel().astype("float32")
        frames.append(pd.DataFrame(out))
        for t, day in enumerate(days):
            update_prep(acc, day, arrays["ndvi"][t], arrays["bsi"][t], pair_start, pair_end, ev)
    series = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    pixels = planted_shares(acc, weights, ev)
    pixels.insert(0, "row", rows)
    return series, pixels

"""A run's time series as an xarray Dataset, the peer band, and the windows of a plot.

Pure functions: the long ``timeseries.parquet`` table in, labelled arrays out. The ``plot``
dimension is the plot's ``row`` (unique even when plot ids repeat); ``plot_id`` is a coordinate.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from pipeline.config import Evidence
from pipeline.imagery.indices import INDEX_NAMES
from pipeline.imagery.series import prep_windows
from pipeline.judgement.evidence import clean_observations, cohort_peers, select_peers

VARIABLES = (*INDEX_NAMES, "clear_share")
QUANTILES = (0.1, 0.5, 0.9)


def series_dataset(long: pd.DataFrame, plots: pd.DataFrame) -> xr.Dataset:
    """Dataset with dims (plot, date): ``ndvi``, ``ndmi``, ``bsi`` (coverage-weighted means over
    clear pixels, NaN where none) and ``clear_share`` (0–1, 0 where no observation).

    ``long``: rows of (row, date, ndvi, ndmi, bsi, clear_share); ``plots``: the plot table
    (``row``, ``plot_id``). Every plot of ``plots`` is on the ``plot`` axis, in row order.
    """
    rows = plots["row"].to_numpy()
    dates = pd.DatetimeIndex(sorted(pd.to_datetime(long["date"]).unique()), name="date")
    frame = long.assign(date=pd.to_datetime(long["date"])).set_index(["row", "date"])
    full = pd.MultiIndex.from_product([rows, dates], names=["row", "date"])
    frame = frame[list(VARIABLES)].reindex(full)
    shape = (len(rows), len(dates))
    data = {
        v: (("plot", "date"), frame[v].to_numpy(dtype="float32").reshape(shape)) for v in VARIABLES
    }
    data["clear_share"] = (("plot", "date"), np.nan_to_num(data["clear_share"][1]))
    ds = xr.Dataset(
        data,
        coords={"plot": rows, "date": dates, "plot_id": ("plot", plots["plot_id"].to_numpy())},
    )
    ds["ndvi"].attrs.update(long_name="NDVI", units="1")
    ds["clear_share"].attrs.update(long_name="share of the plot seen without cloud", units="1")
    return ds


def clean_mask(ds: xr.Dataset, ev: Evidence) -> xr.DataArray:
    """True where an observation is used as evidence (clear enough, not an isolated dip)."""
    long = ds[["ndvi", "clear_share"]].to_dataframe().reset_index()
    long = long.rename(columns={"plot": "row"})
    kept = clean_observations(long, ev)
    mask = xr.zeros_like(ds["ndvi"], dtype=bool)
    if len(kept):
        index = pd.MultiIndex.from_frame(kept[["row", "date"]].rename(columns={"row": "plot"}))
        hit = xr.DataArray(np.ones(len(kept), bool), coords={"obs": index}, dims="obs").unstack(
            "obs"
        )
        mask = hit.reindex_like(mask, fill_value=False).fillna(False).astype(bool)
    return mask


def peer_rows(plots: pd.DataFrame, row: int, ev: Evidence) -> np.ndarray:
    """The rows of ``row``'s planting-year peers (the same rule the evidence uses); empty when
    the plot has no planting year."""
    years = plots["planting_year"].fillna(0).to_numpy(dtype=int)
    year = int(years[plots["row"].to_numpy() == row][0])
    if year <= 0:
        return np.array([], dtype=int)
    is_peer = select_peers(
        years,
        plots["is_design"].to_numpy(dtype=bool),
        plots["planted_share"].to_numpy(dtype=float),
        plots["baseline_winter_ndvi"].to_numpy(dtype=float),
        ev,
    )
    return plots["row"].to_numpy()[cohort_peers(years, is_peer, year, ev)]


def peer_band(
    ds: xr.Dataset,
    peers: np.ndarray,
    ev: Evidence,
    index: str = "ndvi",
    quantiles: tuple[float, ...] = QUANTILES,
) -> pd.DataFrame:
    """Per date, quantiles of ``index`` over the peers' clean observations (columns ``q10``,
    ``q50``, ``q90``, ... and ``n``, the number of peers seen); dates with fewer than
    ``min(min_peers, len(peers))`` peers seen are left out."""
    sub = ds.sel(plot=list(peers))
    values = sub[index].where(clean_mask(sub, ev))
    n = values.notnull().sum("plot").to_numpy()
    need = min(ev.min_peers, max(len(peers), 1))
    arr = values.to_numpy()
    out = pd.DataFrame(index=pd.DatetimeIndex(ds["date"].to_numpy(), name="date"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for q in quantiles:
            out[f"q{round(q * 100):d}"] = np.nanquantile(arr, q, axis=0) if len(arr) else np.nan
    out["n"] = n
    return out[(n >= need) & (n > 0)]


@dataclass(frozen=True)
class Windows:
    """The time windows of one plot's judgement (dates; ``None`` without a planting year)."""

    planting_year: int | None
    baseline_end: pd.Timestamp | None  # the baseline is every date before this
    prep_start: pd.Timestamp | None
    prep_end: pd.Timestamp | None  # exclusive
    planting_start: pd.Timestamp | None  # 1 January of the planting year
    planting_end: pd.Timestamp | None  # 1 January of the year after


def plot_windows(planting_year: float | int | None, ev: Evidence) -> Windows:
    """Baseline, site-preparation and planting-year windows for a claimed planting year."""
    if planting_year is None or pd.isna(planting_year) or int(planting_year) <= 0:
        return Windows(None, None, None, None, None, None)
    year = int(planting_year)
    start, end = prep_windows(np.array([year]), ev)
    prep_start, prep_end = pd.Timestamp(start[0]), pd.Timestamp(end[0])
    return Windows(
        year,
        prep_start,
        prep_start,
        prep_end,
        pd.Timestamp(year=year, month=1, day=1),
        pd.Timestamp(year=year + 1, month=1, day=1),
    )

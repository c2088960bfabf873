"""The analysts' tables: ``plots.parquet`` (GeoParquet, English names) and
``timeseries.parquet`` (one row per plot and date)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from pipeline.files import write_atomic, write_table

TIMESERIES_COLUMNS = ["row", "plot_id", "date", "ndvi", "ndmi", "bsi", "clear_share"]


def write_plots_parquet(result: gpd.GeoDataFrame, path: Path) -> None:
    """The plot result table as GeoParquet, atomically."""
    write_atomic(Path(path), lambda p: result.to_parquet(p, index=False))


def write_timeseries(series: pd.DataFrame, plots: pd.DataFrame, path: Path) -> None:
    """``timeseries.parquet``: one row per plot and date, with the plot id."""
    ts = series.merge(plots[["row", "plot_id"]], on="row", how="left")
    write_table(ts[TIMESERIES_COLUMNS].sort_values(["row", "date"]), Path(path))

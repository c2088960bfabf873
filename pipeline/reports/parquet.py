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


def write_timeseries(
    series: pd.DataFrame, plots: pd.DataFrame, path: Path, chunk_rows: int = 2_000_000
) -> None:
    """``timeseries.parquet``: one row per plot and date, with the plot id, sorted by (row,
    date). Written ``chunk_rows`` rows at a time (one row group each), so a province's
    series is never copied whole."""
    if len(series) <= chunk_rows:
        ts = series.merge(plots[["row", "plot_id"]], on="row", how="left")
        write_table(ts[TIMESERIES_COLUMNS].sort_values(["row", "date"]), Path(path))
        return
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    ids = plots.drop_duplicates("row").set_index("row")["plot_id"]
    order = np.lexsort((series["date"].to_numpy(), series["row"].to_numpy()))
    cols = [c for c in TIMESERIES_COLUMNS if c != "plot_id"]

    def write(tmp: Path) -> None:
        writer = None
        try:
            for lo in range(0, len(order), chunk_rows):
                part = series[cols].take(order[lo : lo + chunk_rows]).reset_index(drop=True)
                part.insert(1, "plot_id", ids.reindex(part["row"]).array)
                table = pa.Table.from_pandas(
                    part, schema=writer.schema if writer else None, preserve_index=False
                )
                writer = writer or pq.ParquetWriter(tmp, table.schema)
                writer.write_table(table)
        finally:
            if writer is not None:
                writer.close()

    write_atomic(Path(path), write)

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.reports.parquet import write_timeseries


def test_write_timeseries__in_chunks_equals_in_one_piece(tmp_path):
    """Row groups of a few rows give the same table (rows sorted by row and date, plot ids
    joined, a row without a plot kept with a missing id) as writing it whole."""
    rng = np.random.default_rng(0)
    dates = pd.date_range("2022-01-01", periods=9, freq="5D").astype("datetime64[ms]")
    series = pd.DataFrame(
        {
            "row": np.repeat(np.arange(7), len(dates)),
            "date": np.tile(dates, 7),
            **{c: rng.random(7 * len(dates)).astype("float32")
               for c in ("ndvi", "ndmi", "bsi", "clear_share")},
        }
    ).sample(frac=1, random_state=1)  # fmt: skip
    plots = pd.DataFrame({"row": np.arange(6), "plot_id": pd.array(list("abcdef"), "string")})
    write_timeseries(series, plots, tmp_path / "whole.parquet")
    write_timeseries(series, plots, tmp_path / "parts.parquet", chunk_rows=10)
    whole = pd.read_parquet(tmp_path / "whole.parquet")
    parts = pd.read_parquet(tmp_path / "parts.parquet")
    pd.testing.assert_frame_equal(parts, whole, check_exact=True)
    assert whole["row"].is_monotonic_increasing and whole["plot_id"].isna().sum() == len(dates)

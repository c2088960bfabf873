"""Series dataset, peer band and windows on small synthetic tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.config import Evidence
from pipeline.results.series import peer_band, peer_rows, plot_windows, series_dataset

DATES = pd.date_range("2021-01-01", periods=6, freq="15D")


def _long(rows, ndvi_of) -> pd.DataFrame:
    recs = [
        {"row": r, "date": d, "ndvi": ndvi_of(r, k), "ndmi": 0.1, "bsi": 0.0, "clear_share": 1.0}
        for r in rows
        for k, d in enumerate(DATES)
    ]
    return pd.DataFrame(recs)


def _plots(n: int, years=2022) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row": range(n),
            "plot_id": [f"p{i}" for i in range(n)],
            "planting_year": pd.array([years] * n, dtype="Int64"),
            "is_design": False,
            "planted_share": 1.0,
            "baseline_forest_index": 0.3,
        }
    )


def test_series_dataset__every_plot_on_the_axis_missing_dates_nan():
    plots = _plots(3)
    long = _long([0, 2], lambda r, k: 0.5 + 0.01 * k)  # plot 1 has no observation
    ds = series_dataset(long, plots)
    assert ds["ndvi"].dims == ("plot", "date") and list(ds["plot"]) == [0, 1, 2]
    assert list(ds["plot_id"].values) == ["p0", "p1", "p2"]
    assert np.isnan(ds["ndvi"].sel(plot=1)).all()
    assert (ds["clear_share"].sel(plot=1) == 0).all()
    assert ds["ndvi"].sel(plot=2).values[3] == pytest.approx(0.53)


def test_peer_band__quantiles_of_the_cohort_per_date():
    plots = _plots(5)
    plots.loc[4, "baseline_forest_index"] = 0.9  # forest before: not a peer
    long = _long(range(5), lambda r, k: 0.1 * r)
    ev = Evidence()
    peers = peer_rows(plots, 0, ev)
    assert list(peers) == [0, 1, 2, 3]
    band = peer_band(series_dataset(long, plots), peers, ev)
    assert len(band) == len(DATES)
    assert band["q50"].iloc[0] == pytest.approx(0.15)
    assert (band["n"] == 4).all()


def test_peer_rows__no_planting_year_no_peers():
    plots = _plots(3)
    plots["planting_year"] = pd.array([None, 2022, 2022], dtype="Int64")
    assert len(peer_rows(plots, 0, Evidence())) == 0


def test_plot_windows__prep_window_around_the_planting_year():
    w = plot_windows(2022, Evidence())
    assert w.baseline_end == pd.Timestamp("2021-10-01") == w.prep_start
    assert w.prep_end == pd.Timestamp("2023-01-01")  # with the autumn of Y (秋冬造林)
    assert plot_windows(2022, Evidence(prep_late_months=0)).prep_end == pd.Timestamp("2022-10-01")
    assert w.planting_start == pd.Timestamp("2022-01-01")
    assert plot_windows(None, Evidence()).planting_year is None


def test_read_grid__tile_jobs_name_the_step_files(tmp_path):
    """With neighbouring tiles grouped in one job, the series are in the job's files."""
    import json

    from pipeline.results.stored import read_grid

    plan = {
        "crs": "EPSG:32650",
        "tiles": [{"tile_id": t, "bbox": [0, 0, 1, 1]} for t in ("t0", "t1", "t2")],
        "jobs": [{"job_id": "j0", "tile_ids": ["t0", "t1"]}, {"job_id": "j1", "tile_ids": ["t2"]}],
    }
    (tmp_path / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    grid = read_grid(tmp_path / "plan.json")
    assert grid.jobs == ("j0", "j1") and set(grid.tiles) == {"t0", "t1", "t2"}
    del plan["jobs"]
    (tmp_path / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    assert read_grid(tmp_path / "plan.json").jobs == ("t0", "t1", "t2")

"""The results API on a finished tiny-world run: tables, one plot's evidence, re-judging."""

from __future__ import annotations

import io

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from pipeline.codes import STATUSES
from pipeline.errors import ConfigError, TushuError
from pipeline.layout import RunLayout
from pipeline.results import RunNotFound, open_run
from tests.conftest import run_tiny


@pytest.fixture(scope="module")
def run(tiny_run):
    return open_run(tiny_run)


def _row_with(run, code: str) -> int:
    return int(run.plots.loc[run.plots["reasons"].str.contains(code), "row"].iloc[0])


def test_open_run__plots_series_settings_provenance(run, tiny_world):
    truth = pd.read_csv(tiny_world / "truth.csv")
    assert isinstance(run.plots, gpd.GeoDataFrame)
    assert list(run.plots["row"]) == list(range(len(truth)))
    assert set(run.plots["status"]) <= set(STATUSES)
    ds = run.series
    assert ds["ndvi"].dims == ("plot", "date")
    assert set(ds.data_vars) == {"ndvi", "ndmi", "bsi", "clear_share"}
    assert ds.sizes["plot"] == len(truth)
    assert ds.sizes["date"] == run.timeseries["date"].nunique()
    first = run.timeseries.iloc[0]
    got = ds["ndvi"].sel(plot=first["row"], date=first["date"]).item()
    assert got == pytest.approx(first["ndvi"], nan_ok=True)
    assert run.settings.evidence.loss_drop == pytest.approx(0.15)
    assert run.provenance["counts"]
    assert run.row_of(run.plots["plot_id"].iloc[1]) == 1


def test_open_run__not_a_run_names_the_missing_files(tmp_path):
    with pytest.raises(RunNotFound, match="plots.parquet"):
        open_run(tmp_path)


def test_peers__band_follows_the_planting_year_cohort(run):
    row = int(run.plots.loc[run.plots["status"] == "consistent", "row"].iloc[0])
    band = run.peers(row)
    assert {"q10", "q50", "q90", "n"} <= set(band.columns)
    assert len(band) > 10
    assert (band["q10"] <= band["q50"]).all() and (band["q50"] <= band["q90"]).all()


def test_plot__draws_the_series_band_and_windows(run):
    row = _row_with(run, "VEGETATION_LOSS")
    fig = run.plot(row)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "clear" in labels and "loss" in labels and "site preparation" in labels
    assert any(t.startswith("peers") for t in labels)


def test_chips__before_after_pair_and_strip_with_outline(run):
    row = _row_with(run, "VEGETATION_LOSS")
    chips = run.chips(row, n_strip=3)
    roles = [(c.role, c.kind) for c in chips]
    assert roles[:4] == [("before", "true"), ("before", "false"), ("after", "true"),
                         ("after", "false")]  # fmt: skip
    assert [c.role for c in chips[4:]] == ["strip"] * 3
    before, after = chips[0], chips[2]
    assert before.date < after.date and before.cloud == "clear"
    assert abs(before.date.day_of_year - after.date.day_of_year) <= 45
    assert all(c.item_id.startswith("S2_DEMO_") for c in chips)
    img = Image.open(io.BytesIO(before.png()))
    assert img.size == (before.rgb.shape[1], before.rgb.shape[0])
    outline = np.all(before.rgb == (255, 235, 59), axis=-1)
    assert outline.any()


def test_trace__rules_of_one_plot(run):
    if not hasattr(RunLayout, "trace"):
        pytest.skip("RunLayout.trace (trace.parquet) is not in this branch yet")
    row = _row_with(run, "VEGETATION_LOSS")
    trace = run.trace(row)
    assert {"code", "metric", "value", "op", "threshold", "fired"} <= set(trace.columns)
    assert trace.loc[trace["code"] == "VEGETATION_LOSS", "fired"].any()


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(frame.drop(columns="geometry")).reset_index(drop=True)
    out["loss_date"] = pd.to_datetime(out["loss_date"]).astype("datetime64[s]")
    return out


def test_rejudge__unchanged_settings_give_the_stored_result(run):
    pd.testing.assert_frame_equal(
        _comparable(run.rejudge()), _comparable(run.plots), check_dtype=False
    )


def test_rejudge__equals_a_full_run_with_that_threshold(run, tiny_world, tmp_path):
    """A stricter loss threshold clears the planted loss; re-judging agrees with a full run."""
    loss = _row_with(run, "VEGETATION_LOSS")
    drop = float(run.plots.loc[loss, "loss_drop"]) + 0.01
    again = run.rejudge(loss_drop=drop)
    assert "VEGETATION_LOSS" not in again.loc[again["row"] == loss, "reasons"].iloc[0]
    full = open_run(run_tiny(tiny_world, tmp_path / "full", loss_drop=drop))
    pd.testing.assert_frame_equal(_comparable(again), _comparable(full.plots), check_dtype=False)


def test_rejudge__refuses_per_pixel_and_unknown_keys(run):
    with pytest.raises(ConfigError, match="prep_ndvi_drop.*tushu run"):
        run.rejudge(prep_ndvi_drop=0.1)
    with pytest.raises(ConfigError, match="unknown evidence setting"):
        run.rejudge(loss_dropp=0.1)
    with pytest.raises(ConfigError, match="loss_drop"):
        run.rejudge(loss_drop=-1)


def test_row_of__duplicate_and_unknown_ids_say_what_to_do(run):
    with pytest.raises(TushuError, match="no plot with id"):
        run.row_of("nope")
    dup = run.plots["plot_id"][run.plots["plot_id"].duplicated()]
    assert len(dup), "the tiny world plants a duplicate id"
    with pytest.raises(TushuError, match="name the plot by its row"):
        run.row_of(dup.iloc[0])

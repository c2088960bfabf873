"""Charts on small synthetic inputs: what is drawn, and PNG bytes for reports."""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
import pandas as pd
from PIL import Image

from pipeline.config import Evidence
from pipeline.results.charts import (
    SERIES_SIZE,
    draw_png,
    draw_series,
    draw_transitions,
    figure_png,
)
from pipeline.results.series import plot_windows, series_dataset

DATES = pd.date_range("2021-01-01", "2023-12-31", freq="30D")


def _one(cloudy_at: int):
    long = pd.DataFrame({"row": 0, "date": DATES, "ndvi": 0.5, "ndmi": 0.1, "bsi": 0.0,
                         "clear_share": 1.0})  # fmt: skip
    long.loc[cloudy_at, "clear_share"] = 0.2
    plots = pd.DataFrame({"row": [0], "plot_id": ["p0"]})
    return series_dataset(long, plots).sel(plot=0)


def test_draw_series__clear_cloudy_band_and_windows():
    band = pd.DataFrame({"q10": 0.4, "q50": 0.5, "q90": 0.6, "n": 5}, index=DATES)
    info = pd.Series({"plot_id": "p0", "row": 0, "status": "consistent", "reasons": ""})
    fig = draw_series(_one(3), band, plot_windows(2022, Evidence()), info, Evidence())
    ax = fig.axes[0]
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    assert len(lines["clear"].get_xdata()) == len(DATES) - 1
    assert len(lines["cloudy / rejected"].get_xdata()) == 1
    assert "planting year 2022" in lines
    png = figure_png(fig)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_draw_transitions__counts_written_in_cells():
    table = pd.DataFrame([[3, 1], [0, 2]], index=["a", "b"], columns=["a", "b"])
    fig = draw_transitions(table, title="t")
    assert sorted(t.get_text() for t in fig.axes[0].texts) == ["0", "1", "2", "3"]


def test_draw_png__reused_figure_leaves_nothing_behind():
    band = pd.DataFrame({"q10": 0.4, "q50": 0.5, "q90": 0.6, "n": 5}, index=DATES)
    info = pd.Series({"plot_id": "p0", "row": 0, "status": "suspect", "reasons": "X"})

    def series(cloudy_at: int):
        one = _one(cloudy_at)
        return lambda ax: draw_series(one, band, plot_windows(2022, Evidence()), info,
                                      Evidence(), ax=ax)  # fmt: skip

    figures = plt.get_fignums()
    first, other, again = (draw_png(series(i), dpi=50) for i in (3, 7, 3))
    assert first == again and first != other
    kept = [draw_png(series(i), dpi=50, reuse_axes=True) for i in (7, 3, 7)]
    assert kept == [other, first, other]  # the same images on a kept Axes
    assert Image.open(io.BytesIO(first)).size == (SERIES_SIZE[0] * 50, SERIES_SIZE[1] * 50)
    assert plt.get_fignums() == figures  # no pyplot figure left open

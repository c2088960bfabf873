"""Choosing chip dates, composing colours and drawing the outline (pure parts of chips)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from PIL import Image
from shapely.geometry import box

from pipeline.config import Evidence
from pipeline.results.chips import (
    OUTLINE,
    cloud_state,
    compose_rgb,
    draw_outline,
    encode_png,
    pick_pair,
    pick_strip,
    pixel_rings,
)
from pipeline.results.series import plot_windows


def test_pick_pair__clearest_same_season_before_and_after():
    dates = pd.to_datetime(["2021-03-01", "2021-05-10", "2022-04-01", "2023-05-20", "2023-11-01"])
    clear = pd.Series([0.7, 1.0, 1.0, 0.9, 1.0], index=dates)
    pair = pick_pair(clear, plot_windows(2022, Evidence()), Evidence())
    assert pair == (pd.Timestamp("2021-05-10"), pd.Timestamp("2023-05-20"))


def test_pick_pair__none_when_no_clear_date_after():
    dates = pd.to_datetime(["2021-05-10", "2023-05-20"])
    clear = pd.Series([1.0, 0.2], index=dates)
    assert pick_pair(clear, plot_windows(2022, Evidence()), Evidence()) is None


def _pick_pair_by_loops(clear, windows, ev, max_days_apart=45):
    ok = clear[clear >= ev.min_clear_share]
    before, after = ok[ok.index < windows.baseline_end], ok[ok.index >= windows.prep_end]
    best, pair = -1.0, None
    for d0, c0 in before.items():
        for d1, c1 in after.items():
            gap = abs(d0.day_of_year - d1.day_of_year)
            if min(gap, 365 - gap) <= max_days_apart and min(c0, c1) > best:
                best, pair = min(c0, c1), (d0, d1)
    return pair


def test_pick_pair__same_pair_as_the_plain_loops_ties_included():
    rng = np.random.default_rng(3)
    dates = pd.date_range("2019-01-03", "2024-12-30", freq="5D")
    ev = Evidence()
    for k in range(40):
        clear = pd.Series(rng.choice([0.0, 0.5, 0.8, 1.0, np.nan], len(dates)), index=dates)
        if k % 4 == 0:  # few clear dates: often no pair
            clear = clear.where(rng.random(len(dates)) < 0.05, 0.0)
        windows = plot_windows(int(rng.choice([2020, 2021, 2022])), ev)
        assert pick_pair(clear, windows, ev) == _pick_pair_by_loops(clear, windows, ev)


def test_pick_strip__spread_over_the_dates():
    dates = pd.date_range("2021-01-01", periods=20, freq="10D")
    strip = pick_strip(dates, 4)
    assert strip[0] == dates[0] and strip[-1] == dates[-1] and len(strip) == 4


def test_cloud_state__thresholds():
    ev = Evidence()
    assert [cloud_state(s, ev) for s in (1.0, 0.3, 0.0, float("nan"))] == [
        "clear", "partly cloudy", "cloudy", "no data"]  # fmt: skip


def test_compose_rgb__false_colour_shows_vegetation_red():
    bands = {b: np.full((2, 2), 0.05) for b in ("blue", "green", "red")}
    bands["nir"] = np.full((2, 2), 0.4)
    bands["red"][0, 0] = np.nan
    rgb = compose_rgb(bands, "false")
    assert rgb.dtype == np.uint8 and rgb.shape == (2, 2, 3)
    assert rgb[1, 1, 0] > 200 and rgb[1, 1, 1] < 80
    assert rgb[0, 0, 1] == 0  # NaN shows black


def test_draw_outline__ring_drawn_in_pixel_coordinates():
    from affine import Affine

    inv = ~Affine(10, 0, 1000, 0, -10, 2000)  # 10 m grid, top-left (1000, 2000)
    rings = pixel_rings(box(1020, 1940, 1060, 1980), inv, 0, 0)
    assert np.allclose(rings[0].min(0), [2, 2]) and np.allclose(rings[0].max(0), [6, 6])
    out = draw_outline(np.zeros((8, 8, 3), np.uint8), rings, upscale=4)
    assert out.shape == (32, 32, 3)
    hit = np.all(out == OUTLINE, axis=-1)
    assert hit[8, 8:24].all() and not hit[16, 16]
    png = encode_png(out)
    assert Image.open(io.BytesIO(png)).size == (32, 32)

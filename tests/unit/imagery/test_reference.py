from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.imagery.reference import classify_reference_pixels, otsu_split, reference_levels

DATES = pd.date_range("2020-01-01", "2023-12-31", freq="10D")
WINTER = (11, 12, 1, 2, 3)


def _north(seed: int = 0) -> tuple[np.ndarray, dict[str, slice]]:
    """A northern landscape: leafless forest (winter ~0.5), brown grass (~0.3), bare land
    (~0.1) and water; every class greens in summer; 20 % of values cloudy (NaN)."""
    rng = np.random.default_rng(seed)
    summer = np.clip(np.sin(2 * np.pi * (DATES.day_of_year.to_numpy() - 100) / 365), 0, None)
    cls = {"forest": slice(0, 60), "grass": slice(60, 160), "bare": slice(160, 260)}
    n = 280
    ndvi = np.empty((len(DATES), n))
    ndvi[:, cls["forest"]] = (0.5 + 0.35 * summer)[:, None]
    ndvi[:, cls["grass"]] = (0.3 + 0.45 * summer)[:, None]
    ndvi[:, cls["bare"]] = (0.1 + 0.2 * summer)[:, None]
    ndvi[:, 260:] = -0.2  # water: never a reference
    ndvi += rng.normal(0, 0.02, ndvi.shape)
    ndvi[rng.random(ndvi.shape) < 0.2] = np.nan
    return ndvi, cls


def test_classify_reference_pixels__forest_is_the_top_mode_open_the_lowest():
    ndvi, cls = _north()
    forest, open_ = classify_reference_pixels(ndvi, DATES, WINTER, 0.9)
    assert forest[cls["forest"]].mean() > 0.8 and not forest[60:].any()
    assert open_[cls["bare"]].mean() > 0.8 and not open_[cls["forest"]].any()
    assert not (forest | open_)[260:].any()


def test_reference_levels__follow_the_season_without_cloud_jumps():
    ndvi, _ = _north(1)
    refs = reference_levels(ndvi, DATES, WINTER, 0.9)
    winter = refs["date"].dt.month.isin([12, 1, 2])
    assert abs(refs.loc[winter, "ref_forest"].median() - 0.5) < 0.03
    assert abs(refs.loc[winter, "ref_open"].median() - 0.1) < 0.03
    assert refs[["ref_forest", "ref_open"]].diff().abs().max().max() < 0.1


def test_reference_levels__no_structure_gives_no_reference():
    flat = np.full((len(DATES), 50), 0.4)
    refs = reference_levels(flat, DATES, WINTER)
    assert refs[["ref_forest", "ref_open"]].isna().all().all()


def test_otsu_split__between_two_modes():
    v = np.r_[np.full(50, 0.2), np.full(30, 0.7)]
    assert 0.2 <= otsu_split(v) < 0.7

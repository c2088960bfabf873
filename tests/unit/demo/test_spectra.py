from __future__ import annotations

import numpy as np

from pipeline.demo.spectra import (
    HERB_B,
    HERB_G,
    RESIDUAL_TREE,
    UnitTable,
    compute_cover,
    compute_planted_tree,
)


def test_compute_planted_tree__sparse_forest_planting_fills_the_gaps_stumps_are_overtopped():
    honest, low = compute_planted_tree([0.2, 0.04], 0.35)
    assert np.isclose(honest, 0.35 + 0.2 * 0.65) and np.isclose(low, 0.35 + 0.04 * 0.65)
    assert compute_planted_tree(0.5, RESIDUAL_TREE) == 0.5  # cut shrub: the larger of the two
    assert compute_planted_tree(0.01, RESIDUAL_TREE) == RESIDUAL_TREE


def _herbs(units: UnitTable, day: float, north: bool = False) -> np.ndarray:
    cover = compute_cover(units, day, day % 365.25, 0.0, north)
    return cover[:, HERB_G] + cover[:, HERB_B]


def test_compute_cover__felled_bare_hill_regrows_no_more_herbs_than_the_bare_hill():
    land = {"tree0": np.array([0.02, 0.2]), "soil0": np.array([0.85, 0.08])}  # bare, shrub
    natural = UnitTable.make(2, **land)
    felled = UnitTable.make(
        2, **land, prep=100.0, plant=110.0, grow=2000.0, fmax=0.8, herb_cap=0.2, loss=700.0
    )
    for north in (False, True):
        for day in (1100.0, 1250.0, 1400.0):  # winter, spring, summer after the felling
            bare, shrub = _herbs(felled, day, north)
            assert bare <= _herbs(natural, day, north)[0] + 1e-9
    assert np.isclose(_herbs(felled, 1400.0)[1], 0.98 * (0.08 + 0.52 * (1 - np.exp(-3.5))))

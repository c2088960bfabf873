"""Growth classes of planted species, so that a plot is compared with peers that grow alike.

A slow species (马尾松, 木荷: 6 years or more to a closed canopy) two years after planting is
not a failed planting beside eucalyptus planted the same spring; an economic forest kept clean
between its rows (油茶) never becomes as green as timber plantations. Survival, the loss
yardstick and the establishment expectation therefore read peers of the plot's *growth class*
first (where enough exist), then of similar starting land.

The table is data: ``growth_classes.csv`` beside this module names the common afforestation
species of China (树种 as counties write them, with aliases), each with its class and the basis
of the class (the usual rotation / canopy-closure age, the age-class period of GB/T 26424-2010
for timber species, 经济林 / 灌木林 by use). ``evidence.growth_classes`` in the run config adds
or overrides entries (a province's own species). A species neither names (or a plot without a
species) has the class ``""`` and is compared with every peer.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from importlib.resources import files

import numpy as np
import pandas as pd

#: The classes: ``fast``: short-rotation species closing in 2–3 years; ``medium``: timber
#: species closing in 3–5 years; ``slow``: pines, cypresses and hard broadleaves needing 5 years
#: or more; ``economic``: orchards and other 经济林 kept open and clean-cultivated; ``shrub``:
#: 灌木林 that never closes as a forest.
CLASSES = ("fast", "medium", "slow", "economic", "shrub")
TABLE_FILE = "growth_classes.csv"
#: How fast the timber classes gain canopy, slowest first (rank 0, 1, 2). ``economic`` and
#: ``shrub`` are no step on this scale: they are kept open or never close, so they are compared
#: with their own class only (:func:`no_faster`).
TIMBER_PACE = ("slow", "medium", "fast")


def read_growth_table() -> pd.DataFrame:
    """The packaged table: ``species``, ``growth_class``, ``basis`` (one row per species name)."""
    with files("pipeline.judgement").joinpath(TABLE_FILE).open(encoding="utf-8") as f:
        return pd.DataFrame(list(csv.DictReader(f)))


#: Species (树种) -> growth class, from :data:`TABLE_FILE`.
GROWTH_CLASSES: dict[str, str] = read_growth_table().set_index("species")["growth_class"].to_dict()


def growth_class(
    species: pd.Series | None, n: int, extra: Mapping[str, str] | None = None
) -> np.ndarray:
    """Growth class per plot (object array, dims plots; ``""`` where unknown): the first
    listed species of a mixed planting (``杉木、木荷``) names it; ``extra`` (species -> class,
    the config's ``evidence.growth_classes``) adds to / overrides the table."""
    if species is None:
        return np.full(n, "", dtype=object)
    table = {**GROWTH_CLASSES, **(extra or {})}
    return first_species(species).map(lambda s: table.get(s, "")).to_numpy(dtype=object)


def first_species(species: pd.Series) -> pd.Series:
    """The species that names a plot's planting: the first one listed (``杉木、木荷`` -> 杉木);
    ``""`` where none is given."""
    return species.astype("string").fillna("").str.split(r"[、,，;；/ ]").str[0].str.strip()


def no_faster(group: np.ndarray, cls: str) -> np.ndarray:
    """Which plots (bool per plot, ``group`` their classes) grow no faster than class ``cls``:
    timber classes of :data:`TIMBER_PACE` at or below its rank; for ``economic`` / ``shrub``
    (or a class named only in the config) that class itself; every plot when ``cls`` is
    ``""`` (unknown: no order to keep). A plot read against faster peers lags them by its
    species alone (pines two years on beside eucalyptus), against slower ones it can only pass
    more easily: the cautious side for an accusation."""
    group = np.asarray(group, dtype=object)
    if not cls:
        return np.ones(len(group), dtype=bool)
    if cls not in TIMBER_PACE:
        return group == cls
    return np.isin(group, TIMBER_PACE[: TIMBER_PACE.index(cls) + 1])


def only_own_class(cls: str) -> bool:
    """Whether :func:`no_faster` of ``cls`` is its own class only (the slowest timber class,
    economic and shrub forests, a class named only in the config; not ``""``)."""
    return bool(cls) and (cls == TIMBER_PACE[0] or cls not in TIMBER_PACE)


def same_class(group: np.ndarray, i: int, pool: np.ndarray, min_n: int) -> np.ndarray:
    """``pool`` (bool per plot) narrowed to plot ``i``'s growth class when its class is known
    and at least ``min_n`` of the pool (not counting ``i``) share it; else ``pool`` itself."""
    if not group[i]:
        return pool
    narrowed = pool & (group == group[i])
    return narrowed if narrowed.sum() - bool(narrowed[i]) >= min_n else pool

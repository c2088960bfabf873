"""Growth classes of planted species, so that a plot is compared with peers that grow alike.

A slow species (马尾松, 木荷: 6 years or more to a closed canopy) two years after planting is
not a failed planting beside eucalyptus planted the same spring; an economic forest kept clean
between its rows (油茶) never becomes as green as timber plantations. Survival, the loss
yardstick and the establishment expectation therefore read peers of the plot's *growth class*
first (where enough exist), then of similar starting land.

The table is data: a species the table does not name (or a plot without a species) has the
class ``""`` and is compared with every peer, as before.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Species (树种, as counties write them) -> growth class. ``fast``: short-rotation species
#: closing in 2–3 years; ``medium``: timber conifers closing in 3–5 years; ``slow``: pines and
#: broadleaves needing 5 years or more; ``economic``: orchards kept open and clean-cultivated.
GROWTH_CLASSES: dict[str, str] = {
    "桉树": "fast",
    "相思": "fast",
    "马占相思": "fast",
    "杨树": "fast",
    "泡桐": "fast",
    "杉木": "medium",
    "樟子松": "medium",
    "落叶松": "medium",
    "马尾松": "slow",
    "湿地松": "slow",
    "火炬松": "slow",
    "木荷": "slow",
    "油松": "slow",
    "侧柏": "slow",
    "樟树": "slow",
    "枫香": "slow",
    "油茶": "economic",
    "板栗": "economic",
    "核桃": "economic",
    "茶": "economic",
    "柑橘": "economic",
}


def growth_class(species: pd.Series | None, n: int) -> np.ndarray:
    """Growth class per plot (object array, dims plots; ``""`` where unknown): the first
    listed species of a mixed planting (``杉木、木荷``) names it."""
    if species is None:
        return np.full(n, "", dtype=object)
    first = species.astype("string").fillna("").str.split(r"[、,，;；/ ]").str[0].str.strip()
    return first.map(lambda s: GROWTH_CLASSES.get(s, "")).to_numpy(dtype=object)


def same_class(group: np.ndarray, i: int, pool: np.ndarray, min_n: int) -> np.ndarray:
    """``pool`` (bool per plot) narrowed to plot ``i``'s growth class when its class is known
    and at least ``min_n`` of the pool (not counting ``i``) share it; else ``pool`` itself."""
    if not group[i]:
        return pool
    narrowed = pool & (group == group[i])
    return narrowed if narrowed.sum() - bool(narrowed[i]) >= min_n else pool

"""Planted species of the ``species_mix`` axis: growth rate and canopy closure per species."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Species:
    """Growth of one planted species on a demo plot."""

    name: str  # English name (documentation only)
    years: float  # years from planting to full canopy (``grow`` of the plot's unit)
    closure: float  # final planted tree cover, 0–1 (canopy closure, 郁闭度)
    clean: bool = False  # rows kept clean of weeds (economic forest): little herb cover


#: Species a world's ``species_mix`` may name. Fast: eucalyptus and Chinese fir close within
#: 2–3 years; slow: pines and the broadleaf Schima need 6 years and close less; 油茶 (economic
#: forest) stays open with bare soil between clean-cultivated rows; the northern conifers.
SPECIES_TRAITS: dict[str, Species] = {
    "桉树": Species("eucalyptus", 2.0, 0.9),
    "杉木": Species("Chinese fir", 3.0, 0.9),
    "马尾松": Species("Masson pine", 6.0, 0.72),
    "湿地松": Species("slash pine", 5.5, 0.75),
    "木荷": Species("Schima superba", 6.5, 0.75),
    "油茶": Species("Camellia oleifera", 6.0, 0.5, clean=True),
    "油松": Species("Chinese pine", 5.0, 0.8),
    "侧柏": Species("oriental arborvitae", 5.5, 0.75),
    "樟子松": Species("Mongolian pine", 4.5, 0.8),
}
#: Herb share of the ground kept by tending in clean-cultivated rows (油茶).
CLEAN_HERB_CAP = (0.08, 0.2)

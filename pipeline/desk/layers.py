"""Helpers of the desk checks for reference layers: attribute filters, name / code keys, and
intersection areas of candidate pairs with a containment shortcut."""

from __future__ import annotations

import re
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from pipeline.config import LayerSource
from pipeline.errors import PlotDataError
from pipeline.plots.fields import parse_county

_ADMIN_SUFFIX = re.compile(r"(自治县|县|市|区|旗|乡|镇|街道|办事处)$")


@dataclass(frozen=True)
class Layer:
    """A reference layer read from disk and its configuration."""

    frame: gpd.GeoDataFrame
    source: LayerSource | None = None


def filter_layer(layer: Layer) -> gpd.GeoDataFrame:
    """The features passing the layer's attribute filter (prefix match, e.g. DLBM 0101–0103)."""
    src, frame = layer.source, layer.frame
    if src is None or not src.filter_column:
        return frame
    if src.filter_column not in frame.columns:
        raise PlotDataError(
            f"{src.path}: filter_column {src.filter_column!r} is not in the layer (it has: "
            f"{', '.join(map(str, frame.columns))}); fix filter_column of this layer in `layers`"
        )
    prefixes = tuple(str(v) for v in src.filter_values)
    values = frame[src.filter_column].map(lambda v: "" if v is None else str(v).strip())
    return frame[values.map(lambda v: v.startswith(prefixes)).to_numpy()]


def key_variants(value: object) -> set[str]:
    """Comparable forms of an admin name or code: ``"明溪县"`` → {明溪县, 明溪}; 350421.0 →
    {350421}."""
    text = parse_county(value)
    if text is None:
        return set()
    short = _ADMIN_SUFFIX.sub("", text)
    return {text, short} if short else {text}


def layer_keys(frame: gpd.GeoDataFrame, src: LayerSource | None) -> list[set[str]]:
    """Per feature, every key (name and code variants) it can be claimed by."""
    keys: list[set[str]] = [set() for _ in range(len(frame))]
    for col in (src.name_column, src.code_column) if src else ():
        if col and col in frame.columns:
            for k, v in enumerate(frame[col].to_numpy()):
                keys[k] |= key_variants(v)
    return keys


def region_keys(frame: gpd.GeoDataFrame, src: LayerSource | None) -> list[str]:
    """A label per feature (its name, else its code, else its position)."""
    for col in (src.name_column, src.code_column) if src else ():
        if col and col in frame.columns:
            return [parse_county(v) or f"#{k}" for k, v in enumerate(frame[col].to_numpy())]
    return [f"#{k}" for k in range(len(frame))]


def matches(value: object, keys: set[str]) -> bool:
    """Does a plot's county / township value name this feature?"""
    return bool(key_variants(value) & keys)


def pair_intersections(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Area of ``a[k] ∩ b[k]`` per pair (m² in the metric CRS); pairs where one lies wholly
    inside the other take the smaller area without computing the intersection."""
    out = np.zeros(len(a))
    if not len(a):
        return out
    shapely.prepare(a)
    shapely.prepare(b)
    a_in_b = shapely.contains(b, a)
    b_in_a = ~a_in_b & shapely.contains(a, b)
    out[a_in_b] = shapely.area(a[a_in_b])
    out[b_in_a] = shapely.area(b[b_in_a])
    rest = ~(a_in_b | b_in_a)
    out[rest] = shapely.area(shapely.intersection(a[rest], b[rest]))
    return out


def union_areas(rows: np.ndarray, shapes: np.ndarray, n: int) -> np.ndarray:
    """Per row, the area of the union of its pieces (pieces of one row may overlap)."""
    areas = np.zeros(n)
    if not len(rows):
        return areas
    counts = np.bincount(rows, minlength=n)
    single = counts[rows] == 1
    np.add.at(areas, rows[single], shapely.area(shapes[single]))
    multi = np.flatnonzero(~single)
    order = multi[np.argsort(rows[multi], kind="stable")]
    groups = np.split(order, np.flatnonzero(np.diff(rows[order])) + 1) if len(order) else []
    for g in groups:
        areas[rows[g[0]]] = shapely.area(shapely.union_all(shapes[g]))
    return areas

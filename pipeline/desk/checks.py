"""Desk checks: what can be judged from the plot layer and reference layers, without imagery.

Every check works in one equal-area metric CRS and finds candidate pairs through a spatial
index (never all pairs); pairs where one polygon lies wholly inside the other skip the costly
intersection. A check whose reference layer is not configured is skipped, and
:attr:`DeskResult.checks` states each check's inputs, thresholds and whether it ran.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pipeline.config import DeskChecks, LayerSource
from pipeline.desk.layers import (
    Layer,
    filter_layer,
    layer_keys,
    matches,
    pair_intersections,
    region_keys,
    union_areas,
)
from pipeline.plots.normalize import MU_PER_M2, equal_area_crs

REQUIRED_ATTRIBUTES = ("plot_id", "county", "stage", "planting_year", "claimed_area_mu")


@dataclass(frozen=True)
class ReferenceLayers:
    """Reference layers already read from disk (any CRS), with their configured columns.

    ``prior`` / ``restricted`` hold one layer; ``priors`` / ``restricteds`` any number more.
    """

    prior: gpd.GeoDataFrame | None = None
    prior_source: LayerSource | None = None
    region: gpd.GeoDataFrame | None = None
    region_source: LayerSource | None = None
    restricted: gpd.GeoDataFrame | None = None
    restricted_source: LayerSource | None = None
    townships: gpd.GeoDataFrame | None = None
    township_source: LayerSource | None = None
    priors: tuple[Layer, ...] = ()
    restricteds: tuple[Layer, ...] = ()

    def prior_layers(self) -> list[Layer]:
        one = [Layer(self.prior, self.prior_source)] if self.prior is not None else []
        return one + list(self.priors)

    def restricted_layers(self) -> list[Layer]:
        one = [Layer(self.restricted, self.restricted_source)]
        return (one if self.restricted is not None else []) + list(self.restricteds)


@dataclass(frozen=True)
class DeskResult:
    """Per-row desk findings (index = plot ``row``), skipped checks, and per check its inputs,
    thresholds, whether it ran and how many plots it flagged."""

    table: pd.DataFrame
    skipped: list[str] = field(default_factory=list)
    checks: dict[str, dict] = field(default_factory=dict)


def check_desk(
    plots: gpd.GeoDataFrame, refs: ReferenceLayers, thresholds: DeskChecks
) -> DeskResult:
    """Run every desk check on the standard plot table.

    Returns a table with ``desk_reasons`` (list of codes) and the metrics behind them:
    ``area_diff_mu``, ``area_tolerance_mu``, ``overlap_with``, ``overlap_area_mu``,
    ``prior_match``, ``prior_layer``, ``prior_share``, ``region_share``, ``region_actual``,
    ``township_share``, ``restricted_area_mu``, ``restricted_with``.
    """
    t = thresholds
    crs = equal_area_crs(plots)
    geoms = plots.geometry.to_crs(crs).reset_index(drop=True)
    has_geom = ~(geoms.isna() | geoms.is_empty).to_numpy()
    gv = geoms.values
    shapely.prepare(gv[has_geom])
    reasons: list[list[str]] = [[] for _ in range(len(plots))]
    table = pd.DataFrame(index=pd.Index(plots["row"].to_numpy(), name="row"))
    checks: dict[str, dict] = {}

    def flag(code: str, rows: np.ndarray, inputs: list, used: dict) -> None:
        for i in rows:
            reasons[i].append(code)
        checks[code] = {"ran": True, "inputs": inputs, "thresholds": used, "n_flagged": len(rows)}

    def skip(code: str, why: str, used: dict) -> None:
        checks[code] = {"ran": False, "skipped": why, "inputs": [], "thresholds": used}

    flag("INVALID_GEOMETRY", np.flatnonzero((plots["geom_status"] != "ok").to_numpy()),
         ["plots.geom_status"], {})  # fmt: skip
    ids = plots["plot_id"]
    flag("DUPLICATE_ID", np.flatnonzero((ids.notna() & ids.duplicated(keep=False)).to_numpy()),
         ["plots.plot_id"], {})  # fmt: skip
    missing = np.zeros(len(plots), dtype=bool)
    for name in REQUIRED_ATTRIBUTES:
        missing |= plots[name].isna().to_numpy()
    flag("MISSING_ATTRIBUTE", np.flatnonzero(missing), [f"plots.{c}" for c in REQUIRED_ATTRIBUTES],
         {})  # fmt: skip
    mism, small = _check_area(plots, gv, has_geom, t, table)
    area_used = {"area_rel_tol": t.area_rel_tol, "area_buffer_m": t.area_buffer_m}
    flag("AREA_MISMATCH", mism, ["plots.claimed_area_mu", "plots.geometry"], area_used)
    flag("TOO_SMALL", small, ["plots.geometry"], {"min_area_mu": t.min_area_mu})
    flag("OVERLAP", _check_overlap(plots, gv, has_geom, t, table), ["plots.geometry"],
         {"overlap_min_mu": t.overlap_min_mu})  # fmt: skip

    skipped = []
    priors = refs.prior_layers()
    used = {"prior_min_share": t.prior_min_share}
    if priors:
        hit = _check_prior(gv, has_geom, priors, crs, t, table)
        flag("DUPLICATE_PRIOR", hit, [_name(p.source, "prior") for p in priors], used)
    else:
        skipped.append("DUPLICATE_PRIOR (no layers.prior configured)")
        skip("DUPLICATE_PRIOR", "no layers.prior configured", used)
    used = {"region_min_share": t.region_min_share, "township_min_share": t.township_min_share}
    if refs.region is not None or refs.townships is not None:
        hit, inputs = _check_region(plots, gv, has_geom, refs, crs, t, table)
        flag("OUTSIDE_REGION", hit, inputs, used)
    else:
        skipped.append("OUTSIDE_REGION (no layers.region configured)")
        skip("OUTSIDE_REGION", "no layers.region configured", used)
    restricted = refs.restricted_layers()
    used = {"restricted_min_mu": t.restricted_min_mu}
    if restricted:
        hit = _check_restricted(gv, has_geom, restricted, crs, t, table)
        inputs = [_name(r.source, "restricted") + _filter_text(r.source) for r in restricted]
        flag("RESTRICTED_LAND", hit, inputs, used)
    else:
        skipped.append("RESTRICTED_LAND (no layers.restricted configured)")
        skip("RESTRICTED_LAND", "no layers.restricted configured", used)
    table["desk_reasons"] = reasons
    return DeskResult(table=table, skipped=skipped, checks=checks)


def _name(src: LayerSource | None, default: str) -> str:
    return src.display_name() if src is not None else default


def _filter_text(src: LayerSource | None) -> str:
    if src is None or not src.filter_column:
        return ""
    return f" where {src.filter_column} starts with {'/'.join(src.filter_values)}"


def _check_area(plots, gv, has_geom, t: DeskChecks, table) -> tuple[np.ndarray, np.ndarray]:
    area = plots["geom_area_mu"].to_numpy(dtype=float)
    claimed = plots["claimed_area_mu"].to_numpy(dtype=float)
    buffered = np.zeros(len(plots))
    buffered[has_geom] = shapely.area(shapely.buffer(gv[has_geom], t.area_buffer_m, quad_segs=4))
    buffer_tol = np.where(has_geom, buffered * MU_PER_M2 - area, 0.0)
    tolerance = np.maximum(t.area_rel_tol * area, buffer_tol)
    diff = claimed - area
    table["area_diff_mu"] = diff
    table["area_tolerance_mu"] = tolerance
    with np.errstate(invalid="ignore"):
        mism = np.flatnonzero(has_geom & np.isfinite(diff) & (np.abs(diff) > tolerance))
    return mism, np.flatnonzero(has_geom & (area < t.min_area_mu))


def _check_overlap(plots, gv, has_geom, t: DeskChecks, table) -> np.ndarray:
    idx = np.flatnonzero(has_geom)
    sub = gv[idx]
    tree = shapely.STRtree(sub)
    left, right = tree.query(sub, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    inter = pair_intersections(sub[left], sub[right]) * MU_PER_M2
    hit = inter >= max(t.overlap_min_mu, 1e-9)
    partners: dict[int, list[str]] = {}
    areas = np.zeros(len(plots))
    ids = plots["plot_id"].to_numpy()
    for a, b, mu in zip(idx[left[hit]], idx[right[hit]], inter[hit], strict=True):
        for x, y in ((a, b), (b, a)):
            partners.setdefault(int(x), []).append(f"{ids[y] or '#' + str(y)}({mu:.2f}亩)")
            areas[x] += mu
    table["overlap_with"] = [";".join(partners.get(i, [])) for i in range(len(plots))]
    table["overlap_area_mu"] = areas
    return np.array(sorted(partners), dtype=np.int64)


def _check_prior(gv, has_geom, layers: list[Layer], crs, t: DeskChecks, table) -> np.ndarray:
    """Best-matching earlier plot over all prior layers: its id, year and layer."""
    n = len(gv)
    best = np.zeros(n)
    match = np.full(n, "", dtype=object)
    where = np.full(n, "", dtype=object)
    idx = np.flatnonzero(has_geom)
    sub = gv[idx]
    sub_area = np.maximum(shapely.area(sub), 1e-9)
    for layer in layers:
        prior = layer.frame.to_crs(crs)
        src = layer.source
        pv = prior.geometry.values
        left, right = prior.sindex.query(sub, predicate="intersects")
        if not len(left):
            continue
        share = pair_intersections(sub[left], pv[right]) / sub_area[left]
        ids = _column(prior, src.id_column if src else None, lambda j: f"#{j}")
        years = _column(prior, src.year_column if src else None, lambda j: "")
        if src is not None and src.year is not None and src.year_column not in prior.columns:
            years = np.full(len(prior), str(src.year), dtype=object)
        order = np.lexsort((share, left))  # per plot, ascending share: the last is the best
        last = np.r_[left[order][1:] != left[order][:-1], True]
        for k in order[last]:
            i = idx[left[k]]
            if share[k] > best[i]:
                best[i] = share[k]
                j = right[k]
                match[i] = f"{ids[j]} ({years[j]})" if years[j] != "" else str(ids[j])
                where[i] = _name(src, "prior")
    hit = best >= t.prior_min_share
    table["prior_share"] = best
    table["prior_match"] = np.where(hit, match, "")
    table["prior_layer"] = np.where(hit, where, "")
    return np.flatnonzero(hit)


def _column(frame, col: str | None, fallback) -> np.ndarray:
    from pipeline.plots.fields import parse_text

    if col and col in frame.columns:
        return np.array([parse_text(v) or "" for v in frame[col].to_numpy()], dtype=object)
    return np.array([fallback(j) for j in range(len(frame))], dtype=object)


def _check_region(plots, gv, has_geom, refs: ReferenceLayers, crs, t, table):
    hit = np.zeros(len(plots), bool)
    inputs = []
    if refs.region is not None:
        share, actual = _share_in_named(gv, has_geom, plots["county"], refs.region,
                                        refs.region_source, crs)  # fmt: skip
        table["region_share"] = share
        table["region_actual"] = actual
        hit |= np.nan_to_num(share, nan=1.0) < t.region_min_share
        inputs.append(_name(refs.region_source, "region") + " vs plots.county")
    if refs.townships is not None:
        share, _ = _share_in_named(gv, has_geom, plots["township"], refs.townships,
                                   refs.township_source, crs, unknown_is_nan=True)  # fmt: skip
        table["township_share"] = share
        hit |= np.nan_to_num(share, nan=1.0) < t.township_min_share
        inputs.append(_name(refs.township_source, "townships") + " vs plots.township")
    return np.flatnonzero(hit), inputs


def _share_in_named(gv, has_geom, names: pd.Series, region, src, crs, unknown_is_nan=False):
    """Share of each plot inside the region polygons carrying its name (or code), and the
    name of the region holding most of it."""
    region = region.to_crs(crs)
    rv = region.geometry.values
    keys = layer_keys(region, src)
    known = set().union(*keys) if keys else set()
    share = np.full(len(gv), np.nan)
    actual = np.full(len(gv), "", dtype=object)
    labels = region_keys(region, src)
    want = names.to_numpy(dtype=object)
    idx = np.flatnonzero(has_geom & pd.notna(want))
    if not len(idx):
        return share, actual
    left, right = shapely.STRtree(rv).query(gv[idx], predicate="intersects")
    inter = pair_intersections(gv[idx][left], rv[right])
    plot_area = np.maximum(shapely.area(gv[idx]), 1e-9)
    ok = np.array([matches(want[idx[a]], keys[b]) for a, b in zip(left, right, strict=True)],
                  dtype=bool)  # fmt: skip
    inside = np.zeros(len(idx))
    np.add.at(inside, left[ok], inter[ok])
    share[idx] = inside / plot_area
    order = np.lexsort((inter, left))
    last = np.r_[left[order][1:] != left[order][:-1], True] if len(order) else order
    for k in order[last]:
        actual[idx[left[k]]] = labels[right[k]]
    if unknown_is_nan:
        unknown = np.array([not matches(w, known) for w in want[idx]], dtype=bool)
        share[idx[unknown]] = np.nan
    return share, actual


def _check_restricted(gv, has_geom, layers: list[Layer], crs, t: DeskChecks, table):
    """Area of each plot on restricted land (union over layers), and per layer."""
    idx = np.flatnonzero(has_geom)
    sub = gv[idx]
    pieces: list[tuple[np.ndarray, np.ndarray]] = []
    per_layer: dict[int, list[str]] = {}
    for layer in layers:
        frame = filter_layer(layer).to_crs(crs)
        rv = frame.geometry.values
        left, right = frame.sindex.query(sub, predicate="intersects")
        if not len(left):
            continue
        shapes = shapely.intersection(sub[left], rv[right])
        pieces.append((idx[left], shapes))
        mu = np.zeros(len(gv))
        np.add.at(mu, idx[left], shapely.area(shapes) * MU_PER_M2)
        for i in np.flatnonzero(mu > 0):
            per_layer.setdefault(int(i), []).append(f"{_name(layer.source, 'restricted')}:"
                                                    f"{mu[i]:.2f}亩")  # fmt: skip
    areas = np.zeros(len(gv))
    if pieces:
        rows = np.concatenate([p[0] for p in pieces])
        areas = union_areas(rows, np.concatenate([p[1] for p in pieces]), len(gv))
    areas *= MU_PER_M2
    table["restricted_area_mu"] = areas
    table["restricted_with"] = [";".join(per_layer.get(i, [])) for i in range(len(gv))]
    return np.flatnonzero(areas >= max(t.restricted_min_mu, 1e-9))

"""Desk checks: what can be judged from the plot layer and reference layers, without imagery.

Every check works in one equal-area metric CRS and finds candidate pairs through a spatial
index (never all pairs). A check whose reference layer is not configured is skipped and
reported in :attr:`DeskResult.skipped`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pipeline.config import DeskChecks, LayerSource
from pipeline.plots import MU_PER_M2, equal_area_crs

REQUIRED_ATTRIBUTES = ("plot_id", "county", "stage", "planting_year", "claimed_area_mu")


@dataclass(frozen=True)
class ReferenceLayers:
    """Reference layers already read from disk (any CRS), with their configured columns."""

    prior: gpd.GeoDataFrame | None = None
    prior_source: LayerSource | None = None
    region: gpd.GeoDataFrame | None = None
    region_source: LayerSource | None = None
    restricted: gpd.GeoDataFrame | None = None


@dataclass(frozen=True)
class DeskResult:
    """Per-row desk findings (index = plot ``row``) and the checks that were skipped."""

    table: pd.DataFrame
    skipped: list[str] = field(default_factory=list)


def check_desk(
    plots: gpd.GeoDataFrame, refs: ReferenceLayers, thresholds: DeskChecks
) -> DeskResult:
    """Run every desk check on the standard plot table.

    Returns a table with ``desk_reasons`` (list of codes) and the metrics behind them:
    ``area_diff_mu``, ``area_tolerance_mu``, ``overlap_with``, ``overlap_area_mu``,
    ``prior_match``, ``region_share``, ``restricted_area_mu``.
    """
    crs = equal_area_crs(plots)
    geoms = plots.geometry.to_crs(crs).reset_index(drop=True)
    has_geom = ~(geoms.isna() | geoms.is_empty).to_numpy()
    reasons: list[list[str]] = [[] for _ in range(len(plots))]
    table = pd.DataFrame(index=pd.Index(plots["row"].to_numpy(), name="row"))

    for i in np.flatnonzero((plots["geom_status"] != "ok").to_numpy()):
        reasons[i].append("INVALID_GEOMETRY")
    _check_ids(plots, reasons)
    _check_missing(plots, reasons)
    _check_area(plots, geoms, has_geom, thresholds, reasons, table)
    _check_overlap(plots, geoms, has_geom, thresholds, reasons, table)

    skipped = []
    if refs.prior is not None:
        _check_prior(geoms, has_geom, refs, crs, thresholds, reasons, table)
    else:
        skipped.append("DUPLICATE_PRIOR (no layers.prior configured)")
    if refs.region is not None:
        _check_region(plots, geoms, has_geom, refs, crs, thresholds, reasons, table)
    else:
        skipped.append("OUTSIDE_REGION (no layers.region configured)")
    if refs.restricted is not None:
        _check_restricted(geoms, has_geom, refs.restricted.to_crs(crs), thresholds, reasons, table)
    else:
        skipped.append("RESTRICTED_LAND (no layers.restricted configured)")
    table["desk_reasons"] = reasons
    return DeskResult(table=table, skipped=skipped)


def _check_ids(plots: gpd.GeoDataFrame, reasons: list[list[str]]) -> None:
    ids = plots["plot_id"]
    dup = ids.notna() & ids.duplicated(keep=False)
    for i in np.flatnonzero(dup.to_numpy()):
        reasons[i].append("DUPLICATE_ID")


def _check_missing(plots: gpd.GeoDataFrame, reasons: list[list[str]]) -> None:
    missing = np.zeros(len(plots), dtype=bool)
    for name in REQUIRED_ATTRIBUTES:
        missing |= plots[name].isna().to_numpy()
    for i in np.flatnonzero(missing):
        reasons[i].append("MISSING_ATTRIBUTE")


def _check_area(plots, geoms, has_geom, t: DeskChecks, reasons, table) -> None:
    area = plots["geom_area_mu"].to_numpy(dtype=float)
    claimed = plots["claimed_area_mu"].to_numpy(dtype=float)
    buffered = np.zeros(len(plots))
    buffered[has_geom] = shapely.area(shapely.buffer(geoms.values[has_geom], t.area_buffer_m))
    buffer_tol = np.where(has_geom, buffered * MU_PER_M2 - area, 0.0)
    tolerance = np.maximum(t.area_rel_tol * area, buffer_tol)
    diff = claimed - area
    table["area_diff_mu"] = diff
    table["area_tolerance_mu"] = tolerance
    for i in np.flatnonzero(has_geom & np.isfinite(diff) & (np.abs(diff) > tolerance)):
        reasons[i].append("AREA_MISMATCH")
    for i in np.flatnonzero(has_geom & (area < t.min_area_mu)):
        reasons[i].append("TOO_SMALL")


def _check_overlap(plots, geoms, has_geom, t: DeskChecks, reasons, table) -> None:
    idx = np.flatnonzero(has_geom)
    sub = gpd.GeoSeries(geoms.values[idx], crs=geoms.crs)
    left, right = sub.sindex.query(sub, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    inter = shapely.area(shapely.intersection(sub.values[left], sub.values[right])) * MU_PER_M2
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
    for i in partners:
        reasons[i].append("OVERLAP")


def _check_prior(geoms, has_geom, refs: ReferenceLayers, crs, t: DeskChecks, reasons, table):
    prior = refs.prior.to_crs(crs)
    src = refs.prior_source
    pvals = prior.geometry.values
    idx = np.flatnonzero(has_geom)
    sub = geoms.values[idx]
    left, right = prior.sindex.query(sub, predicate="intersects")
    inter = shapely.area(shapely.intersection(sub[left], pvals[right]))
    share = inter / np.maximum(shapely.area(sub[left]), 1e-9)
    match = [""] * len(geoms)
    best = np.zeros(len(geoms))
    id_col = src.id_column if src else None
    year_col = src.year_column if src else None
    for k in np.argsort(share):  # ascending, so the best match is written last
        i, j = idx[left[k]], right[k]
        best[i] = share[k]
        pid = prior.iloc[j][id_col] if id_col in prior.columns else f"#{j}"
        year = prior.iloc[j][year_col] if year_col in prior.columns else ""
        match[i] = f"{pid} ({year})" if year != "" else str(pid)
    table["prior_share"] = best
    table["prior_match"] = [
        m if s >= t.prior_min_share else "" for m, s in zip(match, best, strict=True)
    ]
    for i in np.flatnonzero(best >= t.prior_min_share):
        reasons[i].append("DUPLICATE_PRIOR")


def _check_region(plots, geoms, has_geom, refs: ReferenceLayers, crs, t, reasons, table) -> None:
    region = refs.region.to_crs(crs)
    src = refs.region_source
    keys = pd.Series([set() for _ in range(len(region))])
    for col in (src.name_column, src.code_column) if src else ():
        if col and col in region.columns:
            for k, v in enumerate(region[col].to_numpy()):
                if v is not None:
                    keys[k].add(_key(v))
    share = np.full(len(plots), np.nan)
    counties = plots["county"].to_numpy()
    unions: dict[str, shapely.Geometry | None] = {}
    for i in np.flatnonzero(has_geom & pd.notna(counties)):
        want = _key(counties[i])
        if want not in unions:
            rows = [k for k, s in enumerate(keys) if want in s]
            unions[want] = shapely.union_all(region.geometry.values[rows]) if rows else None
        inside, g = unions[want], geoms.values[i]
        if inside is None:
            share[i] = 0.0
            continue
        share[i] = shapely.area(shapely.intersection(g, inside)) / max(shapely.area(g), 1e-9)
    table["region_share"] = share
    for i in np.flatnonzero(np.nan_to_num(share, nan=1.0) < t.region_min_share):
        reasons[i].append("OUTSIDE_REGION")


def _key(value: object) -> str:
    text = str(value).strip()
    return text[:-2] if text.endswith(".0") else text


def _check_restricted(geoms, has_geom, restricted, t: DeskChecks, reasons, table) -> None:
    idx = np.flatnonzero(has_geom)
    sub = geoms.values[idx]
    left, right = restricted.sindex.query(sub, predicate="intersects")
    areas = np.zeros(len(geoms))
    if len(left):
        inter = (
            shapely.area(shapely.intersection(sub[left], restricted.geometry.values[right]))
            * MU_PER_M2
        )
        np.add.at(areas, idx[left], inter)
    table["restricted_area_mu"] = areas
    for i in np.flatnonzero(areas >= max(t.restricted_min_mu, 1e-9)):
        reasons[i].append("RESTRICTED_LAND")

"""Turn raw plot layers into the standard plot table: claims mapped, values normalised.

The standard columns are added beside every original attribute (an original column whose
name collides with a standard one is kept as ``src_<name>``). Geometry is repaired, its area
computed in 亩 in an equal-area projection, and nothing is dropped: one row per input record,
files in config order, records in file order. Every repair, normalisation and problem is
logged per record (:class:`pipeline.plots.ingest.IngestLog`).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from pipeline.config import PlotFile, PlotSource
from pipeline.plots.fields import (
    MU_PER_HA,
    MU_PER_M2,
    ColumnChoice,
    is_known_stage,
    parse_area,
    parse_county,
    parse_id,
    parse_number,
    parse_stage,
    parse_text,
    parse_year,
    resolve_columns,
)
from pipeline.plots.ingest import IngestLog

__all__ = ["MU_PER_HA", "MU_PER_M2", "parse_number", "parse_text", "parse_year"]

STANDARD_COLUMNS = (
    "row",
    "source_file",
    "source_row",
    "plot_id",
    "county",
    "township",
    "village",
    "compartment",
    "subcompartment",
    "stage",
    "planting_year",
    "claimed_area_mu",
    "planting_type",
    "species",
    "is_design",
    "geom_status",
    "geom_area_mu",
    "geom_area_change_mu",
    "oversize",
)
_TEXT_FIELDS = ("township", "village", "compartment", "subcompartment", "planting_type", "species")


def equal_area_crs(gdf: gpd.GeoDataFrame) -> pyproj.CRS:
    """A Lambert azimuthal equal-area CRS centred on the layer (metres; areas are exact)."""
    has = ~(gdf.geometry.isna() | gdf.geometry.is_empty)
    bounds = gdf.geometry[has].to_crs(4326).total_bounds if has.any() else [np.nan] * 4
    if not np.all(np.isfinite(bounds)):
        lon, lat = 105.0, 35.0
    else:
        lon, lat = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
    return pyproj.CRS.from_proj4(
        f"+proj=laea +lat_0={lat:.6f} +lon_0={lon:.6f} +x_0=0 +y_0=0 +ellps=GRS80 +units=m"
    )


def repair_geometries(geoms: gpd.GeoSeries) -> tuple[gpd.GeoSeries, pd.Series]:
    """Drop Z/M and repeated vertices, repair invalid rings, keep only polygonal parts.

    Returns the repaired series and a status per row: ``ok``, ``repaired``, ``empty``
    (null, empty, or nothing polygonal).
    """
    values = shapely.remove_repeated_points(shapely.force_2d(geoms.values))
    status = np.full(len(values), "ok", dtype=object)
    missing = shapely.is_missing(values) | shapely.is_empty(values)
    invalid = ~missing & ~shapely.is_valid(values)
    fixed = values.copy()
    if invalid.any():
        repaired = shapely.make_valid(values[invalid])
        fixed[invalid] = [_polygonal_part(g) for g in repaired]
        status[invalid] = "repaired"
    other = ~missing & ~invalid & ~np.isin(shapely.get_type_id(values), [3, 6])
    fixed[other] = [_polygonal_part(g) for g in values[other]]
    gone = shapely.is_missing(fixed) | shapely.is_empty(fixed)
    status[missing | gone] = "empty"
    fixed[missing | gone] = None
    return gpd.GeoSeries(fixed, index=geoms.index, crs=geoms.crs), pd.Series(status, geoms.index)


def _polygonal_part(geom: shapely.Geometry) -> shapely.Geometry | None:
    if geom is None:
        return None
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else None


def normalize_plots(
    raw: gpd.GeoDataFrame,
    source: PlotSource,
    plot_file: PlotFile | None = None,
    log: IngestLog | None = None,
    out_of_crs: list[int] | tuple[int, ...] = (),
) -> gpd.GeoDataFrame:
    """The standard plot table from one raw layer (rows in input order, nothing dropped).

    Areas are in 亩; the geometry stays in the layer's CRS. ``log`` collects what was
    repaired, normalised or found wrong per record; ``out_of_crs`` lists records whose
    coordinates do not belong to the layer's CRS (their geometry is set aside and flagged).
    """
    plot_file = plot_file or source.plot_files()[0]
    log = log if log is not None else IngestLog()
    name = str(plot_file.path)
    choice = resolve_columns(
        [str(c) for c in raw.columns if c != raw.geometry.name],
        plot_file.columns or source.columns,
        source.aliases,
        plot_file.area_unit or source.area_unit,
        source.area_units,
        where=name,
    )
    out = raw.copy()
    clash = {c: f"src_{c}" for c in out.columns if c in STANDARD_COLUMNS}
    out = out.rename(columns=clash)
    n = len(out)
    out.insert(0, "row", np.arange(n, dtype=np.int64))
    out.insert(1, "source_file", name)
    out.insert(2, "source_row", np.arange(n, dtype=np.int64))
    base = log.start_file(name, n)

    def column(field: str) -> pd.Series:
        col = choice[field].column
        if col is None:
            return pd.Series([None] * n, index=out.index, dtype=object)
        return out[clash.get(col, col)]

    def parsed(field: str, parse, compare=None) -> pd.Series:
        values = column(field)
        result = _map_unique(values, parse)
        if choice[field].column is not None:
            log.values(base, field, values, _map_unique(values, compare) if compare else result)
        return result

    ids = parsed("plot_id", parse_id)
    if choice["plot_id"].column is None:
        ids, how = _composite_ids(out, choice, clash)
        if how:
            choice["plot_id"] = ColumnChoice("plot_id", how, "composite")
    out["plot_id"] = ids
    log.set_ids(base, ids)
    out["county"] = parsed("county", parse_county)
    for field in _TEXT_FIELDS:
        out[field] = parsed(field, parse_text)
    stage = parsed("stage", lambda v: parse_stage(v, source.stage_codes))
    out["stage"] = stage
    unknown = stage.notna() & ~stage.map(lambda s: is_known_stage(s, source.stage_codes))
    log.problems(base, unknown, "UNKNOWN_STAGE", "stage", column("stage"), _STAGE_MSG)
    year = parsed("planting_year", parse_year)
    out["planting_year"] = pd.array(year, dtype="Int64")
    unit = choice["claimed_area"].unit or "mu"
    area = parsed("claimed_area", lambda v: parse_area(v, unit), compare=parse_number)
    out["claimed_area_mu"] = pd.to_numeric(area, errors="coerce").astype(float)
    designs = set(source.design_stages) | {parse_stage(s) for s in source.design_stages}
    out["is_design"] = out["stage"].isin(designs)

    geoms = out.geometry.copy()
    if len(out_of_crs):
        flagged = np.zeros(n, bool)
        flagged[list(out_of_crs)] = True
        log.problems(base, pd.Series(flagged, out.index), "COORDINATES_OUT_OF_CRS", "geometry",
                     None, f"coordinates do not belong to {out.crs.to_string()}; geometry "
                     "set aside (check this record's coordinates)")  # fmt: skip
        geoms[flagged] = None
    _repair_into(out, geoms, source, log, base)
    log.mapping[name] = {f: c.as_dict() for f, c in choice.items()}
    return out.reset_index(drop=True)


_STAGE_MSG = "stage not recognised (not 设计施工 / 造林验收 / 纳入造林 or a code); kept as given"


def _repair_into(out, geoms, source: PlotSource, log: IngestLog, base: int) -> None:
    """Repair the geometry in place, add status and areas, and log what changed."""
    flat = shapely.force_2d(geoms.values)
    dropped = shapely.get_num_coordinates(flat) - shapely.get_num_coordinates(
        shapely.remove_repeated_points(flat)
    )
    fixed, status = repair_geometries(geoms)
    reasons = np.full(len(out), "", dtype=object)
    inv = (status == "repaired").to_numpy()
    if inv.any():
        reasons[inv] = shapely.is_valid_reason(shapely.force_2d(geoms.values[inv]))
    out.set_geometry(fixed, inplace=True)
    out["geom_status"] = status.to_numpy()
    ea = equal_area_crs(out)
    eav = fixed.to_crs(ea).values
    area_m2 = np.where(status.to_numpy() != "empty", shapely.area(eav), 0.0)
    out["geom_area_mu"] = area_m2 * MU_PER_M2
    change = np.zeros(len(out))
    if inv.any():
        drawn_ea = gpd.GeoSeries(shapely.force_2d(geoms.values[inv]), crs=out.crs).to_crs(ea)
        change[inv] = out["geom_area_mu"].to_numpy()[inv] - _abs_ring_area(drawn_ea) * MU_PER_M2
    out["geom_area_change_mu"] = change
    log.geometry(base, status.to_numpy(), reasons, change, geoms.values, dropped)
    perim = shapely.length(eav)
    with np.errstate(divide="ignore", invalid="ignore"):
        width = np.where(perim > 0, 2 * area_m2 / perim, np.inf)
    sliver = (status.to_numpy() != "empty") & (width < source.sliver_width_m)
    log.problems(base, pd.Series(sliver, out.index), "SLIVER", "geometry", None,
                 f"sliver polygon: mean width < {source.sliver_width_m:g} m")  # fmt: skip
    out["oversize"] = area_m2 > source.max_area_km2 * 1e6
    log.problems(base, out["oversize"], "PLOT_TOO_LARGE", "geometry", None,
                 f"polygon larger than plots.max_area_km2 = {source.max_area_km2:g} km²; "
                 "kept, not read on imagery (INSUFFICIENT_DATA)")  # fmt: skip


def _map_unique(values: pd.Series, parse) -> pd.Series:
    """``values.map(parse)`` computed once per distinct value (fast on 200 000 rows)."""
    table: dict = {}
    out = []
    for v in values.to_numpy(dtype=object):
        k = _hashable(v)
        if k not in table:
            table[k] = parse(None if k is None else v)
        out.append(table[k])
    return pd.Series(out, index=values.index, dtype=object)


def _hashable(v: object) -> object:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return None
    return (type(v).__name__, v) if isinstance(v, str | int | float | np.number) else repr(v)


def _composite_ids(out, choice, clash) -> tuple[pd.Series, str | None]:
    """Without an id field: village-林班-小班 (the forest-inventory key), when present."""
    parts = [choice[f].column for f in ("village", "compartment", "subcompartment")]
    parts = [clash.get(p, p) for p in parts if p is not None]
    if not any(choice[f].column for f in ("compartment", "subcompartment")):
        return pd.Series([None] * len(out), index=out.index, dtype=object), None
    texts = [out[p].map(parse_text) for p in parts]
    ids = ["-".join(t for t in row if t is not None) or None for row in zip(*texts, strict=True)]
    return pd.Series(ids, index=out.index, dtype=object), "-".join(parts)


def combine_plots(tables: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """One plot table from several files' tables: ``row`` renumbered, files in the given
    order. Geometry stays in the CRS they share, or becomes EPSG:4490 when they differ."""
    if len(tables) == 1:
        return tables[0]
    crss = {pyproj.CRS(t.crs).to_wkt() for t in tables}
    target = tables[0].crs if len(crss) == 1 else pyproj.CRS.from_epsg(4490)
    parts = [t.to_crs(target) for t in tables]
    out = pd.concat(parts, ignore_index=True)
    out = gpd.GeoDataFrame(out, geometry=parts[0].geometry.name, crs=target)
    out["row"] = np.arange(len(out), dtype=np.int64)
    return out


def _abs_ring_area(geoms: gpd.GeoSeries) -> np.ndarray:
    """Shoelace area of the exterior rings as drawn (meaningful for self-intersecting rings)."""
    areas = np.zeros(len(geoms))
    for i, g in enumerate(geoms.values):
        if g is None or g.is_empty or g.geom_type not in ("Polygon", "MultiPolygon"):
            continue
        polys = [g] if g.geom_type == "Polygon" else list(g.geoms)
        for p in polys:
            xy = np.asarray(p.exterior.coords)
            x, y = xy[:, 0], xy[:, 1]
            areas[i] += abs(0.5 * np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]))
            for hole in p.interiors:
                hx, hy = np.asarray(hole.coords).T
                areas[i] -= abs(0.5 * np.sum(hx[:-1] * hy[1:] - hx[1:] * hy[:-1]))
    return areas

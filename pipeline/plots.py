"""Turn a raw plot layer into the standard plot table: claims mapped, values normalised.

The standard columns are added beside every original attribute (an original column whose
name collides with a standard one is kept as ``src_<name>``). Geometry is repaired, its area
computed in 亩 in an equal-area projection, and nothing is dropped: one row per input record.
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from pipeline.config import PlotSource

MU_PER_M2 = 1.0 / 666.6666667
MU_PER_HA = 15.0

STANDARD_COLUMNS = (
    "row",
    "plot_id",
    "county",
    "township",
    "stage",
    "planting_year",
    "claimed_area_mu",
    "planting_type",
    "species",
    "is_design",
    "geom_status",
    "geom_area_mu",
)

_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")


def parse_number(value: object) -> float | None:
    """A number from ``12.5``, ``"12.5亩"``, ``" 3 "``; ``None`` when there is none."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    match = _NUMBER.search(str(value).replace(",", "").replace("，", ""))
    return float(match.group()) if match else None


def parse_year(value: object) -> int | None:
    """A year from ``2021``, ``2021.0``, ``"2021年"``; ``None`` when absent or implausible."""
    number = parse_number(value)
    if number is None or not 1949 <= number <= 2100:
        return None
    return int(number)


def parse_text(value: object) -> str | None:
    """Stripped text, ``None`` for empty or missing values."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def equal_area_crs(gdf: gpd.GeoDataFrame) -> pyproj.CRS:
    """A Lambert azimuthal equal-area CRS centred on the layer (metres; areas are exact)."""
    geographic = gdf.geometry.to_crs(4326)
    bounds = geographic.total_bounds
    if not np.all(np.isfinite(bounds)):
        lon, lat = 105.0, 35.0
    else:
        lon, lat = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
    return pyproj.CRS.from_proj4(
        f"+proj=laea +lat_0={lat:.6f} +lon_0={lon:.6f} +x_0=0 +y_0=0 +ellps=GRS80 +units=m"
    )


def repair_geometries(geoms: gpd.GeoSeries) -> tuple[gpd.GeoSeries, pd.Series]:
    """Drop Z/M, repair invalid rings, keep only polygonal parts.

    Returns the repaired series and a status per row: ``ok``, ``repaired``, ``empty``.
    """
    values = shapely.force_2d(geoms.values)
    status = np.full(len(values), "ok", dtype=object)
    missing = shapely.is_missing(values) | shapely.is_empty(values)
    invalid = ~missing & ~shapely.is_valid(values)
    fixed = values.copy()
    if invalid.any():
        repaired = shapely.make_valid(values[invalid])
        fixed[invalid] = [_polygonal_part(g) for g in repaired]
        status[invalid] = "repaired"
    status[missing] = "empty"
    fixed[missing] = None
    return gpd.GeoSeries(fixed, index=geoms.index, crs=geoms.crs), pd.Series(status, geoms.index)


def _polygonal_part(geom: shapely.Geometry) -> shapely.Geometry | None:
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else None


def normalize_plots(raw: gpd.GeoDataFrame, source: PlotSource) -> gpd.GeoDataFrame:
    """The standard plot table from a raw layer (rows in input order, nothing dropped).

    Areas are in 亩; the geometry stays in the layer's CRS.
    """
    cols = source.columns
    out = raw.copy()
    clash = [c for c in out.columns if c in STANDARD_COLUMNS and c != out.geometry.name]
    out = out.rename(columns={c: f"src_{c}" for c in clash})
    renamed = {c: f"src_{c}" for c in clash}

    def column(name: str | None) -> pd.Series:
        if name is None:
            return pd.Series([None] * len(raw), index=raw.index, dtype=object)
        name = renamed.get(name, name)
        if name not in out.columns:
            from pipeline.errors import PlotDataError

            raise PlotDataError(
                f"{source.path}: column {name!r} named in plots.columns is not in the layer "
                f"(it has: {', '.join(map(str, raw.columns))}); fix plots.columns in the config"
            )
        return out[name]

    out.insert(0, "row", np.arange(len(out), dtype=np.int64))
    out["plot_id"] = column(cols.plot_id).map(_id_text)
    out["county"] = column(cols.county).map(parse_text)
    out["township"] = column(cols.township).map(parse_text)
    out["stage"] = column(cols.stage).map(parse_text)
    out["planting_year"] = pd.array(column(cols.planting_year).map(parse_year), dtype="Int64")
    factor = MU_PER_HA if source.area_unit == "ha" else 1.0
    area = column(cols.claimed_area).map(parse_number)
    out["claimed_area_mu"] = pd.to_numeric(area, errors="coerce").astype(float) * factor
    out["planting_type"] = column(cols.planting_type).map(parse_text)
    out["species"] = column(cols.species).map(parse_text)
    out["is_design"] = out["stage"].isin(source.design_stages)

    geoms, status = repair_geometries(out.geometry)
    out = out.set_geometry(geoms)
    out["geom_status"] = status
    ea = geoms.to_crs(equal_area_crs(out))
    out["geom_area_mu"] = (ea.area * MU_PER_M2).where(status != "empty", 0.0).to_numpy()
    change = np.zeros(len(out))
    fixed = (status == "repaired").to_numpy()
    if fixed.any():
        drawn = gpd.GeoSeries(shapely.force_2d(raw.geometry.values[fixed]), crs=raw.crs)
        drawn_mu = _abs_ring_area(drawn.to_crs(ea.crs)) * MU_PER_M2
        change[fixed] = out["geom_area_mu"].to_numpy()[fixed] - drawn_mu
    out["geom_area_change_mu"] = change
    return out.reset_index(drop=True)


def _id_text(value: object) -> str | None:
    number = value
    if isinstance(number, float) and not np.isnan(number) and number.is_integer():
        return str(int(number))
    return parse_text(value)


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

"""Seeded synthetic inputs for unit tests: plot layers, cubes and series with planted signals."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import xarray as xr

UTM = "EPSG:32650"
X0, Y0 = 560_000.0, 2_930_000.0


def square(x: float, y: float, side: float) -> shapely.Polygon:
    """A square plot with its lower-left corner at (X0 + x, Y0 + y), metres."""
    return shapely.box(X0 + x, Y0 + y, X0 + x + side, Y0 + y + side)


def plot_layer(geoms: list, **columns) -> gpd.GeoDataFrame:
    """A plot layer in CGCS2000 (EPSG:4490) with Chinese field names, from UTM geometries."""
    n = len(geoms)
    data = {
        "图斑编号": [f"P{i:03d}" for i in range(n)],
        "县": ["明溪县"] * n,
        "乡镇": ["城关乡"] * n,
        "阶段": ["造林验收"] * n,
        "造林年度": [2022] * n,
        "上报面积": [None] * n,
        "造林类型": ["人工造林"] * n,
        "树种": ["杉木"] * n,
    }
    data.update(columns)
    gdf = gpd.GeoDataFrame(data, geometry=list(geoms), crs=UTM).to_crs(4490)
    if all(v is None for v in data["上报面积"]):
        area = gpd.GeoSeries(list(geoms), crs=UTM).area.to_numpy() / 666.6667
        gdf["上报面积"] = np.round(area, 1)
    return gdf


def dn_cube(
    ndvi: np.ndarray,
    times: pd.DatetimeIndex,
    *,
    x0: float = X0,
    y_top: float = Y0 + 200,
    res: float = 10.0,
    seed: int = 0,
) -> xr.Dataset:
    """A DN cube (time, y, x) whose pixels have the given NDVI (reflectance × 10000, SCL 4).

    Red is fixed at 0.05 (0.17 for NDVI < 0.3, like bare soil); NIR follows from NDVI.
    """
    rng = np.random.default_rng(seed)
    nt, ny, nx = ndvi.shape
    red = np.where(ndvi < 0.3, 0.17, 0.05)
    nir = red * (1 + ndvi) / (1 - ndvi)
    noise = rng.normal(0, 0.002, ndvi.shape)
    bands = {
        "blue": np.full(ndvi.shape, 0.04),
        "green": np.full(ndvi.shape, 0.07),
        "red": red + noise,
        "nir": nir + noise,
        "swir16": np.where(ndvi < 0.3, 0.32, 0.18),
        "swir22": np.where(ndvi < 0.3, 0.26, 0.09),
    }
    coords = {
        "time": times,
        "y": y_top - res * (np.arange(ny) + 0.5),
        "x": x0 + res * (np.arange(nx) + 0.5),
    }
    ds = xr.Dataset(
        {
            k: (("time", "y", "x"), np.clip(v * 10000, 1, 65535).astype("uint16"))
            for k, v in bands.items()
        },
        coords=coords,
    )
    ds["scl"] = (("time", "y", "x"), np.full(ndvi.shape, 4, dtype="uint8"))
    return ds


def plot_series(kind: str, times: pd.DatetimeIndex, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """NDVI and BSI of one plot planted in early 2022 (series from 2021), by scenario.

    ``kind``: genuine, forest, none (never planted), loss (cleared 2023-07), low (low survival).
    Humid-subtropics seasonality: herbs green in summer, half-brown in winter.
    """
    rng = np.random.default_rng(seed)
    t = (times - pd.Timestamp("2022-02-15")).days.to_numpy() / 365.25
    season = 0.5 + 0.5 * np.sin(2 * np.pi * (times.day_of_year.to_numpy() - 110) / 365.25)
    herb = 0.42 + 0.33 * season
    growth = {"genuine": 1.0, "loss": 1.0, "low": 0.2}.get(kind, 0.0)
    tree = 0.85 * growth * np.clip(t / 4.0, 0, 1) ** 1.5
    ndvi = np.where(t < -0.05, herb, tree * 0.82 + (1 - tree) * herb * np.clip(t / 0.5, 0.35, 1))
    if kind in ("none",):
        ndvi = herb
    if kind == "forest":
        ndvi = 0.8 + 0.03 * season
    if kind == "loss":
        ndvi = np.where(times >= "2023-07-01", 0.17 + 0.1 * np.clip(t - 1.4, 0, 1), ndvi)
    ndvi = ndvi + rng.normal(0, 0.015, len(times))
    bsi = 0.1 - 0.45 * ndvi
    return ndvi, bsi


def series_frame(kinds: list[str], times: pd.DatetimeIndex, seed: int = 0) -> pd.DataFrame:
    """Long series table (row, date, ndvi, ndmi, bsi, clear_share) for plots of ``kinds``."""
    frames = []
    for row, kind in enumerate(kinds):
        ndvi, bsi = plot_series(kind, times, seed + row)
        frames.append(
            pd.DataFrame(
                {
                    "row": row,
                    "date": times,
                    "ndvi": ndvi,
                    "ndmi": ndvi - 0.3,
                    "bsi": bsi,
                    "clear_share": 1.0,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)

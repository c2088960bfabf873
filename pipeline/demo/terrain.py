"""Synthetic terrain: a valley-and-hills DEM, slope/aspect, sun geometry and illumination."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from pipeline.demo.grid import make_fractal_field

LAT_DEG = 26.5
LON_DEG = 117.6
ACQ_HOUR_UTC = 3.0
DIFFUSE = 0.8  # damping of the cos(i) illumination (sky light, C-correction style)
ILLUM_RANGE = (0.72, 1.22)


@dataclass(frozen=True)
class Terrain:
    """DEM (m), slope and aspect (radians, aspect clockwise from north); dims (rows, cols)."""

    dem: np.ndarray
    slope: np.ndarray
    aspect: np.ndarray

    @functools.cached_property
    def trig(self) -> tuple[np.ndarray, ...]:
        """cos/sin of slope and aspect (float32), reused for every date."""
        s, a = self.slope, self.aspect
        return tuple(
            f(x).astype(np.float32) for x, f in ((s, np.cos), (s, np.sin), (a, np.cos), (a, np.sin))
        )


def make_terrain(
    rng: np.random.Generator,
    river_dist: np.ndarray,
    pixel: float,
    valley_scale: float,
    relief_m: float,
) -> Terrain:
    """Fractal hills from 200 m up to 200 + relief_m m, cut by a valley along the river.

    river_dist: distance to the river centreline, m, dims (rows, cols)."""
    shape = river_dist.shape
    hills = make_fractal_field(rng, shape, beta=3.8)
    hills = (hills - hills.min()) / (hills.max() - hills.min())
    detail = make_fractal_field(rng, shape, beta=3.0)
    valley = 1.0 - np.exp(-((river_dist / valley_scale) ** 2))
    shape_ = valley * (0.35 + 0.65 * hills) + 0.05 * detail * valley
    relief = ndimage.gaussian_filter(shape_, 2.5)
    relief = (relief - relief.min()) / (relief.max() - relief.min())
    dem = (200.0 + relief_m * relief).astype(np.float32)
    gy, gx = np.gradient(dem.astype(np.float64), pixel)
    # rows run south, so the northward gradient is -gy
    dz_dx, dz_dy = gx, -gy
    slope = np.arctan(np.hypot(dz_dx, dz_dy))
    # aspect: direction the slope faces (downhill), clockwise from north
    aspect = np.mod(np.arctan2(-dz_dx, -dz_dy), 2 * np.pi)
    return Terrain(dem, slope.astype(np.float32), aspect.astype(np.float32))


def compute_sun_angles(dates: list[dt.date]) -> tuple[np.ndarray, np.ndarray]:
    """Sun zenith and azimuth at 03:00 UTC, radians (azimuth from north); dims (dates,)."""
    doy = np.array([d.timetuple().tm_yday for d in dates], dtype=float)
    decl = np.radians(23.44) * np.sin(2 * np.pi * (284 + doy) / 365.0)
    lat = np.radians(LAT_DEG)
    solar_hour = ACQ_HOUR_UTC + LON_DEG / 15.0
    hour_angle = np.radians(15.0 * (solar_hour - 12.0))
    cos_z = np.sin(lat) * np.sin(decl) + np.cos(lat) * np.cos(decl) * np.cos(hour_angle)
    zenith = np.arccos(np.clip(cos_z, -1, 1))
    az = np.arctan2(
        np.sin(hour_angle), np.cos(hour_angle) * np.sin(lat) - np.tan(decl) * np.cos(lat)
    )
    azimuth = np.mod(az + np.pi, 2 * np.pi)
    return zenith, azimuth


def compute_illumination(terrain: Terrain, zenith: float, azimuth: float) -> np.ndarray:
    """Multiplicative terrain illumination factor (≈0.72–1.22), dims (rows, cols)."""
    # cos(i) = cos s cos z + sin s sin z cos(az - aspect), expanded to reuse the static terms
    cos_s, sin_s, cos_a, sin_a = terrain.trig
    horiz = np.float32(np.sin(zenith)) * sin_s
    cos_i = cos_s * np.float32(np.cos(zenith))
    cos_i += horiz * (np.float32(np.cos(azimuth)) * cos_a + np.float32(np.sin(azimuth)) * sin_a)
    factor = (np.maximum(cos_i, 0) + DIFFUSE) / np.float32(np.cos(zenith) + DIFFUSE)
    return np.clip(factor, *ILLUM_RANGE).astype(np.float32)

"""Per-date rendering: mixing, terrain light, clouds with soft edges, shadows, cirrus,
noise, partial swaths and an imperfect scene classification (SCL)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import numpy as np
import shapely
from scipy import ndimage, sparse
from shapely import affinity

from pipeline.demo.grid import Grid, make_smooth_field, shift_field, standardize
from pipeline.demo.spectra import UnitTable, compute_unit_reflectance
from pipeline.demo.terrain import Terrain, compute_illumination

NOISE_SD = 0.003  # radiometric noise, reflectance
CLOUD_SCL_ALPHA = 0.4  # SCL flags cloud only above this opacity
TRAP_MARGIN, TRAP_RAMP = 40.0, 30.0  # m of opaque cloud beyond the trap, then soft edge
#: Probability that a date is mostly cloudy, by month (humid south China).
P_CLOUDY = (0.35, 0.45, 0.65, 0.75, 0.75, 0.72, 0.45, 0.5, 0.4, 0.25, 0.25, 0.3)
#: The same for the north: dry clear winters, a cloudy summer monsoon.
P_CLOUDY_NORTH = (0.2, 0.2, 0.25, 0.3, 0.35, 0.45, 0.6, 0.55, 0.4, 0.25, 0.2, 0.2)
#: North: probability of a snow-covered date by month, and the range of its snow share.
P_SNOW = {11: 0.2, 12: 0.55, 1: 0.65, 2: 0.55, 3: 0.25}
SNOW_SHARE = (0.4, 1.0)
SCL_SNOW_SHARE = 0.5  # SCL flags snow (11) above this share of a pixel
CLOUD_TILT = np.array([0.04, 0.02, 0.0, 0.0, -0.04, -0.10], dtype=np.float32)
CIRRUS_SPEC = np.array([0.13, 0.12, 0.11, 0.11, 0.09, 0.06], dtype=np.float32)[:, None, None]


@dataclass(frozen=True)
class DateParams:
    """Random atmosphere of one acquisition (drawn before the landscape is placed)."""

    index: int
    date: dt.date
    zenith: float  # sun zenith, rad
    azimuth: float  # sun azimuth, rad
    cover: float  # target share of SCL-cloud pixels from the random field
    sigma_px: float  # correlation length of the cloud field
    ramp: float  # softness of cloud edges (field units)
    level: float  # cloud reflectance
    trap: bool  # the mountain-top cloud trap is closed
    shadow: tuple[int, int]  # shadow displacement (rows, cols)
    shadow_k: float  # light left in shadows
    cirrus: float  # max cirrus opacity (0 = none)
    swath: tuple[float, float] | None  # (edge angle rad, covered share) or None
    commission: bool  # bright built-up flagged as cloud
    snow: float = 0.0  # share of open ground under snow (north)


def draw_date_params(
    dates: list[dt.date],
    zenith: np.ndarray,
    azimuth: np.ndarray,
    trap_window: tuple[dt.date, dt.date],
    shadow_m: tuple[float, float],
    pixel: float,
    rng: np.random.Generator,
    climate: str = "south",
    cloud_scale: float = 1.0,
) -> list[DateParams]:
    """Per-date atmosphere drawn from the seasonal distribution; dims (dates,)."""
    out = []
    p_cloudy = P_CLOUDY_NORTH if climate == "north" else P_CLOUDY
    for k, d in enumerate(dates):
        if rng.random() < p_cloudy[d.month - 1] * cloud_scale:
            cover = min(1.0, 0.55 + 0.5 * rng.beta(1.3, 1.0))
        else:
            cover = 0.0 if rng.random() < 0.3 else 0.55 * rng.beta(0.7, 2.5)
        in_window = trap_window[0] <= d <= trap_window[1]
        length = rng.uniform(*shadow_m)
        az_shadow = azimuth[k] + np.pi
        shadow = (
            int(round(-length * np.cos(az_shadow) / pixel)),
            int(round(length * np.sin(az_shadow) / pixel)),
        )
        swath = (rng.uniform(-0.35, 0.35), rng.uniform(0.2, 0.8)) if rng.random() < 0.1 else None
        out.append(
            DateParams(
                index=k,
                date=d,
                zenith=float(zenith[k]),
                azimuth=float(azimuth[k]),
                cover=float(cover),
                sigma_px=float(rng.uniform(8, 30)),
                ramp=float(rng.uniform(0.15, 0.45)),
                level=float(rng.uniform(0.35, 0.5)),
                trap=bool(in_window or rng.random() < 0.8),
                shadow=shadow,
                shadow_k=float(rng.uniform(0.35, 0.5)),
                cirrus=float(rng.uniform(0.15, 0.3)) if rng.random() < 0.15 else 0.0,
                swath=swath,
                commission=bool(rng.random() < 0.2),
            )
        )
        if climate == "north" and rng.random() < P_SNOW.get(d.month, 0.0):
            out[-1] = replace(out[-1], snow=float(rng.uniform(*SNOW_SHARE)))
    return out


def make_trap_zone(
    trap: shapely.Polygon, params: list[DateParams], pixel: float
) -> shapely.Geometry:
    """Ground the trap cloud or its shadows may cover, plus a margin (m, EPSG:32650)."""
    cloud = trap.buffer(TRAP_MARGIN + TRAP_RAMP + 20.0)
    offsets = sorted({p.shadow for p in params if p.trap})
    moved = [affinity.translate(cloud, dc * pixel, -dr * pixel) for dr, dc in offsets]
    return shapely.union_all([cloud, *moved])


@dataclass
class SceneContext:
    """Static inputs of the renderer."""

    grid: Grid
    mixing: sparse.csr_matrix  # dims (pixels, units)
    units: UnitTable
    texture: np.ndarray  # multiplicative, dims (bands, rows, cols)
    terrain: Terrain
    trap_alpha: np.ndarray  # trap cloud opacity when closed, dims (rows, cols)
    t_ref: float  # day number of the first acquisition
    north: bool = False  # northern phenology (deciduous forest, brown winters)


@dataclass
class Scene:
    """One rendered acquisition: uint16 reflectance ×10000 and SCL, 0 = nodata."""

    bands10: np.ndarray  # blue, green, red, nir; dims (4, rows, cols)
    bands20: np.ndarray  # swir16, swir22; dims (2, rows/2, cols/2)
    scl: np.ndarray  # dims (rows/2, cols/2), uint8
    cloud_cover: float  # percent of valid 20 m pixels flagged cloud (SCL 8, 9, 10)
    swath_edge: tuple[float, float, float] | None  # valid where a*col + b*row <= c
    scl10: np.ndarray | None = None  # SCL at 10 m, 0 outside the swath, dims (rows, cols)


def make_trap_alpha(grid: Grid, trap: shapely.Polygon) -> np.ndarray:
    """Opacity (0–1) of the closed cloud trap, dims (rows, cols)."""
    x, y = grid.centers()
    dist = shapely.distance(trap, shapely.points(x.ravel(), y.ravel())).reshape(grid.shape)
    return np.clip((TRAP_MARGIN + TRAP_RAMP - dist) / TRAP_RAMP, 0, 1).astype(np.float32)


def _cloud_alpha(p: DateParams, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    if p.cover <= 0:
        return np.zeros(shape, np.float32)
    field = make_smooth_field(rng, shape, p.sigma_px, coarse=4)
    field += 0.35 * make_smooth_field(rng, shape, p.sigma_px / 4, coarse=2)
    field = standardize(field)
    if p.cover >= 1:
        thr = float(field.min()) - 1.0
    else:
        k = int((1 - p.cover) * (field.size - 1))
        thr = float(np.partition(field.ravel(), k)[k])
    return np.clip((field - thr) / p.ramp + CLOUD_SCL_ALPHA, 0, 1)


def render_scene(ctx: SceneContext, p: DateParams, rng: np.random.Generator) -> Scene:
    """Render one acquisition (all randomness from rng)."""
    shape = ctx.grid.shape
    day = float((p.date - dt.date(1970, 1, 1)).days)
    doy = float(p.date.timetuple().tm_yday)
    refl, snowy = compute_unit_reflectance(ctx.units, day, doy, ctx.t_ref, ctx.north, p.snow)
    surf = np.asarray(ctx.mixing @ refl.astype(np.float32)).T.reshape(6, *shape)
    illum = compute_illumination(ctx.terrain, p.zenith, p.azimuth)
    surf *= ctx.texture * illum
    alpha = _cloud_alpha(p, shape, rng)
    if p.trap:
        alpha = np.maximum(alpha, ctx.trap_alpha)
    shadow = ndimage.gaussian_filter(shift_field(alpha, *p.shadow), 1.0)
    surf *= 1.0 - shadow * (1.0 - p.shadow_k)
    surf += 0.004 * shadow
    cirrus = np.zeros(shape, np.float32)
    if p.cirrus > 0:
        cirrus = p.cirrus * np.clip(0.5 + 0.5 * make_smooth_field(rng, shape, 40.0), 0, 1)
        surf = (1 - cirrus) * surf + cirrus * CIRRUS_SPEC
    cloud = (p.level + CLOUD_TILT)[:, None, None] * (0.85 + 0.15 * alpha)
    out = (1 - alpha) * surf + alpha * cloud
    out += rng.standard_normal(out.shape, dtype=np.float32) * NOISE_SD
    scl = _classify(out, surf, alpha, shadow, cirrus, illum, p, rng)
    if p.snow > 0:
        snow_px = np.asarray(ctx.mixing @ snowy.astype(np.float32)).reshape(shape)
        scl[(alpha < CLOUD_SCL_ALPHA) & (snow_px > SCL_SNOW_SHARE)] = 11
    valid, edge = _swath_mask(p, shape)
    return _pack(out, scl, valid, edge)


def _classify(out, surf, alpha, shadow, cirrus, illum, p: DateParams, rng) -> np.ndarray:
    """Scene classification at 10 m with realistic omissions; dims (rows, cols)."""
    blue, green, red, nir = out[0], out[1], out[2], out[3]
    ndvi = (nir - red) / np.maximum(nir + red, 1e-6)
    scl = np.full(alpha.shape, 5, np.uint8)
    scl[ndvi > 0.4] = 4
    scl[(nir < 0.06) & (nir < green)] = 6
    scl[(illum < 0.78) & (blue + green + red < 0.15)] = 2
    scl[rng.random(alpha.shape, dtype=np.float32) < 0.002] = 7
    clear = alpha < CLOUD_SCL_ALPHA
    scl[clear & (shadow > 0.55)] = 3
    scl[(alpha > 0.22) & clear & (rng.random(alpha.shape, dtype=np.float32) < 0.4)] = 7
    if p.commission:
        scl[clear & (surf[0] > 0.1)] = 8
    scl[clear & (cirrus > 0.15)] = 10
    scl[~clear] = 8
    scl[alpha >= 0.8] = 9
    return scl


def _swath_mask(p: DateParams, shape: tuple[int, int]):
    if p.swath is None:
        return np.ones(shape, bool), None
    angle, share = p.swath
    rows, cols = shape
    a, b = np.cos(angle), np.sin(angle)
    proj = a * np.arange(cols)[None, :] + b * np.arange(rows)[:, None]
    c = float(np.quantile(proj, share))
    return proj <= c, (float(a), float(b), c)


def _mode2x2(a: np.ndarray) -> np.ndarray:
    rows, cols = a.shape
    q = a.reshape(rows // 2, 2, cols // 2, 2).transpose(1, 3, 0, 2).reshape(4, rows // 2, cols // 2)
    counts = (q[:, None] == q[None, :]).sum(axis=1)
    return np.take_along_axis(q, counts.argmax(axis=0)[None], axis=0)[0]


def _pack(out: np.ndarray, scl: np.ndarray, valid: np.ndarray, edge) -> Scene:
    rows, cols = valid.shape
    dn = np.clip(np.rint(out * 10000.0), 1, 65535).astype(np.uint16)
    dn[:, ~valid] = 0
    swir = out[4:6].reshape(2, rows // 2, 2, cols // 2, 2).mean(axis=(2, 4))
    valid20 = valid.reshape(rows // 2, 2, cols // 2, 2).all(axis=(1, 3))
    dn20 = np.clip(np.rint(swir * 10000.0), 1, 65535).astype(np.uint16)
    dn20[:, ~valid20] = 0
    scl20 = _mode2x2(scl)
    scl20[~valid20] = 0
    n_valid = int(valid20.sum())
    flagged = int(np.isin(scl20[valid20], (8, 9, 10)).sum())
    cover = 100.0 * flagged / n_valid if n_valid else 100.0
    scl10 = np.where(valid, scl, 0).astype(np.uint8)
    return Scene(dn[:4], dn20, scl20, round(cover, 2), edge, scl10)

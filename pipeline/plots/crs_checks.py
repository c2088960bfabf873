"""Do a layer's coordinates belong to its declared CRS? Detect, explain and name the fix.

Counties export CGCS2000 lon/lat (EPSG:4490), 3-degree Gauss-Krüger zones with the zone number
in the false easting (EPSG:4513–4533) or without (EPSG:4534–4554), 6-degree zones
(EPSG:4491–4512) and UTM. The usual mistakes: x and y swapped, a zone-prefixed easting under an
un-prefixed CRS (or the reverse), the wrong zone. Nothing here guesses silently: a file whose
coordinates do not fit raises :class:`PlotDataError` with the likely cause and the config fix;
only single records that do not fit a fitting file are returned, to be flagged per record.
pyproj does every transformation; the EPSG arithmetic below only picks candidate CRSs to test.
"""

from __future__ import annotations

import numpy as np
import pyproj
import shapely

from pipeline.errors import PlotDataError

MARGIN_DEG = 1.5  # how far outside a CRS's area of use coordinates may lie (zone overlap)
REGION_MARGIN_DEG = 0.3  # how far outside the region layer's bounds plots may lie
FIT_SHARE = 0.5  # a file fits its CRS when at least this share of its records does

# EPSG code ranges of the CGCS2000 Gauss-Krüger CRSs (first code, first zone / meridian).
GK3_PREFIX = (4513, 4533)  # zones 25..45, false easting zone·1e6 + 500 000
GK3_PLAIN = (4534, 4554)  # central meridians 75..135°E, false easting 500 000
GK6_PREFIX = (4491, 4501)  # zones 13..23
GK6_PLAIN = (4502, 4512)  # central meridians 75..135°E


def gk_info(crs: pyproj.CRS) -> tuple[str, int, float] | None:
    """(``"gk3"`` or ``"gk6"``, zone number or 0 when un-prefixed, central meridian) of a
    CGCS2000 Gauss-Krüger CRS; ``None`` for any other CRS."""
    code = crs.to_epsg(min_confidence=70)
    if code is None:
        return None
    if GK3_PREFIX[0] <= code <= GK3_PREFIX[1]:
        zone = 25 + code - GK3_PREFIX[0]
        return "gk3", zone, 3.0 * zone
    if GK3_PLAIN[0] <= code <= GK3_PLAIN[1]:
        return "gk3", 0, 75.0 + 3.0 * (code - GK3_PLAIN[0])
    if GK6_PREFIX[0] <= code <= GK6_PREFIX[1]:
        zone = 13 + code - GK6_PREFIX[0]
        return "gk6", zone, 6.0 * zone - 3.0
    if GK6_PLAIN[0] <= code <= GK6_PLAIN[1]:
        return "gk6", 0, 75.0 + 6.0 * (code - GK6_PLAIN[0])
    return None


def prefixed_epsg(zone: int) -> int | None:
    """The zone-prefixed CGCS2000 GK CRS of a zone number read from an easting (25–45: 3°,
    13–23: 6°)."""
    if 25 <= zone <= 45:
        return GK3_PREFIX[0] + zone - 25
    if 13 <= zone <= 23:
        return GK6_PREFIX[0] + zone - 13
    return None


def plain_epsg(kind: str, meridian: float) -> int | None:
    """The un-prefixed CGCS2000 GK CRS with this central meridian."""
    step, first = (3.0, GK3_PLAIN[0]) if kind == "gk3" else (6.0, GK6_PLAIN[0])
    k = (meridian - 75.0) / step
    last = GK3_PLAIN[1] if kind == "gk3" else GK6_PLAIN[1]
    code = first + int(round(k))
    return code if k == round(k) and first <= code <= last else None


def record_centres(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bounding-box centre of every geometry (NaN for null or empty ones)."""
    b = shapely.bounds(geoms)
    return (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2


def to_lonlat(crs: pyproj.CRS, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude (x = easting always), inf / NaN where the transform fails."""
    t = pyproj.Transformer.from_crs(crs, 4326, always_xy=True)
    with np.errstate(all="ignore"):
        lon, lat = t.transform(np.asarray(x, float), np.asarray(y, float), errcheck=False)
    return np.asarray(lon), np.asarray(lat)


def fits(crs: pyproj.CRS | int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per point: does it lie in the CRS's area of use (± :data:`MARGIN_DEG`)?"""
    crs = pyproj.CRS.from_user_input(crs)
    area = crs.area_of_use
    west, south, east, north = (
        (area.west, area.south, area.east, area.north) if area else (-180, -90, 180, 90)
    )
    gk = gk_info(crs)
    if gk is not None:  # eastings outside a prefixed zone's range never belong to it
        fe = _false_easting(crs)
        ok_x = np.abs(np.asarray(x, float) - fe) < 400_000
    else:
        ok_x = np.ones(len(np.atleast_1d(x)), bool)
    lon, lat = to_lonlat(crs, x, y)
    with np.errstate(invalid="ignore"):
        return (
            ok_x
            & np.isfinite(lon)
            & np.isfinite(lat)
            & (lon >= west - MARGIN_DEG)
            & (lon <= east + MARGIN_DEG)
            & (lat >= south - MARGIN_DEG)
            & (lat <= north + MARGIN_DEG)
        )


def check_coordinates(geoms: np.ndarray, crs: pyproj.CRS, where: str, key: str) -> np.ndarray:
    """Raise when the file's coordinates do not belong to ``crs``; else return the mask of
    single records that do not (to be flagged, not guessed).

    ``where`` names the file, ``key`` the config prefix of its settings (``plots.``).
    """
    x, y = record_centres(geoms)
    have = np.isfinite(x) & np.isfinite(y)
    if not have.any():
        return np.zeros(len(geoms), bool)
    ok = fits(crs, x[have], y[have])
    bad = np.zeros(len(geoms), bool)
    if ok.mean() >= FIT_SHARE:
        bad[np.flatnonzero(have)[~ok]] = True
        return bad
    mx, my = float(np.median(x[have])), float(np.median(y[have]))
    cause, fix = diagnose(crs, mx, my, key)
    raise PlotDataError(
        f"{where}: {int((~ok).sum())} of {int(have.sum())} records have coordinates that cannot "
        f"belong to the declared CRS {_name(crs)} (typical point x={mx:,.3f}, y={my:,.3f}): "
        f"{cause}. Fix: {fix}"
    )


def diagnose(crs: pyproj.CRS, x: float, y: float, key: str) -> tuple[str, str]:
    """The likely cause of coordinates (x, y) not fitting ``crs``, and the config fix."""
    px, py = np.array([x]), np.array([y])
    gk = gk_info(crs)
    if fits(crs, py, px)[0]:
        return "x and y are swapped (northing stored first)", f"set `{key}swap_xy: true`"
    for sx, sy, swapped in ((x, y, False), (y, x, True)):
        swap_fix = f" and `{key}swap_xy: true`" if swapped else ""
        swap_note = " (with x and y swapped)" if swapped else ""
        if abs(sx) <= 180 and abs(sy) <= 90 and fits(4490, np.array([sx]), np.array([sy]))[0]:
            return (
                f"the coordinates are degrees of longitude/latitude{swap_note}, not {_name(crs)}",
                f"set `{key}crs: EPSG:4490`{swap_fix}",
            )
        if sx >= 1_000_000:
            zone = int(sx // 1_000_000)
            cand = prefixed_epsg(zone)
            if cand and fits(cand, np.array([sx]), np.array([sy]))[0]:
                if gk and gk[1] == 0:
                    what = (
                        f"the eastings carry the zone prefix {zone} but {_name(crs)} is a "
                        "CRS without zone prefix (false easting 500 000)"
                    )
                elif gk:
                    what = f"the eastings say zone {zone} but {_name(crs)} is zone {gk[1]}"
                else:
                    what = f"the coordinates are Gauss-Krüger metres of zone {zone}"
                return what + swap_note, f"set `{key}crs: EPSG:{cand}`{swap_fix}"
        if gk and gk[1] > 0 and 0 < sx < 1_000_000:
            cand = plain_epsg(gk[0], gk[2])
            if cand and fits(cand, np.array([sx]), np.array([sy]))[0]:
                return (
                    f"the eastings have no zone prefix but {_name(crs)} expects zone {gk[1]}'s "
                    f"prefix{swap_note}",
                    f"set `{key}crs: EPSG:{cand}` (same central meridian {gk[2]:g}°E)" + swap_fix,
                )
        if crs.is_geographic and 0 < sx < 1_000_000 and 300_000 < sy < 6_200_000:
            return (
                "the coordinates are projected metres without zone prefix under a geographic "
                f"CRS{swap_note}; the zone cannot be read from such eastings",
                f"set `{key}crs:` to the Gauss-Krüger zone of the area (3-degree: EPSG:4534 + "
                f"(central meridian − 75)/3, e.g. EPSG:4548 for 117°E){swap_fix}",
            )
    return (
        f"they lie outside the area of use of {_name(crs)}",
        f"check the file's .prj / CRS, or set `{key}crs:` to the CRS the data were made in",
    )


def check_against_region(
    geoms: np.ndarray, crs: pyproj.CRS, region_lonlat: tuple, where: str, key: str
) -> None:
    """Raise when most plots lie away from the region layer: the wrong zone, typically.

    ``region_lonlat`` is the region layer's bounds in lon/lat (west, south, east, north).
    """
    x, y = record_centres(geoms)
    have = np.isfinite(x) & np.isfinite(y)
    if not have.any():
        return
    x, y = x[have], y[have]
    if _inside(crs, x, y, region_lonlat).mean() >= FIT_SHARE:
        return
    lon, lat = to_lonlat(crs, x, y)
    gk = gk_info(crs)
    fix = f"check `{key}crs:` (or the .prj) and the region layer"
    cause = "most plots lie outside the region layer's extent"
    if gk is not None:
        for other in _zone_candidates(gk):
            if _inside(pyproj.CRS.from_epsg(other), x, y, region_lonlat).mean() >= FIT_SHARE:
                cause = (
                    f"the coordinates fit zone {_name(pyproj.CRS.from_epsg(other))}, not the "
                    f"declared {_name(crs)} (wrong zone)"
                )
                fix = f"set `{key}crs: EPSG:{other}`"
                break
    raise PlotDataError(
        f"{where}: {cause}: in {_name(crs)} the plots are near lon {np.nanmedian(lon):.2f}, "
        f"lat {np.nanmedian(lat):.2f}, the region layer spans lon {region_lonlat[0]:.2f}–"
        f"{region_lonlat[2]:.2f}, lat {region_lonlat[1]:.2f}–{region_lonlat[3]:.2f}. Fix: {fix}"
    )


def _inside(crs, x, y, box) -> np.ndarray:
    lon, lat = to_lonlat(crs, x, y)
    m = REGION_MARGIN_DEG
    with np.errstate(invalid="ignore"):
        return (lon >= box[0] - m) & (lon <= box[2] + m) & (lat >= box[1] - m) & (lat <= box[3] + m)


def _zone_candidates(gk: tuple[str, int, float]) -> list[int]:
    kind, zone, meridian = gk
    if zone:  # prefixed: the prefix pins the zone; only the family may be wrong
        return []
    first, last = GK3_PLAIN if kind == "gk3" else GK6_PLAIN
    return [c for c in range(first, last + 1) if c != plain_epsg(kind, meridian)]


def _false_easting(crs: pyproj.CRS) -> float:
    op = crs.coordinate_operation
    for p in op.params if op else ():
        if p.name.lower() == "false easting":
            return float(p.value)
    return 500_000.0


def _name(crs: pyproj.CRS) -> str:
    code = crs.to_epsg(min_confidence=70)
    return f"EPSG:{code} ({crs.name})" if code else crs.name

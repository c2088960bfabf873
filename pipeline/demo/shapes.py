"""Polygon makers: irregular plots, blobs, holes, multipolygons, bow-ties and partial cuts."""

from __future__ import annotations

import numpy as np
import shapely
from shapely import affinity
from shapely.geometry.polygon import orient


def make_star_polygon(
    rng: np.random.Generator,
    center: tuple[float, float],
    area_m2: float,
    n_vertices: int,
    roughness: float = 0.35,
    elongation: tuple[float, float] = (0.6, 1.6),
) -> shapely.Polygon:
    """A random star-shaped (hence simple) polygon of exactly area_m2, rotated at random."""
    n = int(n_vertices)
    angles = (np.arange(n) + rng.uniform(-0.35, 0.35, n)) * 2 * np.pi / n
    radii = 1.0 + rng.uniform(-roughness, roughness, n)
    pts = np.column_stack([radii * np.cos(angles), radii * np.sin(angles)])
    pts[:, 0] *= rng.uniform(*elongation)
    poly = shapely.Polygon(pts)
    poly = affinity.rotate(poly, rng.uniform(0, 180), origin=(0, 0))
    k = np.sqrt(area_m2 / poly.area)
    poly = affinity.scale(poly, k, k, origin=(0, 0))
    return orient(affinity.translate(poly, *center), 1.0)


def make_blob(
    rng: np.random.Generator, center: tuple[float, float], rx: float, ry: float
) -> shapely.Polygon:
    """A smooth, gently lobed blob with semi-axes about rx, ry, rotated at random."""
    t = np.linspace(0, 2 * np.pi, 48, endpoint=False)
    r = 1.0 + sum(
        rng.uniform(0.03, 0.12) * np.cos(k * t + rng.uniform(0, 2 * np.pi)) for k in (2, 3, 5)
    )
    pts = np.column_stack([rx * r * np.cos(t), ry * r * np.sin(t)])
    poly = affinity.rotate(shapely.Polygon(pts), rng.uniform(0, 180), origin=(0, 0))
    return orient(affinity.translate(poly, *center), 1.0)


def add_hole(rng: np.random.Generator, poly: shapely.Polygon) -> shapely.Polygon | None:
    """Polygon with an irregular hole of 8–15 % of its area inside, or None if none fits."""
    c = poly.centroid
    for _ in range(20):
        hole = make_star_polygon(
            rng, (c.x, c.y), poly.area * rng.uniform(0.08, 0.15), rng.integers(5, 9)
        )
        hole = affinity.translate(hole, *rng.normal(0, np.sqrt(poly.area) * 0.05, 2))
        if poly.buffer(-6.0).contains(hole):
            out = shapely.Polygon(poly.exterior.coords, [hole.exterior.coords])
            if out.is_valid:
                return orient(out, 1.0)
    return None


def make_multipolygon(
    rng: np.random.Generator, center: tuple[float, float], area_m2: float
) -> shapely.MultiPolygon | None:
    """Two irregular parts (60/40 of the area) 25–60 m apart, or None on failure."""
    a1, a2 = area_m2 * 0.6, area_m2 * 0.4
    p1 = make_star_polygon(rng, center, a1, rng.integers(5, 10), elongation=(0.8, 1.3))
    for _ in range(30):
        ang = rng.uniform(0, 2 * np.pi)
        dist = np.sqrt(a1 / np.pi) + np.sqrt(a2 / np.pi) + rng.uniform(30, 70)
        c2 = (center[0] + dist * np.cos(ang), center[1] + dist * np.sin(ang))
        p2 = make_star_polygon(rng, c2, a2, rng.integers(5, 10), elongation=(0.8, 1.3))
        if 25.0 <= p1.distance(p2) <= 60.0:
            return shapely.MultiPolygon([p1, p2])
    return None


def make_bowtie(poly: shapely.Polygon, max_area_change: float = 0.005) -> shapely.Polygon:
    """Invalid copy of poly: a tiny self-intersecting loop inserted on its longest edge.

    The shoelace area changes by less than max_area_change (relative)."""
    ring = np.asarray(orient(poly, 1.0).exterior.coords)[:-1]
    nxt = np.roll(ring, -1, axis=0)
    lengths = np.hypot(*(nxt - ring).T)
    i = int(np.argmax(lengths))
    a, b, length = ring[i], nxt[i], lengths[i]
    d = (b - a) / length
    normal = np.array([d[1], -d[0]])  # outward for a counter-clockwise ring
    h = min(1.5, max_area_change * poly.area / (0.5 * length))
    x1 = a + 0.6 * (b - a) + h * normal
    x2 = a + 0.4 * (b - a) + h * normal
    coords = np.vstack([ring[: i + 1], x1, x2, ring[i + 1 :]])
    return shapely.Polygon(coords)


def cut_polygon(
    poly: shapely.Polygon, share: float, angle: float
) -> tuple[shapely.Geometry, shapely.Geometry]:
    """Split poly by a straight line (normal at `angle`, radians) into (part, rest) with
    part holding `share` of the area."""
    normal = np.array([np.cos(angle), np.sin(angle)])
    center = np.array(poly.centroid.coords[0])
    coords = np.asarray(poly.exterior.coords) - center
    proj = coords @ normal
    lo, hi = float(proj.min()), float(proj.max())
    size = 4 * (hi - lo + np.hypot(*np.ptp(coords, axis=0)))
    tangent = np.array([-normal[1], normal[0]])

    def half_plane(s: float) -> shapely.Polygon:
        base = center + s * normal
        far = base - size * normal
        return shapely.Polygon(
            [
                base + size * tangent,
                base - size * tangent,
                far - size * tangent,
                far + size * tangent,
            ]
        )

    target = share * poly.area
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        if poly.intersection(half_plane(mid)).area < target:
            lo = mid
        else:
            hi = mid
    hp = half_plane(0.5 * (lo + hi))
    return poly.intersection(hp), poly.difference(hp)

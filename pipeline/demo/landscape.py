"""Background landscape: river valley with paddy parcels, village and roads, reservoir,
forest and shrub/grass hills, two counties, farmland protection polygons, the cloud trap."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from rasterio import features
from scipy import ndimage
from shapely import affinity

from pipeline.demo.grid import Grid, make_smooth_field, standardize, upsample
from pipeline.demo.presets import WorldSpec
from pipeline.demo.shapes import make_blob
from pipeline.demo.spectra import BUILTUP, CROPLAND, FOREST, SHRUB, WATERBODY, UnitTable
from pipeline.demo.terrain import Terrain, make_terrain

BUND = 5  # land class of the grassy bunds between paddy parcels (rendered as low shrub)
#: (name, code) of the western and the eastern county.
COUNTIES = (("清流县", "350423"), ("明溪县", "350421"))
TOWNSHIPS = {"清流县": ("龙津镇", "嵩溪镇", "温郊乡"), "明溪县": ("雪峰镇", "城关乡", "瀚仙镇")}


@dataclass
class Background:
    """Background geometry (EPSG:32650) and the fine land-class and unit rasters."""

    terrain: Terrain
    river: shapely.Geometry
    water: shapely.Geometry
    crop_region: shapely.Geometry
    parcels: list[shapely.Polygon]
    farmland: list[tuple[shapely.Geometry, str]]  # (polygon, DLBM code)
    built: shapely.Geometry
    counties: list[tuple[str, str, shapely.Polygon]]  # (name, code, polygon)
    trap: shapely.Polygon
    land: np.ndarray  # fine land class, dims (fine rows, fine cols), uint8
    unit: np.ndarray  # fine background unit id, dims (fine rows, fine cols), int32
    units: UnitTable

    def county_at(self, geom: shapely.Geometry) -> int:
        """Index of the county holding most of a geometry."""
        return int(np.argmax([geom.intersection(c[2]).area for c in self.counties]))

    def township_at(self, county: int, y: float, grid: Grid) -> str:
        """Township name for a county index and a northing (three bands north to south)."""
        names = TOWNSHIPS[self.counties[county][0]]
        share = (grid.y_top - y) / (grid.rows * grid.pixel)
        return names[int(np.clip(share * len(names), 0, len(names) - 1))]


def _make_river(spec: WorldSpec, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    xs = np.arange(spec.x0 - 200.0, spec.x0 + spec.width_m + 200.0, 20.0)
    u = (xs - spec.x0) / spec.width_m
    h = spec.height_m
    ys = (
        spec.y_top
        - h * spec.river_y_frac
        + 0.07 * h * np.sin(2 * np.pi * u / rng.uniform(0.8, 1.2) + rng.uniform(0, 6.3))
        + 0.025 * h * np.sin(2 * np.pi * u * 3.3 + rng.uniform(0, 6.3))
    )
    return xs, ys


def _vectorize(mask: np.ndarray, transform, min_area: float) -> shapely.Geometry:
    shapes = features.shapes(mask.astype(np.uint8), mask=mask, transform=transform)
    polys = [shapely.geometry.shape(g) for g, _ in shapes]
    geom = shapely.union_all(polys).simplify(1.0)
    parts = [p for p in getattr(geom, "geoms", [geom]) if p.area >= min_area]
    return shapely.make_valid(shapely.MultiPolygon(parts)) if parts else shapely.Polygon()


def _pick_trap(spec: WorldSpec, grid: Grid, terrain: Terrain, river_dist: np.ndarray) -> tuple:
    x, y = grid.centers()
    xmin, ymin, xmax, ymax = grid.bounds
    m = spec.trap_radius_m + 100.0
    ok = (x > xmin + m) & (x < xmax - m) & (y > ymin + m) & (y < ymax - m)
    ok &= river_dist > spec.crop_half_width_m + spec.trap_radius_m + 100.0
    i = int(np.argmax(np.where(ok, terrain.dem, -1.0)))
    return float(x.flat[i]), float(y.flat[i])


def _make_parcels(
    rng: np.random.Generator, region: shapely.Geometry
) -> tuple[list[shapely.Polygon], list[tuple[shapely.Geometry, str]]]:
    """Paddy parcels (rotated grid cells shrunk by 1 m for bunds) and farmland blocks."""
    theta = rng.uniform(-25, 25)
    pw, ph = rng.uniform(45, 70), rng.uniform(28, 45)
    c = region.centroid
    local = affinity.rotate(region, -theta, origin=c)
    xmin, ymin, xmax, ymax = local.bounds
    iu, iv = np.meshgrid(
        np.arange(int((xmax - xmin) // pw) + 1), np.arange(int((ymax - ymin) // ph) + 1)
    )
    iu, iv = iu.ravel(), iv.ravel()
    x0, y0 = xmin + iu * pw, ymin + iv * ph
    rects = shapely.box(x0 + 1, y0 + 1, x0 + pw - 1, y0 + ph - 1)
    shapely.prepare(local)
    keep = shapely.intersects(local, rects)
    rects, iu, iv = rects[keep], iu[keep], iv[keep]
    inside = shapely.contains_properly(local, rects)
    clipped = np.where(inside, rects, shapely.intersection(rects, local))
    parcels, blocks = [], {}
    for geom, u, v in zip(clipped, iu, iv, strict=True):
        for part in getattr(geom, "geoms", [geom]):
            if isinstance(part, shapely.Polygon) and part.area >= 300.0:
                parcels.append(affinity.rotate(part, theta, origin=c))
                blocks.setdefault((u // 3, v // 2), None)
    farmland = []
    for bu, bv in sorted(blocks):
        if rng.random() > 0.87:
            continue  # some blocks are not under protection
        bx, by = xmin + bu * 3 * pw, ymin + bv * 2 * ph
        block = shapely.box(bx, by, bx + 3 * pw, by + 2 * ph).intersection(local)
        if block.area >= 1500.0:
            code = "0101" if rng.random() < 0.8 else "0103"
            farmland.append((affinity.rotate(block, theta, origin=c), code))
    return parcels, farmland


def _make_counties(spec: WorldSpec, grid: Grid, rng: np.random.Generator) -> list:
    xmin, ymin, xmax, ymax = grid.bounds
    w, h = spec.width_m, spec.height_m
    ys = np.linspace(ymax + 1, ymin - 1, 120)
    v = (ys - ymin) / h
    xs = (
        xmin
        + w * rng.uniform(0.42, 0.58)
        + 0.06 * w * np.sin(2 * np.pi * v / rng.uniform(0.8, 1.3) + rng.uniform(0, 6.3))
        + 0.02 * w * np.sin(2 * np.pi * v * 3.0 + rng.uniform(0, 6.3))
    )
    west = shapely.Polygon([(xmin, ymax + 1), *zip(xs, ys, strict=True), (xmin, ymin - 1)])
    west = west.intersection(grid.box)
    east = grid.box.difference(west)
    return [(*COUNTIES[0], west), (*COUNTIES[1], east)]


def build_background(spec: WorldSpec, grid: Grid, rng: np.random.Generator) -> Background:
    """Generate terrain, land cover layers, counties and the fine background unit raster."""
    xs, ys = _make_river(spec, rng)
    river_line = shapely.LineString(np.column_stack([xs, ys]))
    burned = features.rasterize(
        [(river_line, 1)], grid.shape, transform=grid.transform, all_touched=True
    )
    river_dist = ndimage.distance_transform_edt(burned == 0) * grid.pixel
    terrain = make_terrain(rng, river_dist, grid.pixel, spec.valley_scale_m, spec.relief_m)
    box = grid.box
    trap_xy = _pick_trap(spec, grid, terrain, river_dist)
    r = spec.trap_radius_m
    trap = make_blob(rng, trap_xy, r * rng.uniform(0.95, 1.1), r * rng.uniform(0.75, 0.9))

    river = river_line.buffer(spec.river_half_width_m).intersection(box)
    water = river
    if spec.reservoir_m[0] > 0:
        rx, ry = spec.reservoir_m[0] / 2, spec.reservoir_m[1] / 2
        x, y = grid.centers()
        m = max(rx, ry) + 150.0
        xmin, ymin, xmax, ymax = grid.bounds
        ok = (x > xmin + m) & (x < xmax - m) & (y > ymin + m) & (y < ymax - m)
        ok &= river_dist > spec.crop_half_width_m + m
        ok &= np.hypot(x - trap_xy[0], y - trap_xy[1]) > r + m + 400.0
        lo, hi = np.quantile(terrain.dem, [0.3, 0.6])
        ok &= (terrain.dem > lo) & (terrain.dem < hi)
        i = int(rng.choice(np.flatnonzero(ok)))
        reservoir = make_blob(rng, (float(x.flat[i]), float(y.flat[i])), rx, ry)
        water = shapely.union(river, reservoir)

    q = river_dist + 0.25 * spec.crop_half_width_m * make_smooth_field(rng, grid.shape, 20.0)
    crop_mask = upsample(q.astype(np.float32), grid.sub) < spec.crop_half_width_m
    crop_region = _vectorize(crop_mask, grid.fine_transform, 20000.0).intersection(box)

    # village on the valley edge, a road along the valley and side roads up the hills
    vx = spec.x0 + spec.width_m * rng.uniform(0.3, 0.7)
    vy = float(np.interp(vx, xs, ys)) + spec.crop_half_width_m + 0.3 * spec.village_m[1]
    village = make_blob(rng, (vx, vy), spec.village_m[0] / 2, spec.village_m[1] / 2)
    main_road = river_line.offset_curve(spec.crop_half_width_m * 0.8)
    roads = [main_road.buffer(4.0)]
    n_side = 2 if spec.width_m >= 3000 else 1
    for k in range(n_side):
        sx = vx if k == 0 else spec.x0 + spec.width_m * rng.uniform(0.1, 0.9)
        sy = vy if k == 0 else float(np.interp(sx, xs, ys)) + spec.crop_half_width_m * 0.8
        n = max(3, int(0.35 * spec.height_m / 100.0))
        path = np.column_stack([sx + np.cumsum(rng.normal(0, 25, n)), sy + 100.0 * np.arange(n)])
        roads.append(shapely.LineString(path).buffer(3.0))
    built = shapely.union_all([village, *roads]).intersection(box).difference(trap.buffer(80))

    region = crop_region.difference(shapely.union_all([water.buffer(3.0), built.buffer(2.0)]))
    parcels, farmland = _make_parcels(rng, region)
    counties = _make_counties(spec, grid, rng)

    # hills: forest on high/steep ground, shrub/grass elsewhere
    score = standardize(terrain.dem) + 0.8 * standardize(terrain.slope)
    score += 0.7 * make_smooth_field(rng, grid.shape, 12.0)
    hill = river_dist > spec.crop_half_width_m
    thr = np.quantile(score[hill], 1 - spec.forest_share)
    land = np.where(upsample(score, grid.sub) > thr, FOREST, SHRUB).astype(np.uint8)
    burn = [(trap.buffer(60.0), SHRUB), (crop_region, BUND)]
    burn += [(p, CROPLAND) for p in parcels] + [(water, WATERBODY), (built, BUILTUP)]
    burned = features.rasterize(burn, grid.fine_shape, transform=grid.fine_transform, fill=255)
    land = np.where(burned != 255, burned, land).astype(np.uint8)
    unit, units = _make_units(grid, rng, land, parcels, village, water.difference(river))
    return Background(
        terrain,
        river,
        water,
        crop_region,
        parcels,
        farmland,
        built,
        counties,
        trap,
        land,
        unit,
        units,
    )


def _make_units(
    grid: Grid,
    rng: np.random.Generator,
    land: np.ndarray,
    parcels: list[shapely.Polygon],
    village: shapely.Polygon,
    reservoir: shapely.Geometry,
) -> tuple[np.ndarray, UnitTable]:
    """Split each land class into patches (units) and draw their parameters."""
    fshape, ft = grid.fine_shape, grid.fine_transform
    fx, fy = grid.centers(fine=True)
    fx -= grid.x0
    fy -= grid.y_top - grid.rows * grid.pixel
    sub = grid.sub
    wx = fx + 70.0 * upsample(make_smooth_field(rng, grid.shape, 15.0), sub)
    wy = fy + 70.0 * upsample(make_smooth_field(rng, grid.shape, 15.0), sub)
    hill_patch = (np.floor(wx / 230.0) + 10) * 1000 + np.floor(wy / 230.0) + 10
    village_cell = (np.floor(fx / 20.0) * 1000 + np.floor(fy / 20.0) + 1) * features.rasterize(
        [(village, 1)], fshape, transform=ft
    )
    parcel_id = features.rasterize(
        [(p, i + 1) for i, p in enumerate(parcels)], fshape, transform=ft, dtype=np.int32
    )
    in_res = (
        features.rasterize([(reservoir, 1)], fshape, transform=ft) if not reservoir.is_empty else 0
    )
    patch = np.select(
        [land <= SHRUB, land == CROPLAND, land == BUILTUP, land == WATERBODY],
        [hill_patch, parcel_id, village_cell, in_res],
        0,
    ).astype(np.int64)
    key = land.astype(np.int64) * 100_000_000 + patch
    keys, inverse = np.unique(key, return_inverse=True)
    cls, pid = keys // 100_000_000, keys % 100_000_000
    n = len(keys)
    u = UnitTable.make(
        n,
        kind=np.where(cls == BUND, SHRUB, cls),
        phase=rng.uniform(-10, 10, n),
        bright=rng.uniform(0.96, 1.04, n),
    )
    forest, shrub = cls == FOREST, cls == SHRUB
    u.tree0 = np.select([forest, shrub, cls == BUND, cls == BUILTUP], [
        rng.uniform(0.86, 0.94, n), rng.uniform(0.14, 0.26, n), 0.03, 0.3], 0.0)  # fmt: skip
    u.soil0 = np.select([forest, shrub, cls == BUND, cls == WATERBODY, cls == BUILTUP], [
        rng.uniform(0.01, 0.03, n), rng.uniform(0.06, 0.12, n), 0.25,
        np.where(pid > 0, 0.02, rng.uniform(0.08, 0.18, n)),
        np.where(pid > 0, rng.uniform(0.55, 0.95, n), 0.9)], 0.0)  # fmt: skip
    return inverse.reshape(fshape).astype(np.int32), u

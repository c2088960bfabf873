"""Rejection sampling of plot locations that keep the truth exact (spacing, land, county)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import shapely
from rasterio import features
from scipy import ndimage

from pipeline.demo.grid import Grid
from pipeline.demo.landscape import BUND, Background
from pipeline.demo.spectra import BUILTUP, CROPLAND, FOREST, SHRUB, WATERBODY

MARGIN = 25.0  # m kept between unrelated polygons (the contract promises 20 m)
BORDER = 30.0  # m kept from the area edge


class PlacementError(RuntimeError):
    """No location satisfied the constraints (internal; retried with a smaller plot)."""


class Placer:
    """Keeps track of placed plots and priors and proposes valid new locations."""

    def __init__(self, grid: Grid, bg: Background, trap_zone: shapely.Geometry) -> None:
        self.grid, self.bg = grid, bg
        self.plots: list[shapely.Geometry] = []
        self.priors: list[shapely.Geometry] = []
        self.farm = shapely.union_all([g for g, _ in bg.farmland])
        self.trap_zone = trap_zone
        self.trap_core = bg.trap.buffer(-MARGIN)
        self.inner = [c[2].buffer(-MARGIN) for c in bg.counties]
        self.area = grid.box.buffer(-BORDER)
        for g in (self.farm, self.trap_zone, self.trap_core, self.area, *self.inner):
            shapely.prepare(g)
        self.fx, self.fy = grid.centers(fine=True)
        sub = grid.sub
        rows, cols = grid.shape
        blocks = bg.land.reshape(rows, sub, cols, sub)
        self.share = {
            k: (blocks == k).mean(axis=(1, 3))
            for k in (FOREST, SHRUB, CROPLAND, BUND, WATERBODY, BUILTUP)
        }
        self.blocked = np.zeros(grid.shape, bool)
        self._dist: dict[str, np.ndarray] = {}

    def _target_dist(self, target: str) -> np.ndarray:
        """Distance (m) from each 10 m pixel to the nearest pixel not fully of the target."""
        if target not in self._dist:
            if target == "forest":
                ok = self.share[FOREST] >= 0.99
            elif target == "shrub":
                ok = self.share[SHRUB] >= 0.99
            elif target == "crop":
                ok = (self.share[CROPLAND] + self.share[BUND]) >= 0.99
            else:
                ok = (self.share[FOREST] + self.share[SHRUB]) >= 0.99
            burn = [(self.area, 1)] + ([] if target == "trap" else [(self.trap_zone, 0)])
            ok &= features.rasterize(burn, self.grid.shape, transform=self.grid.transform) > 0
            self._dist[target] = ndimage.distance_transform_edt(ok) * self.grid.pixel
        return self._dist[target]

    def sample_center(
        self, rng: np.random.Generator, target: str, radius: float, region: shapely.Geometry | None
    ) -> tuple[float, float]:
        """A random free pixel centre at least 0.75 radius inside the target land."""
        ok = (self._target_dist(target) >= 0.75 * radius) & ~self.blocked
        if region is not None:
            ok &= (
                features.rasterize([(region, 1)], self.grid.shape, transform=self.grid.transform)
                > 0
            )
        idx = np.flatnonzero(ok)
        if idx.size == 0:
            raise PlacementError(f"no free {target} land for radius {radius:.0f} m")
        i = int(rng.choice(idx))
        r, c = divmod(i, self.grid.cols)
        x = self.grid.x0 + (c + rng.uniform(0, 1)) * self.grid.pixel
        y = self.grid.y_top - (r + rng.uniform(0, 1)) * self.grid.pixel
        return x, y

    def land_share(self, geom: shapely.Geometry) -> np.ndarray:
        """Share of each land class (index = class code 0–5) inside a geometry."""
        rs, cs = self.grid.fine_window(geom)
        inside = shapely.contains_xy(geom, self.fx[rs, cs], self.fy[rs, cs])
        counts = np.bincount(self.bg.land[rs, cs][inside], minlength=6)
        return counts / max(counts.sum(), 1)

    def check(
        self,
        geom: shapely.Geometry,
        target: str,
        partner: shapely.Geometry | None = None,
        county: int | None = None,
        near_prior_ok: bool = False,
    ) -> bool:
        """True if the geometry satisfies every constraint of its kind."""
        if not self.area.contains(geom):
            return False
        if target == "trap":
            if not self.trap_core.contains(geom):
                return False
        elif self.trap_zone.intersects(geom):
            return False
        own = self.bg.county_at(geom)
        if not self.inner[own].contains(geom) or (county is not None and own != county):
            return False
        others = [g for g in self.plots if g is not partner]
        if others and shapely.dwithin(np.array(others), geom, MARGIN).any():
            return False
        if not near_prior_ok and self.priors:
            if shapely.dwithin(np.array(self.priors), geom, MARGIN).any():
                return False
        if target == "crop":
            if geom.intersection(self.farm).area < 0.6 * geom.area:
                return False
        elif shapely.dwithin(self.farm, geom, MARGIN):
            return False
        share = self.land_share(geom)
        if target == "crop":
            ok = share[CROPLAND] + share[BUND] >= 0.9
        elif target == "forest":
            ok = share[FOREST] >= 0.92
        elif target in ("shrub", "trap"):
            ok = share[SHRUB] >= 0.9
        else:
            ok = share[FOREST] + share[SHRUB] >= 0.95
        near = self.land_share(geom.buffer(10.0))
        return bool(ok and near[WATERBODY] == 0 and near[BUILTUP] == 0)

    def place(
        self,
        rng: np.random.Generator,
        target: str,
        area_m2: float,
        make: Callable[[tuple[float, float], float], shapely.Geometry | None],
        tries: int = 60,
        **check_kw,
    ) -> shapely.Geometry:
        """Sample centres and shapes until `make(center, area)` yields a valid location."""
        radius = np.sqrt(area_m2 / np.pi)
        region = self.trap_core if target == "trap" else None
        for _ in range(tries):
            center = self.sample_center(rng, target, radius, region)
            geom = make(center, area_m2)
            if geom is not None and self.check(geom, target, **check_kw):
                return geom
        raise PlacementError(f"could not place a {target} plot of {area_m2:.0f} m²")

    def add(self, geom: shapely.Geometry, prior: bool = False) -> None:
        """Register a placed geometry and block the pixels around it for new centres."""
        (self.priors if prior else self.plots).append(geom)
        burned = features.rasterize(
            [(geom.buffer(MARGIN), 1)],
            self.grid.shape,
            transform=self.grid.transform,
            all_touched=True,
        )
        self.blocked |= burned.astype(bool)

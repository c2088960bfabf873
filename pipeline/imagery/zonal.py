"""Per-plot zonal statistics with exact pixel-coverage weights, computed once per grid.

:func:`coverage_weights` overlays the polygons on the grid once (every polygon at once in
numpy, :mod:`~pipeline.imagery.coverage`; or exactextract, fed WKB); afterwards a date costs
a gather over the covered cells and a weighted sum (``np.bincount``).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from exactextract import exact_extract
from exactextract.feature import Feature, FeatureSource
from exactextract.raster import NumPyRasterSource
from odc.geo.geobox import GeoBox

from pipeline.imagery.coverage import polygon_coverage


@dataclass(frozen=True)
class CoverageWeights:
    """Flat (plot, cell, coverage) triples for one grid.

    ``plot``: position of the plot in the table given; ``cell``: row-major cell index into the
    grid (y from the top); ``coverage``: share of the cell inside the plot (0–1] times the cell's
    area share (all cells equal here).
    """

    plot: np.ndarray
    cell: np.ndarray
    coverage: np.ndarray
    n_plots: int
    shape: tuple[int, int]

    def total(self) -> np.ndarray:
        """Covered cell-area per plot (cells)."""
        return np.bincount(self.plot, self.coverage, minlength=self.n_plots)


def coverage_weights(
    geoms: gpd.GeoSeries, geobox: GeoBox, engine: str = "numpy"
) -> CoverageWeights:
    """Exact coverage of every grid cell by every polygon (geoms in the grid's CRS).

    ``engine``: ``"numpy"`` (:func:`~pipeline.imagery.coverage.polygon_coverage`, all
    polygons at once; shares rounded to float32 as exactextract gives them, so the two
    agree to its rounding) for north-up square-pixel grids, else exactextract; or
    ``"exactextract"`` (one feature at a time, in C++)."""
    ny, nx = geobox.shape
    a = geobox.affine
    if engine == "numpy" and a.b == 0 and a.d == 0 and a.a == -a.e and a.a > 0:
        plot, cell, share = polygon_coverage(np.asarray(geoms.values), a.c, a.f, a.a, (ny, nx))
        share = share.astype(np.float32).astype(np.float64)
        return CoverageWeights(plot, cell, share, n_plots=len(geoms), shape=(ny, nx))
    x0, y0, x1, y1 = geobox.extent.boundingbox
    raster = NumPyRasterSource(
        np.zeros((ny, nx), dtype=np.float32),
        xmin=x0,
        ymin=y0,
        xmax=x1,
        ymax=y1,
        srs_wkt=geobox.crs.to_wkt(),
    )
    has = ~(geoms.isna() | geoms.is_empty).to_numpy()
    plot = cell = cov = None
    if has.any():
        pos = np.flatnonzero(has)
        features = _WKBFeatures(shapely.to_wkb(geoms.values[has]), pos, geobox.crs.to_wkt())
        df = exact_extract(
            raster, features, ["cell_id", "coverage"], output="pandas", include_cols=["pos"]
        )
        # one array per feature from exactextract; joined in C, no Python loop per feature
        sizes = np.fromiter(map(len, df["cell_id"]), dtype=np.int64, count=len(df))
        if sizes.sum():
            plot = np.repeat(df["pos"].to_numpy(dtype=np.int64), sizes)
            cell = np.concatenate(df["cell_id"].to_numpy()).astype(np.int64, copy=False)
            cov = np.concatenate(df["coverage"].to_numpy()).astype(np.float64, copy=False)
    return CoverageWeights(
        plot=plot if plot is not None else np.zeros(0, dtype=np.int64),
        cell=cell if cell is not None else np.zeros(0, dtype=np.int64),
        coverage=cov if cov is not None else np.zeros(0, dtype=np.float64),
        n_plots=len(geoms),
        shape=(ny, nx),
    )


def zonal_means(values: np.ndarray, weights: CoverageWeights) -> tuple[np.ndarray, np.ndarray]:
    """Coverage-weighted means and clear shares per plot for a stack of grids.

    ``values``: (time, y, x) with NaN where masked. Returns ``mean`` and ``clear_share``, both
    (time, plot); ``mean`` is NaN where no covered cell is clear.
    """
    nt = values.shape[0]
    return pair_means(values.reshape(nt, -1)[:, weights.cell], weights)


def pair_means(pairs: np.ndarray, weights: CoverageWeights) -> tuple[np.ndarray, np.ndarray]:
    """:func:`zonal_means` of values already gathered per (plot, cell) pair: ``pairs`` is
    (time, pairs). Per date, two weighted ``np.bincount`` over all pairs (numpy's loop, not
    Python's; temporaries of one date, not of the whole chunk)."""
    nt, n = pairs.shape[0], weights.n_plots
    total = weights.total()
    mean = np.full((nt, n), np.nan)
    share = np.zeros((nt, n))
    for t in range(nt):
        clear = np.isfinite(pairs[t])
        w = np.where(clear, weights.coverage, 0.0)
        wsum = np.bincount(weights.plot, w, minlength=n)
        vsum = np.bincount(weights.plot, w * np.where(clear, pairs[t], 0.0), minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean[t] = np.where(wsum > 0, vsum / wsum, np.nan)
            share[t] = np.where(total > 0, wsum / total, 0.0)
    return mean, share


class _WKBFeature(Feature):
    """A plot for exactextract: its WKB and its position (no GeoJSON round trip)."""

    def __init__(self, pos: int, wkb: bytes) -> None:
        Feature.__init__(self)
        self.pos, self.wkb = pos, wkb

    def geometry(self) -> bytes:
        return self.wkb

    def get(self, name: str) -> int:
        return self.pos

    def fields(self) -> list[str]:
        return ["pos"]


class _WKBFeatures(FeatureSource):
    """The plots as an exactextract feature source of WKB (2× faster than from GeoPandas,
    which converts every feature to GeoJSON text)."""

    def __init__(self, wkbs: np.ndarray, pos: np.ndarray, srs_wkt: str) -> None:
        super().__init__()
        self.wkbs, self.pos, self.wkt = wkbs, pos, srs_wkt

    def count(self) -> int:
        return len(self.wkbs)

    def __iter__(self):
        for p, w in zip(self.pos, self.wkbs, strict=True):
            yield _WKBFeature(int(p), w)

    def srs_wkt(self) -> str:
        return self.wkt

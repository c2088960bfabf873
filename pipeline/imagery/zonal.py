"""Per-plot zonal statistics with exact pixel-coverage weights, computed once per grid.

:func:`coverage_weights` overlays the polygons on the grid once (exactextract); afterwards a
date costs a gather over the covered cells and a weighted sum (``np.bincount``).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
from exactextract import exact_extract
from exactextract.raster import NumPyRasterSource
from odc.geo.geobox import GeoBox


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


def coverage_weights(geoms: gpd.GeoSeries, geobox: GeoBox) -> CoverageWeights:
    """Exact coverage of every grid cell by every polygon (geoms in the grid's CRS)."""
    ny, nx = geobox.shape
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
    plots, cells, covs = [], [], []
    if has.any():
        frame = gpd.GeoDataFrame(
            {"pos": np.flatnonzero(has)}, geometry=geoms[has].values, crs=geoms.crs
        )
        df = exact_extract(
            raster, frame, ["cell_id", "coverage"], output="pandas", include_cols=["pos"]
        )
        for pos, cid, cov in zip(df["pos"], df["cell_id"], df["coverage"], strict=True):
            plots.append(np.full(len(cid), pos, dtype=np.int64))
            cells.append(np.asarray(cid, dtype=np.int64))
            covs.append(np.asarray(cov, dtype=np.float64))

    def cat(a, t):
        return np.concatenate(a) if a else np.zeros(0, dtype=t)

    return CoverageWeights(
        plot=cat(plots, np.int64),
        cell=cat(cells, np.int64),
        coverage=cat(covs, np.float64),
        n_plots=len(geoms),
        shape=(ny, nx),
    )


def zonal_means(values: np.ndarray, weights: CoverageWeights) -> tuple[np.ndarray, np.ndarray]:
    """Coverage-weighted means and clear shares per plot for a stack of grids.

    ``values``: (time, y, x) with NaN where masked. Returns ``mean`` and ``clear_share``, both
    (time, plot); ``mean`` is NaN where no covered cell is clear.
    """
    nt = values.shape[0]
    flat = values.reshape(nt, -1)[:, weights.cell]  # (time, pairs)
    clear = np.isfinite(flat)
    w = np.where(clear, weights.coverage[None, :], 0.0)
    v = np.where(clear, flat, 0.0)
    total = weights.total()
    mean = np.full((nt, weights.n_plots), np.nan)
    share = np.zeros((nt, weights.n_plots))
    for t in range(nt):
        wsum = np.bincount(weights.plot, w[t], minlength=weights.n_plots)
        vsum = np.bincount(weights.plot, w[t] * v[t], minlength=weights.n_plots)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean[t] = np.where(wsum > 0, vsum / wsum, np.nan)
            share[t] = np.where(total > 0, wsum / total, 0.0)
    return mean, share

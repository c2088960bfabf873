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
    plot = cell = cov = None
    if has.any():
        frame = gpd.GeoDataFrame(
            {"pos": np.flatnonzero(has)}, geometry=geoms[has].values, crs=geoms.crs
        )
        df = exact_extract(
            raster, frame, ["cell_id", "coverage"], output="pandas", include_cols=["pos"]
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
    (time, pairs). All dates in one weighted ``np.bincount`` (bin = date × plot), so the cost
    is numpy's, not Python's, whatever the number of dates; sums are added in pair order, as
    a per-date bincount would."""
    nt, n = pairs.shape[0], weights.n_plots
    clear = np.isfinite(pairs)
    w = np.where(clear, weights.coverage[None, :], 0.0)
    v = np.where(clear, pairs, 0.0)
    bins = (np.arange(nt, dtype=np.int64)[:, None] * n + weights.plot[None, :]).ravel()
    wsum = np.bincount(bins, w.ravel(), minlength=nt * n).reshape(nt, n)
    vsum = np.bincount(bins, (w * v).ravel(), minlength=nt * n).reshape(nt, n)
    total = weights.total()
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(wsum > 0, vsum / wsum, np.nan)
        share = np.where(total > 0, wsum / total, 0.0)
    return mean, share

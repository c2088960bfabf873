"""The demo pixel grid (10 m, plus a fine sub-grid) and smooth random fields on it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from affine import Affine
from scipy import ndimage

from pipeline.demo.presets import WorldSpec

CRS_UTM = "EPSG:32650"
CRS_PLOTS = "EPSG:4490"


@dataclass(frozen=True)
class Grid:
    """A north-up grid in EPSG:32650: 10 m pixels, each split into sub × sub fine cells."""

    x0: float
    y_top: float
    rows: int
    cols: int
    pixel: float
    sub: int

    @classmethod
    def from_spec(cls, spec: WorldSpec) -> Grid:
        """Grid covering the spec's area."""
        return cls(spec.x0, spec.y_top, spec.rows, spec.cols, float(spec.pixel_m), spec.sub)

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols) of the 10 m grid."""
        return self.rows, self.cols

    @property
    def fine_shape(self) -> tuple[int, int]:
        """(rows, cols) of the fine grid."""
        return self.rows * self.sub, self.cols * self.sub

    @property
    def fine_pixel(self) -> float:
        """Fine cell size, m."""
        return self.pixel / self.sub

    @property
    def transform(self) -> Affine:
        """Affine of the 10 m grid."""
        return Affine(self.pixel, 0.0, self.x0, 0.0, -self.pixel, self.y_top)

    @property
    def fine_transform(self) -> Affine:
        """Affine of the fine grid."""
        return Affine(self.fine_pixel, 0.0, self.x0, 0.0, -self.fine_pixel, self.y_top)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) in metres."""
        return (
            self.x0,
            self.y_top - self.rows * self.pixel,
            self.x0 + self.cols * self.pixel,
            self.y_top,
        )

    @property
    def box(self) -> shapely.Polygon:
        """The area as a polygon."""
        return shapely.box(*self.bounds)

    def centers(self, fine: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Cell-centre coordinates (x, y), each (rows, cols), metres."""
        size = self.fine_pixel if fine else self.pixel
        rows, cols = self.fine_shape if fine else self.shape
        x = self.x0 + (np.arange(cols) + 0.5) * size
        y = self.y_top - (np.arange(rows) + 0.5) * size
        return np.meshgrid(x, y)

    def fine_window(self, geom: shapely.Geometry, pad: float = 0.0) -> tuple[slice, slice]:
        """Row and column slices of the fine grid covering a geometry's bounds plus pad."""
        xmin, ymin, xmax, ymax = geom.bounds
        size = self.fine_pixel
        nrows, ncols = self.fine_shape
        c0 = int(np.clip(np.floor((xmin - pad - self.x0) / size), 0, ncols))
        c1 = int(np.clip(np.ceil((xmax + pad - self.x0) / size), 0, ncols))
        r0 = int(np.clip(np.floor((self.y_top - ymax - pad) / size), 0, nrows))
        r1 = int(np.clip(np.ceil((self.y_top - ymin + pad) / size), 0, nrows))
        return slice(r0, r1), slice(c0, c1)


def standardize(a: np.ndarray) -> np.ndarray:
    """Zero-mean unit-variance copy of a field (float32)."""
    a = a.astype(np.float32)
    sd = float(a.std())
    return (a - a.mean()) / (sd if sd > 0 else 1.0)


def make_fractal_field(rng: np.random.Generator, shape: tuple[int, int], beta: float) -> np.ndarray:
    """Gaussian field with power spectrum ~ k^-beta, standardized; dims (rows, cols)."""
    noise = rng.standard_normal(shape)
    ky = np.fft.fftfreq(shape[0])[:, None]
    kx = np.fft.rfftfreq(shape[1])[None, :]
    k = np.hypot(ky, kx)
    k[0, 0] = 1.0
    amp = k ** (-beta / 2.0)
    amp[0, 0] = 0.0
    field = np.fft.irfft2(np.fft.rfft2(noise) * amp, s=shape)
    return standardize(field)


def make_smooth_field(
    rng: np.random.Generator, shape: tuple[int, int], sigma_px: float, coarse: int = 4
) -> np.ndarray:
    """Gaussian-filtered white noise, standardized; computed on a grid `coarse` times
    coarser and upsampled, dims (rows, cols); sigma_px in output pixels."""
    small = (-(-shape[0] // coarse), -(-shape[1] // coarse))
    noise = rng.standard_normal(small).astype(np.float32)
    field = ndimage.gaussian_filter(noise, sigma_px / coarse, mode="wrap")
    return standardize(upsample(field, coarse)[: shape[0], : shape[1]])


def upsample(a: np.ndarray, factor: int) -> np.ndarray:
    """Bilinear upsampling by an integer factor with cell edges aligned; dims × factor."""
    return ndimage.zoom(a, factor, order=1, grid_mode=True, mode="nearest")


def shift_field(a: np.ndarray, drow: int, dcol: int, fill: float = 0.0) -> np.ndarray:
    """Copy of a 2-D array moved by (drow, dcol) pixels, uncovered cells set to fill."""
    out = np.full_like(a, fill)
    rows, cols = a.shape
    if abs(drow) >= rows or abs(dcol) >= cols:
        return out
    src_r = slice(max(0, -drow), rows - max(0, drow))
    dst_r = slice(max(0, drow), rows - max(0, -drow))
    src_c = slice(max(0, -dcol), cols - max(0, dcol))
    dst_c = slice(max(0, dcol), cols - max(0, -dcol))
    out[dst_r, dst_c] = a[src_r, src_c]
    return out

"""Reading a band onto its own grid or one twice as fine (Sentinel-2's 20 m bands on the 10 m
grid) without GDAL's warper: the native window is read and doubled in numpy, giving GDAL's
bilinear / nearest results bit for bit.

GDAL's warp kernel, for an exact 2× upsampling of an aligned grid (same CRS, no rotation,
the fine grid's origin on a coarse pixel edge), samples each fine pixel's centre at coarse
pixel coordinate ``u = (c + 0.5) / 2``: ``nearest`` takes pixel ``⌊u⌋ = c // 2``; ``bilinear``
weighs the two coarse pixels around ``u − 0.5`` by 0.75 / 0.25 in each axis (at the first and
last coarse pixel, the edge pixel alone), leaves out nodata pixels and renormalises by the
weights left, writes nodata where the coarse pixel holding the centre is nodata, and rounds
half up to the integer type. With weights in sixteenths every sum is exact in float32, so the
only rounding is the final division next to nodata (done in float64, as GDAL does). Proven
against ``rasterio.warp.reproject`` on random data (``tests/unit/imagery/test_upsample.py``).
"""

from __future__ import annotations

import numpy as np
import rasterio
from affine import Affine
from rasterio.windows import Window

#: dtypes whose GDAL rounding (half up, clamped) is reproduced here
SUPPORTED_DTYPES = (np.dtype("uint8"), np.dtype("uint16"))


def aligned_offset(src: Affine, dst: Affine, factor: int = 2) -> tuple[int, int] | None:
    """(row, col) of the fine grid ``dst``'s origin in fine pixels of the coarse grid ``src``'s
    origin, when ``src`` is exactly ``dst`` at ``factor`` times the pixel size (north up,
    aligned); else None."""
    if src.b or src.d or dst.b or dst.d or dst.a <= 0 or dst.e >= 0:
        return None
    if src.a != factor * dst.a or src.e != factor * dst.e:
        return None
    col = (dst.c - src.c) / dst.a
    row = (dst.f - src.f) / dst.e
    if col != round(col) or row != round(row):
        return None
    return int(round(row)), int(round(col))


def upsample2(coarse: np.ndarray, nodata: float | int, r0: int, c0: int, shape: tuple[int, int],
              full: tuple[int, int], bilinear: bool) -> np.ndarray:  # fmt: skip
    """Fine pixels rows ``r0 …``, cols ``c0 …`` (``shape``) of a coarse band doubled.

    ``coarse``: the coarse rows ``max(r0 // 2 − 1, 0) …`` and cols ``max(c0 // 2 − 1, 0) …``
    up to and including the pixel after the window's last (clipped to the band), see
    :func:`coarse_window`; ``full``: the coarse band's (rows, cols). Same dtype as ``coarse``
    (uint8 / uint16); ``nodata`` where GDAL writes nodata.
    """
    (ry0, _), (rx0, _) = coarse_window(r0, c0, shape, full)
    ys = _axis(r0, shape[0], full[0], ry0)
    xs = _axis(c0, shape[1], full[1], rx0)
    if not bilinear:
        return coarse[np.ix_(ys[0], xs[0])]
    ok = coarse != nodata
    v = np.where(ok, coarse, 0).astype(np.float32)
    okf = ok.astype(np.float32)
    acc = _interp(_interp(v, xs, axis=1), ys, axis=0)
    wsum = _interp(_interp(okf, xs, axis=1), ys, axis=0)
    centre_ok = ok[np.ix_(ys[0], xs[0])]
    out = acc
    part = centre_ok & (wsum != 1)
    if part.any():  # next to nodata: GDAL divides in float64
        out[part] = (acc[part].astype(np.float64) / wsum[part]).astype(np.float32)
    info = np.iinfo(coarse.dtype)
    out = np.floor(np.clip(out, info.min, info.max) + np.float32(0.5))
    res = out.astype(coarse.dtype)
    res[~centre_ok] = nodata
    return res


def coarse_window(r0: int, c0: int, shape: tuple[int, int], full: tuple[int, int]):
    """((row0, row1), (col0, col1)) of the coarse pixels the fine window needs (end
    exclusive, clipped to the band of ``full`` = (rows, cols))."""

    def span(start: int, n: int, size: int) -> tuple[int, int]:
        return max(start // 2 - 1, 0), min((start + n - 1) // 2 + 2, size)

    return span(r0, shape[0], full[0]), span(c0, shape[1], full[1])


def _axis(start: int, n: int, size: int, base: int):
    """Per fine pixel along one axis: centre pixel, the two bilinear neighbours (indices
    relative to ``base``) and their weights (float32, exact)."""
    c = np.arange(start, start + n)
    centre = c // 2
    i0 = np.where(c % 2 == 0, centre - 1, centre)  # ⌊u − 0.5⌋ with u = (c + 0.5) / 2
    w0 = np.where(c % 2 == 0, 0.25, 0.75).astype(np.float32)
    first = i0 < 0  # GDAL: before the first pixel, the first pixel alone
    i0 = np.where(first, 0, i0)
    w0 = np.where(first, np.float32(1), w0)
    i1 = i0 + 1
    w1 = (np.float32(1) - w0) * (i1 < size)  # after the last pixel: left out
    i1 = np.minimum(i1, size - 1)
    return centre - base, i0 - base, i1 - base, w0, w1.astype(np.float32)


def _interp(a: np.ndarray, ax, axis: int) -> np.ndarray:
    """Weighted sum of the two neighbours along ``axis`` (float32; exact for these weights)."""
    _, i0, i1, w0, w1 = ax
    if axis == 1:
        return a[:, i0] * w0 + a[:, i1] * w1
    return a[i0] * w0[:, None] + a[i1] * w1[:, None]


def read_upsampled(ds: rasterio.DatasetReader, bidx: int, nodata: float | int, dst: Affine,
                   shape: tuple[int, int], bilinear: bool) -> np.ndarray | None:  # fmt: skip
    """Band ``bidx`` of the open ``ds`` on the grid (``dst``, ``shape``) as GDAL would give it,
    when that grid is the band's own (a window read, as odc-loader's paste) or the band's at
    half the pixel size (doubled here, as GDAL's warper would), the window lies inside the
    band and the dtype is supported; else None (the caller warps)."""
    if np.dtype(ds.dtypes[bidx - 1]) not in SUPPORTED_DTYPES or nodata is None:
        return None
    full = (ds.height, ds.width)
    same = aligned_offset(ds.transform, dst, factor=1)
    if same is not None:
        r0, c0 = same
        if r0 < 0 or c0 < 0 or r0 + shape[0] > full[0] or c0 + shape[1] > full[1]:
            return None
        return ds.read(bidx, window=Window(c0, r0, shape[1], shape[0]))
    off = aligned_offset(ds.transform, dst)
    if off is None:
        return None
    r0, c0 = off
    if r0 < 0 or c0 < 0 or r0 + shape[0] > 2 * full[0] or c0 + shape[1] > 2 * full[1]:
        return None
    (y0, y1), (x0, x1) = coarse_window(r0, c0, shape, full)
    coarse = ds.read(bidx, window=Window(x0, y0, x1 - x0, y1 - y0))
    return upsample2(coarse, nodata, r0, c0, shape, full, bilinear)

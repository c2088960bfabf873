"""The numpy 2× upsampling equals GDAL's warp (rasterio.warp.reproject) bit for bit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from rasterio.warp import Resampling, reproject

from pipeline.imagery.upsample import aligned_offset, read_upsampled

CRS = "EPSG:32650"


def _write(path: Path, data: np.ndarray, x0: float, y0: float, nodata: int = 0) -> Path:
    ny, nx = data.shape
    prof = dict(driver="GTiff", width=nx, height=ny, count=1, dtype=data.dtype.name, crs=CRS,
                transform=from_origin(x0, y0, 20, 20), nodata=nodata, tiled=True,
                blockxsize=256, blockysize=256, compress="deflate")  # fmt: skip
    with rasterio.open(path, "w", **prof) as ds:
        ds.write(data, 1)
    return path


def _gdal(path: Path, dst, shape, dtype, resampling) -> np.ndarray:
    """What odc-loader's rio_read does: warp the whole band into the window."""
    out = np.zeros(shape, dtype)
    with rasterio.open(path) as ds:
        reproject(rasterio.band(ds, 1), out, src_nodata=ds.nodata, dst_crs=CRS,
                  dst_transform=dst, dst_nodata=ds.nodata, resampling=resampling)  # fmt: skip
    return out


def _random_band(rng, shape, dtype, hi):
    data = rng.integers(1, hi, shape).astype(dtype)
    data[rng.random(shape) < 0.05] = 0  # scattered nodata
    data[40:70, 30:65] = 0  # a block of nodata
    data[:, -1] = rng.integers(1, hi, shape[0])  # a valid last column (edge rule)
    return data


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_read_upsampled__equals_gdal_warp_bilinear_and_nearest(tmp_path, seed):
    rng = np.random.default_rng(seed)
    x0 = 500_000 + 20 * int(rng.integers(0, 3000))
    y0 = 3_000_000 - 20 * int(rng.integers(0, 3000))
    band = _write(tmp_path / "b.tif", _random_band(rng, (150, 170), np.uint16, 12_000), x0, y0)
    scl = _write(tmp_path / "s.tif", _random_band(rng, (150, 170), np.uint8, 12), x0, y0)
    windows = [(0, 0, 300, 340), (1, 1, 299, 339), (0, 0, 1, 1), (299, 339, 1, 1)]
    for _ in range(12):
        r0, c0 = int(rng.integers(0, 290)), int(rng.integers(0, 330))
        windows.append((r0, c0, int(rng.integers(1, 300 - r0)), int(rng.integers(1, 340 - c0))))
    for r0, c0, ny, nx in windows:
        dst = from_origin(x0 + 10 * c0, y0 - 10 * r0, 10, 10)
        for path, dtype in ((band, np.uint16), (scl, np.uint8)):
            for res in (Resampling.bilinear, Resampling.nearest):
                want = _gdal(path, dst, (ny, nx), dtype, res)
                with rasterio.open(path) as ds:
                    got = read_upsampled(ds, 1, 0, dst, (ny, nx), res == Resampling.bilinear)
                assert got is not None and got.dtype == want.dtype
                np.testing.assert_array_equal(got, want, err_msg=f"{(r0, c0, ny, nx)} {res}")


def test_read_upsampled__ties_round_half_up_like_gdal(tmp_path):
    # 9a + 3b + 3c + d ≡ 8 (mod 16) gives a value ending in .5: planted on every pixel
    data = np.array([[1, 2], [3, 5]] * 1, dtype=np.uint16)
    data = np.tile(data, (4, 4)) + 100
    path = _write(tmp_path / "t.tif", data, 500_000, 3_000_000)
    dst = from_origin(500_000, 3_000_000, 10, 10)
    want = _gdal(path, dst, (16, 16), np.uint16, Resampling.bilinear)
    with rasterio.open(path) as ds:
        got = read_upsampled(ds, 1, 0, dst, (16, 16), True)
    np.testing.assert_array_equal(got, want)


def test_read_upsampled__declines_unaligned_or_outside(tmp_path):
    data = np.full((20, 20), 7, np.uint16)
    path = _write(tmp_path / "u.tif", data, 500_000, 3_000_000)
    with rasterio.open(path) as ds:
        shifted = from_origin(500_005, 3_000_000, 10, 10)  # half a fine pixel off
        assert read_upsampled(ds, 1, 0, shifted, (4, 4), True) is None
        third = from_origin(500_000, 3_000_000, 20 / 3, 20 / 3)  # not a 1× or 2× grid
        assert read_upsampled(ds, 1, 0, third, (4, 4), True) is None
        own = from_origin(500_020, 3_000_000, 20, 20)  # the band's own grid: a window read
        np.testing.assert_array_equal(read_upsampled(ds, 1, 0, own, (4, 4), True), data[:4, 1:5])
        outside = from_origin(499_990, 3_000_000, 10, 10)  # starts left of the band
        assert read_upsampled(ds, 1, 0, outside, (4, 4), True) is None
        inside = from_origin(500_010, 2_999_990, 10, 10)
        assert read_upsampled(ds, 1, 0, inside, (4, 4), True) is not None


def test_aligned_offset__fine_origin_in_fine_pixels():
    src = from_origin(500_000, 3_000_000, 20, 20)
    assert aligned_offset(src, from_origin(500_030, 2_999_950, 10, 10)) == (5, 3)
    assert aligned_offset(src, from_origin(500_030, 2_999_950, 20, 20)) is None

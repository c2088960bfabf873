"""Harmonisation: the Sentinel-2 BOA offset, per-scene scaling, cube conversion, dilation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pystac
import rasterio
import xarray as xr
from odc.geo.geobox import GeoBox
from pystac.extensions.projection import ProjectionExtension

from pipeline.config import Imagery
from pipeline.imagery.cube import load_cube
from pipeline.imagery.harmonize import (
    Scaling,
    dilate_mask,
    needs_boa_offset,
    scene_scaling,
    to_cube_dn,
)
from pipeline.imagery.indices import compute_indices
from pipeline.imagery.masks import mask_clouds
from pipeline.imagery.search import search_items

REFL = {"blue": 0.04, "green": 0.07, "red": 0.05, "nir": 0.35, "swir16": 0.2, "swir22": 0.1}
X0, Y1, N = 561000.0, 2932000.0, 16
PROJ = {"proj:shape": [N, N], "proj:transform": [10.0, 0.0, X0, 0.0, -10.0, Y1]}


def _write(path, value: int, dtype: str) -> None:
    profile = dict(driver="GTiff", width=N, height=N, count=1, dtype=dtype, nodata=0)
    profile.update(crs="EPSG:32650", transform=rasterio.Affine(10, 0, X0, 0, -10, Y1))
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(np.full((1, N, N), value, dtype=dtype))


def _offset_catalog(root) -> str:
    """Items every 10 days across 25 Jan 2022; later ones baseline 04.00, DN + 1000, no flag."""
    cat = pystac.Catalog("offset", "BOA offset test")
    day = date(2021, 11, 5)
    while day < date(2022, 5, 1):
        new = day >= date(2022, 1, 25)
        item = pystac.Item(
            f"S2_{day:%Y%m%d}",
            {"type": "Point", "coordinates": [117.6, 26.5]},
            [117.5, 26.4, 117.7, 26.6],
            datetime(day.year, day.month, day.day, 3, tzinfo=UTC),
            {"s2:processing_baseline": "04.00" if new else "02.14"},
        )
        for band, refl in REFL.items():
            path = root / f"{item.id}_{band}.tif"
            _write(path, round(refl * 10000) + (1000 if new else 0), "uint16")
            item.add_asset(band, pystac.Asset(str(path), extra_fields=PROJ))
        _write(root / f"{item.id}_scl.tif", 4, "uint8")
        item.add_asset("scl", pystac.Asset(str(root / f"{item.id}_scl.tif"), extra_fields=PROJ))
        ProjectionExtension.add_to(item)
        ProjectionExtension.ext(item).epsg = 32650
        cat.add_item(item)
        day += timedelta(days=10)
    cat.normalize_and_save(str(root / "stac"), pystac.CatalogType.ABSOLUTE_PUBLISHED)
    return str(root / "stac" / "catalog.json")


def _series(catalog: str, harmonize: bool) -> xr.Dataset:
    img = Imagery(
        catalog=catalog,
        start=date(2021, 11, 1),
        end=date(2022, 4, 30),
        harmonize=harmonize,
        haze_max=None,  # unharmonised, the +0.1 on blue would also trip the haze test
    )
    items = search_items(img, (117.5, 26.4, 117.7, 26.6))
    geobox = GeoBox.from_bbox((X0, Y1 - 160, X0 + 160, Y1), crs="EPSG:32650", resolution=10)
    refl = mask_clouds(load_cube(items, img, geobox), img)
    return xr.merge([refl, compute_indices(refl)]).mean(["x", "y"]).compute()


def test_boa_offset__series_across_january_2022_is_continuous(tmp_path):
    catalog = _offset_catalog(tmp_path)
    s = _series(catalog, harmonize=True)
    assert np.allclose(s["red"], REFL["red"], atol=1e-4)
    assert np.allclose(s["nir"], REFL["nir"], atol=1e-4)
    assert np.abs(np.diff(s["ndvi"].values)).max() < 1e-4
    raw = _series(catalog, harmonize=False)  # the jump the offset causes when ignored
    after = raw["time"] >= np.datetime64("2022-01-25")
    assert np.allclose(raw["red"].where(after, drop=True), REFL["red"] + 0.1, atol=1e-4)


def test_needs_boa_offset__flags_and_baselines():
    assert needs_boa_offset({"s2:processing_baseline": "04.00"})
    assert needs_boa_offset({"processing:version": "05.10"})
    assert not needs_boa_offset({"s2:processing_baseline": "03.01"})
    assert not needs_boa_offset(
        {"s2:processing_baseline": "05.10", "earthsearch:boa_offset_applied": True}
    )
    assert not needs_boa_offset({})


def test_scene_scaling__declared_offset_is_trusted_not_doubled():
    props = {"s2:processing_baseline": "05.10"}
    default = Scaling(0.0001, 0.0, 0)
    declared = scene_scaling(props, {"scale": 0.0001, "offset": -0.1}, default, True, True)
    assert declared.offset == -0.1
    implied = scene_scaling(props, {"scale": 0.0001}, default, True, True)
    assert abs(implied.offset + 0.1) < 1e-12
    assert scene_scaling(props, None, default, True, False) == Scaling(1.0, 0.0, 0)


def test_to_cube_dn__rescales_other_sensors_and_marks_nodata():
    landsat = Scaling(2.75e-5, -0.2, 0)
    dn = np.array([[0, 10000, 20000]], dtype="uint16")
    out = to_cube_dn(dn, landsat, Scaling(1e-4, 0.0, None))
    assert np.isnan(out[0, 0])
    assert np.allclose(out[0, 1:] * 1e-4, [10000 * 2.75e-5 - 0.2, 20000 * 2.75e-5 - 0.2])


def test_dilate_mask__grows_within_each_date_only():
    bad = np.zeros((2, 5, 5), bool)
    bad[0, 2, 2] = True
    grown = dilate_mask(xr.DataArray(bad, dims=("time", "y", "x")).chunk({"time": 1}), 1)
    vals = grown.values
    assert vals[0].sum() == 5 and not vals[1].any()

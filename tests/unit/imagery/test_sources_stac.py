"""Static STAC catalogs: every item found by following links; a damaged file is named."""

from __future__ import annotations

import datetime as dt

import pystac
import pytest

from pipeline.errors import ImageryError
from pipeline.imagery.sources.stac import walk_static


def _catalog(root) -> pystac.Catalog:
    cat = pystac.Catalog("c", "test catalog")
    for day in (1, 2):
        cat.add_item(
            pystac.Item(f"S{day}", None, [117, 26, 118, 27], dt.datetime(2022, 1, day), {})
        )
    cat.normalize_hrefs(str(root))
    cat.save(pystac.CatalogType.SELF_CONTAINED)
    return cat


def test_walk_static__finds_every_item(tmp_path):
    _catalog(tmp_path)
    assert sorted(it.id for it in walk_static(str(tmp_path / "catalog.json"), None)) == [
        "S1",
        "S2",
    ]


def test_walk_static__a_corrupt_item_json_is_named_with_the_fix(tmp_path):
    _catalog(tmp_path)
    item = tmp_path / "S2" / "S2.json"
    item.write_text(item.read_text()[:40])
    with pytest.raises(ImageryError, match=r"STAC item .*S2\.json cannot be read.*remove it"):
        walk_static(str(tmp_path / "catalog.json"), None)


def test_walk_static__a_missing_catalog_names_the_key(tmp_path):
    with pytest.raises(ImageryError, match=r"imagery\.catalog"):
        walk_static(str(tmp_path / "nope.json"), None)


def test_find_items__a_band_most_scenes_lack_is_named_with_the_setting(tmp_path):
    from pipeline.config import Imagery
    from pipeline.imagery.bands import CUBE_BANDS
    from pipeline.imagery.sources.stac import StacSource

    cat = _catalog(tmp_path)
    for item in cat.get_items():
        for band in CUBE_BANDS:
            if band != "swir16":
                item.add_asset(band, pystac.Asset(f"./{band}.tif"))
    cat.save(pystac.CatalogType.SELF_CONTAINED)
    imagery = Imagery(
        catalog=str(tmp_path / "catalog.json"), start=dt.date(2022, 1, 1), end=dt.date(2022, 2, 1)
    )
    with pytest.raises(ImageryError, match=r"2 of 2 scenes .* no asset 'swir16'.*imagery\.bands"):
        StacSource(imagery).find_items((116, 25, 119, 28), imagery.start, imagery.end)


def test_read_item_bands__without_the_warper_equals_odc_rio_read(tiny_world, monkeypatch):
    """The 10 m paste and the 20 m → 10 m doubling in numpy give odc-loader's pixels exactly,
    on windows at even and odd offsets and one reaching past the scene (warped as before)."""
    import numpy as np
    from odc.geo.geobox import GeoBox

    from pipeline.imagery.sources import stac

    items = walk_static(str(tiny_world / "stac" / "catalog.json"), None)[:3]
    keys = ["blue", "red", "nir", "swir16", "swir22", "scl"]
    resampling = {"scl": "nearest", "*": "bilinear"}
    first = items[0].assets["blue"].extra_fields["proj:transform"]
    x0, y0 = first[2], first[5]
    boxes = [
        GeoBox.from_bbox((x0 + 10, y0 - 330, x0 + 410, y0 - 30), "EPSG:32650", resolution=10),
        GeoBox.from_bbox((x0 + 20, y0 - 300, x0 + 230, y0 - 20), "EPSG:32650", resolution=10),
        GeoBox.from_bbox((x0 - 50, y0 - 200, x0 + 150, y0 + 40), "EPSG:32650", resolution=10),
    ]
    calls = []
    real = stac.read_doubled
    monkeypatch.setattr(stac, "read_doubled", lambda *a: calls.append(r := real(*a)) or r)
    fast = [stac.read_item_bands(it, keys, gb, resampling) for it in items for gb in boxes]
    assert sum(r is not None for r in calls) == 2 * 3 * len(keys)  # all but the outer box
    monkeypatch.setattr(stac, "read_doubled", lambda *a: None)
    slow = [stac.read_item_bands(it, keys, gb, resampling) for it in items for gb in boxes]
    for a, b in zip(fast, slow, strict=True):
        for key in keys:
            assert a[key].dtype == b[key].dtype
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)

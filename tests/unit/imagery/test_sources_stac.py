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

"""Local-files source: multi-band scenes of another sensor with a cloud-mask file."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
import rasterio
from odc.geo.geobox import GeoBox

from pipeline.config import Imagery
from pipeline.errors import ImageryError
from pipeline.imagery.cube import load_cube
from pipeline.imagery.masks import mask_clouds
from pipeline.imagery.search import item_crs, search_items
from pipeline.imagery.sources.local import item_prefix

X0, Y1, N = 561000.0, 2932000.0, 8
GF1 = """sensor: GF1-WFV
pattern: "GF1_WFV_{date:%Y%m%d}.tif"
bands: [blue, green, red, nir]
scale: 0.0002
offset: -0.01
nodata: 0
mask: {file: "GF1_WFV_{date:%Y%m%d}_cloud.tif", classes: [1]}
"""


def _tif(path, data: np.ndarray, res: float = 16.0) -> None:
    profile = dict(driver="GTiff", width=N, height=N, count=len(data), dtype=data.dtype.name)
    profile.update(crs="EPSG:32650", transform=rasterio.Affine(res, 0, X0, 0, -res, Y1), nodata=0)
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(data)


def _folder(tmp_path):
    dn = np.stack([np.full((N, N), v, "uint16") for v in (250, 400, 300, 2000)])
    for day in ("20220301", "20220317"):
        _tif(tmp_path / f"GF1_WFV_{day}.tif", dn)
        cloud = np.zeros((1, N, N), "uint8")
        cloud[0, :2] = 1
        _tif(tmp_path / f"GF1_WFV_{day}_cloud.tif", cloud)
    (tmp_path / "GF1_WFV_notadate.tif").write_bytes(b"")  # ignored: no match
    (tmp_path / "scenes.yaml").write_text(GF1, encoding="utf-8")
    return Imagery(
        source="local", local={"path": tmp_path}, start=date(2022, 1, 1), end=date(2022, 12, 31)
    )


def test_local__multiband_sensor_is_scaled_masked_and_mapped(tmp_path):
    img = _folder(tmp_path)
    items = search_items(img, (117.0, 26.0, 118.0, 27.0))
    assert [it.id for it in items] == ["GF1-WFV_20220301", "GF1-WFV_20220317"]
    assert item_crs(items) == "EPSG:32650"
    geobox = GeoBox.from_bbox((X0, Y1 - 80, X0 + 80, Y1), crs="EPSG:32650", resolution=10)
    refl = mask_clouds(load_cube(items, img, geobox), img).compute()
    red = refl["red"].values
    assert np.isnan(red[:, 0]).all()  # the cloud-mask rows (16 m pixels -> 10 m rows 0..2)
    assert np.allclose(red[:, 5:], 300 * 0.0002 - 0.01, atol=1e-6)
    assert np.isnan(refl["swir16"].values).all()  # GF-1 WFV has no SWIR band


def test_item_prefix__a_sensor_name_with_spaces_makes_an_id_without():
    assert item_prefix("Sentinel-2 L2A") == "Sentinel-2-L2A"
    assert item_prefix("GF1-WFV") == "GF1-WFV"
    assert item_prefix(" 高分一号  WFV ") == "高分一号-WFV"


def test_local__no_scene_in_period_names_the_settings(tmp_path):
    img = _folder(tmp_path).model_copy(update={"start": date(2019, 1, 1), "end": date(2019, 2, 1)})
    with pytest.raises(ImageryError, match=r"imagery\.start/end"):
        search_items(img, (117.0, 26.0, 118.0, 27.0))


def test_local__year_folders_name_the_date_twice(tmp_path):
    """``{date:%Y}/…{date:%Y%m%d}…``: year folders are a common layout; a file filed in the
    wrong year's folder is not read."""
    dn = np.stack([np.full((N, N), v, "uint16") for v in (250, 400, 300, 2000)])
    for folder, day in (("2022", "20220301"), ("2022", "20220317"), ("2021", "20220401")):
        (tmp_path / folder).mkdir(exist_ok=True)
        _tif(tmp_path / folder / f"GF1_WFV_{day}.tif", dn)
    spec = GF1.replace('"GF1_WFV_{date:%Y%m%d}.tif"', '"{date:%Y}/GF1_WFV_{date:%Y%m%d}.tif"')
    (tmp_path / "scenes.yaml").write_text(spec.replace("mask:", "# mask:"), encoding="utf-8")
    img = Imagery(
        source="local", local={"path": tmp_path}, start=date(2022, 1, 1), end=date(2022, 12, 31)
    )
    items = search_items(img, (117.0, 26.0, 118.0, 27.0))
    assert [it.id for it in items] == ["GF1-WFV_20220301", "GF1-WFV_20220317"]


def test_local__pattern_without_a_full_date_is_refused(tmp_path):
    (tmp_path / "scenes.yaml").write_text(
        GF1.replace("{date:%Y%m%d}.tif", "{date:%Y}.tif"), encoding="utf-8"
    )
    img = Imagery(
        source="local", local={"path": tmp_path}, start=date(2022, 1, 1), end=date(2022, 12, 31)
    )
    with pytest.raises(ImageryError, match="year, month and day"):
        search_items(img, (117.0, 26.0, 118.0, 27.0))

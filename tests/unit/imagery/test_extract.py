from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely
from odc.geo.geobox import GeoBox

from pipeline.config import Evidence
from pipeline.imagery.cache import FetchReport, PieceCache
from pipeline.imagery.extract import extract_tile, extract_tiles, read_groups, union_geobox
from tests.synthetic import UTM, X0, Y0
from tests.unit.imagery.test_cube import IMG, GridSource, _scenes


def _part(dx: float, rows: list[int]):
    geobox = GeoBox.from_bbox((X0 + dx, Y0, X0 + dx + 300, Y0 + 200), crs=UTM, resolution=10)
    plots = gpd.GeoDataFrame(
        {"row": rows, "planting_year": [2021] * len(rows)},
        geometry=[shapely.box(X0 + dx + 35 + 90 * k, Y0 + 45, X0 + dx + 105 + 90 * k, Y0 + 155)
                  for k in range(len(rows))],
        crs=UTM,
    )  # fmt: skip
    return plots, geobox


def test_extract_tiles__one_shared_read_gives_each_tile_its_own_result():
    parts = [_part(0, [0, 1]), _part(300, [2]), _part(700, [3, 4])]
    source = GridSource()
    shared = extract_tiles(source, parts, _scenes(3), IMG, Evidence(), PieceCache(None),
                           FetchReport())  # fmt: skip
    assert source.reads == 3  # one read per date for all three tiles
    for (plots, geobox), got in zip(parts, shared, strict=True):
        alone = extract_tile(GridSource(), plots, _scenes(3), geobox, IMG, Evidence(),
                             PieceCache(None), FetchReport())  # fmt: skip
        pd.testing.assert_frame_equal(got.series, alone.series, check_exact=True)
        pd.testing.assert_frame_equal(got.pixels, alone.pixels, check_exact=True)
        assert got.n_dates == alone.n_dates == 3


def test_read_groups__a_far_tile_reads_on_its_own():
    near = [_part(0, [0])[1], _part(300, [1])[1]]
    far = _part(5000, [2])[1]
    assert read_groups(near + [far], max_pixels=10**6) == [[0, 1], [2]]
    assert read_groups(near, max_pixels=100) == [[0], [1]]
    assert union_geobox(near).shape == (20, 60)

"""Cloud-Optimized GeoTIFF assets and the static, self-contained STAC catalog."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pystac
import rasterio
import shapely
from pyproj import Transformer
from pystac.extensions.eo import Band, EOExtension
from pystac.extensions.projection import ProjectionExtension
from pystac.extensions.raster import DataType, RasterBand, RasterExtension
from pystac.layout import CustomLayoutStrategy
from shapely import affinity

from pipeline.demo.grid import CRS_UTM, Grid
from pipeline.demo.scenes import Scene
from pipeline.imagery import bands as s2

COLLECTION_ID = "sentinel-2-l2a-demo"
EPSG = 32650
_COG_OPTIONS = {"driver": "COG", "compress": "DEFLATE", "predictor": 2, "blocksize": 256}


def item_id(date: dt.date) -> str:
    """STAC item id of an acquisition date."""
    return f"S2_DEMO_{date:%Y%m%d}"


def _asset_grid(grid: Grid, res: int) -> tuple[tuple[int, int], list[float]]:
    k = res / grid.pixel
    shape = (int(grid.rows / k), int(grid.cols / k))
    t = [float(res), 0.0, grid.x0, 0.0, -float(res), grid.y_top]
    return shape, t


def write_cog(path: Path, data: np.ndarray, grid: Grid, res: int) -> None:
    """Write one band (uint16 or uint8, nodata 0) as a DEFLATE COG."""
    (rows, cols), t = _asset_grid(grid, res)
    profile = dict(
        width=cols,
        height=rows,
        count=1,
        dtype=data.dtype.name,
        crs=CRS_UTM,
        transform=rasterio.Affine(t[0], 0.0, t[2], 0.0, t[4], t[5]),
        nodata=0,
        **_COG_OPTIONS,
    )
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(data, 1)


def write_scene(stac_dir: Path, date: dt.date, scene: Scene, grid: Grid) -> dict[str, Path]:
    """Write the seven assets of one scene to stac/<item_id>/<band>.tif."""
    out = stac_dir / item_id(date)
    out.mkdir(parents=True, exist_ok=True)
    arrays = {
        "blue": scene.bands10[0],
        "green": scene.bands10[1],
        "red": scene.bands10[2],
        "nir": scene.bands10[3],
        "swir16": scene.bands20[0],
        "swir22": scene.bands20[1],
        "scl": scene.scl,
    }
    paths = {}
    for key, arr in arrays.items():
        paths[key] = out / f"{key}.tif"
        write_cog(paths[key], arr, grid, s2.BY_NAME[key].resolution_m)
    return paths


def _footprint(grid: Grid, edge: tuple[float, float, float] | None) -> shapely.Geometry:
    """Valid-data footprint in EPSG:4326 (lon, lat)."""
    geom = grid.box
    if edge is not None:
        a, b, c = edge
        # half-plane a*col + b*row <= c, as a big polygon in pixel space
        half = shapely.Polygon(_half_plane(a, b, c, 10 * (grid.rows + grid.cols)))
        px = affinity.affine_transform(half, [grid.pixel, 0, 0, -grid.pixel, grid.x0, grid.y_top])
        geom = geom.intersection(px)
    to_ll = Transformer.from_crs(CRS_UTM, "EPSG:4326", always_xy=True)
    return shapely.transform(geom.segmentize(500.0), to_ll.transform, interleaved=False)


def _half_plane(a: float, b: float, c: float, size: float) -> list[tuple[float, float]]:
    n = np.array([a, b])
    t = np.array([-b, a])
    base = c * n
    far = base - size * n
    return [tuple(p) for p in (base + size * t, base - size * t, far - size * t, far + size * t)]


def make_item(
    date: dt.date,
    cloud_cover: float,
    swath_edge: tuple[float, float, float] | None,
    paths: dict[str, Path],
    grid: Grid,
) -> pystac.Item:
    """STAC item with eo, projection and raster extensions for one written scene."""
    geom = _footprint(grid, swath_edge)
    when = dt.datetime(date.year, date.month, date.day, 3, 0, tzinfo=dt.UTC)
    item = pystac.Item(
        id=item_id(date),
        geometry=shapely.geometry.mapping(geom),
        bbox=list(geom.bounds),
        datetime=when,
        properties={
            "platform": "sentinel-2a",
            "constellation": "sentinel-2",
            "instruments": ["msi"],
            "s2:processing_baseline": "05.10",
            "earthsearch:boa_offset_applied": True,
        },
    )
    EOExtension.ext(item, add_if_missing=True).cloud_cover = cloud_cover
    proj = ProjectionExtension.ext(item, add_if_missing=True)
    proj.code = f"EPSG:{EPSG}"
    item.properties["proj:epsg"] = EPSG
    RasterExtension.add_to(item)
    for b in s2.BANDS:
        key, name, wavelength, res = b.name, b.s2_code, b.wavelength_um, b.resolution_m
        shape, transform = _asset_grid(grid, res)
        asset = pystac.Asset(
            href=str(Path(paths[key]).resolve()),
            media_type=pystac.MediaType.COG,
            roles=["data"],
            title=f"{name} ({key}, {res} m)",
        )
        item.add_asset(key, asset)
        aproj = ProjectionExtension.ext(asset)
        aproj.shape, aproj.transform = list(shape), transform
        is_scl = key == "scl"
        band = RasterBand.create(
            nodata=0,
            data_type=DataType.UINT8 if is_scl else DataType.UINT16,
            scale=None if is_scl else 0.0001,
            offset=None if is_scl else 0.0,
            spatial_resolution=float(res),
        )
        RasterExtension.ext(asset).bands = [band]
        if wavelength is not None:
            eo_band = Band.create(name=name, common_name=key, center_wavelength=wavelength)
            EOExtension.ext(asset).bands = [eo_band]
    return item


def write_catalog(stac_dir: Path, items: list[pystac.Item], grid: Grid) -> Path:
    """Save a self-contained catalog with one collection holding the items."""
    to_ll = Transformer.from_crs(CRS_UTM, "EPSG:4326", always_xy=True)
    bbox = list(to_ll.transform_bounds(*grid.bounds))
    times = [i.datetime for i in items]
    extent = pystac.Extent(
        pystac.SpatialExtent([bbox]), pystac.TemporalExtent([[min(times), max(times)]])
    )
    catalog = pystac.Catalog(
        id="tushu-demo", description="Synthetic Sentinel-2 L2A scenes of the Tushu demo world"
    )
    collection = pystac.Collection(
        id=COLLECTION_ID,
        description="Synthetic Sentinel-2 L2A (harmonised, BOA offset applied), EPSG:32650",
        extent=extent,
        license="CC-BY-4.0",
    )
    collection.add_items(items)
    catalog.add_child(collection)
    root = str(stac_dir.resolve())
    strategy = CustomLayoutStrategy(
        item_func=lambda item, _parent: f"{root}/{item.id}/{item.id}.json",
        collection_func=lambda col, _parent, _root: f"{root}/{col.id}/collection.json",
    )
    catalog.normalize_hrefs(root, strategy=strategy)
    catalog.make_all_asset_hrefs_relative()
    catalog.save(catalog_type=pystac.CatalogType.SELF_CONTAINED)
    return stac_dir / "catalog.json"

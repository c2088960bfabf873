"""Reading vector layers (plots and reference layers) from disk."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio

from pipeline.errors import PlotDataError


def read_layer(
    path: Path, layer: str | None = None, encoding: str | None = None
) -> gpd.GeoDataFrame:
    """Read one vector layer (GeoPackage, Shapefile, GeoJSON, ...) with every attribute.

    Raises :class:`PlotDataError` naming the file when it is missing, has several layers and
    none was chosen, or has no CRS.
    """
    path = Path(path)
    if not path.exists():
        raise PlotDataError(f"{path}: file not found; check the path in the config")
    if layer is None:
        try:
            layers = pyogrio.list_layers(path)
        except Exception as err:  # noqa: BLE001 - GDAL raises many kinds
            raise PlotDataError(f"{path}: cannot be opened as a vector file ({err})") from None
        if len(layers) > 1:
            names = ", ".join(str(n) for n in layers[:, 0])
            raise PlotDataError(
                f"{path} holds several layers ({names}); set `layer:` in the config to one of them"
            )
    kwargs = {"encoding": encoding} if encoding else {}
    try:
        gdf = gpd.read_file(path, layer=layer, engine="pyogrio", **kwargs)
    except Exception as err:  # noqa: BLE001
        raise PlotDataError(f"{path}: cannot read layer {layer!r} ({err})") from None
    if gdf.crs is None:
        raise PlotDataError(
            f"{path}: the layer has no coordinate reference system; add a .prj / CRS to the file"
        )
    return gdf


def file_checksum(path: Path) -> str:
    """SHA-256 of a file (of every file for a directory such as a FileGDB), hex."""
    import hashlib

    path = Path(path)
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        with open(f, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()

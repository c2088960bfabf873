"""Reading vector layers (plots and reference layers) from disk, in every format counties use.

Shapefile (also zipped), GeoPackage, GeoJSON, FileGDB (GDAL's OpenFileGDB), GeoParquet and any
other format GDAL reads. Layers are chosen by name (listed when ambiguous); shapefile encodings
are detected (:mod:`pipeline.plots.encoding`); the CRS comes from the file or from config and the
coordinates are checked against it (:mod:`pipeline.plots.crs_checks`). Rows keep file order.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely

from pipeline.errors import PlotDataError
from pipeline.plots.crs_checks import check_coordinates, diagnose, record_centres
from pipeline.plots.encoding import (
    RAW,
    EncodingChoice,
    check_explicit,
    decode_layer,
    detect_encoding,
    guess_encoding,
    is_shapefile,
)

PARQUET_SUFFIXES = (".parquet", ".geoparquet")


@dataclass
class ReadInfo:
    """What reading one file decided, for the ingest report and ``plan.json``."""

    path: str
    layer: str | None
    format: str
    encoding: str
    crs: str
    crs_source: str  # file | config | config (file said ...)
    n_records: int
    swapped_xy: bool = False
    had_z: int = 0
    out_of_crs: list[int] = field(default_factory=list)  # records whose coordinates do not fit
    warnings: list[str] = field(default_factory=list)  # repairs made while reading (field names)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def read_vector(
    path: Path,
    layer: str | None = None,
    encoding: str | None = None,
    crs: str | None = None,
    swap_xy: bool = False,
    key: str = "plots.",
) -> tuple[gpd.GeoDataFrame, ReadInfo]:
    """Read one layer with every attribute, in file order, with its CRS checked.

    ``key`` is the config prefix of this file's settings, used in the fixes that errors name.
    Raises :class:`PlotDataError` naming the file and the fix when the file is missing, the
    layer ambiguous or absent, the encoding unreadable, the CRS missing or not matching.
    """
    path = Path(path)
    if not path.exists():
        raise PlotDataError(f"{path}: file not found; check `{key}path` in the config")
    if path.suffix.lower() in PARQUET_SUFFIXES:
        gdf, fmt, enc = _read_parquet(path), "GeoParquet", EncodingChoice(None, "format")
        warnings = []
    else:
        layer = _choose_layer(path, layer, key)
        gdf, fmt, enc, warnings = _read_gdal(path, layer, encoding, key)
    gdf, crs_source = _assign_crs(gdf, path, crs, key)
    values = gdf.geometry.values
    had_z = int(np.sum(shapely.has_z(values)))
    if swap_xy:
        values = shapely.transform(shapely.force_2d(values), lambda c: c[:, ::-1])
        gdf = gdf.set_geometry(gpd.GeoSeries(values, index=gdf.index, crs=gdf.crs))
    bad = check_coordinates(np.asarray(values), gdf.crs, str(path), key)
    info = ReadInfo(
        path=str(path),
        layer=layer,
        format=fmt,
        encoding=enc.label(),
        crs=gdf.crs.to_string(),
        crs_source=crs_source,
        n_records=len(gdf),
        swapped_xy=swap_xy,
        had_z=had_z,
        out_of_crs=[int(i) for i in np.flatnonzero(bad)],
        warnings=warnings,
    )
    return gdf.reset_index(drop=True), info


def list_layer_names(path: Path) -> list[str]:
    """Names of the layers a file holds (several in a GeoPackage or FileGDB)."""
    if path.is_file() and path.stat().st_size == 0:
        raise PlotDataError(f"{path}: the file is empty (0 bytes); export the layer again")
    try:
        return [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    except Exception as err:  # noqa: BLE001 - GDAL raises many kinds
        why = str(err).split("; It might help")[0].replace(f"'{path}' ", "")
        raise PlotDataError(
            f"{path}: cannot be opened as a vector file ({why}); check the path and format"
        ) from None


def _choose_layer(path: Path, layer: str | None, key: str) -> str | None:
    listed = pyogrio.list_layers(path) if _openable(path) else None
    if listed is None:
        list_layer_names(path)  # raises with GDAL's message
    names = [str(n) for n in listed[:, 0]]
    if layer is not None:
        if layer not in names:
            raise PlotDataError(
                f"{path}: has no layer {layer!r} (it has: {', '.join(names)}); "
                f"set `{key}layer` to one of them"
            )
        return layer
    if len(names) <= 1:
        return names[0] if names else None
    spatial = [str(n) for n, g in listed if g is not None and "polygon" in str(g).lower()]
    if len(spatial) == 1:
        return spatial[0]
    raise PlotDataError(
        f"{path} holds several layers ({', '.join(names)}); set `{key}layer` to one of them"
    )


def _openable(path: Path) -> bool:
    try:
        pyogrio.list_layers(path)
        return True
    except Exception:  # noqa: BLE001
        return False


def _read_gdal(
    path: Path, layer: str | None, override: str | None, key: str
) -> tuple[gpd.GeoDataFrame, str, EncodingChoice, list[str]]:
    fmt = ("zipped " if path.suffix.lower() == ".zip" else "") + _format_name(path)
    if not is_shapefile(path):  # UTF-8 by definition of the format
        return _gdal_read(path, layer, {}), fmt, EncodingChoice(None, "format"), []
    if override:
        choices = [EncodingChoice(_codec(override, path, key), "config")]
    else:
        found = detect_encoding(path, layer)
        if found and _known_codec(found.encoding):
            choices = [found]
        else:
            choices = [EncodingChoice("UTF-8", "utf8-test"), EncodingChoice("GB18030", "fallback")]
    # Read the bytes as they are (GDAL recodes nothing) and decode them here: a wrong code
    # page is then an error naming the likely one, never garbled names read silently.
    raw = _gdal_read(path, layer, {"ENCODING": RAW})
    geom = raw.geometry.name
    names = [str(c) for c in raw.columns if c != geom]  # may repeat: a DBF allows that
    raw.columns = [*range(len(names)), geom] if raw.columns[-1] == geom else raw.columns
    texts = {i: raw[i].tolist() for i in range(len(names))
             if pd.api.types.is_string_dtype(raw[i].dtype)}  # fmt: skip
    blobs = list({v.encode(RAW) for vals in texts.values() for v in vals if isinstance(v, str)})
    likely = guess_encoding(blobs)
    hint = f"they look like {likely}: set `{key}encoding: {likely}`" if likely else (
        f"set `{key}encoding` to the file's encoding (e.g. GBK, BIG5, UTF-8)")  # fmt: skip
    for choice in choices:
        if choice.source == "config":
            wrong = check_explicit(blobs, choice.encoding)
            if wrong:
                raise PlotDataError(
                    f"{path}: `{key}encoding` is {choice.encoding}, but read as "
                    f"{choice.encoding} its attributes {wrong}; {hint}"
                    + (" or remove the setting" if likely else "")
                )
        try:
            dec = decode_layer(names, texts, choice)
        except UnicodeDecodeError as err:
            last = err
            continue
        for i, values in dec.values.items():
            raw[i] = values
        return raw.rename(columns=dict(enumerate(dec.columns))), fmt, choice, dec.warnings
    raise PlotDataError(
        f"{path}: attributes are not readable as {choices[-1].encoding} ({last}); {hint}"
    )


def _gdal_read(path: Path, layer: str | None, options: dict) -> gpd.GeoDataFrame:
    """Read a layer; a geometry GEOS cannot build (NaN coordinates, an unclosed ring) becomes
    a null geometry, so its record is kept and flagged (GEOMETRY_EMPTY) instead of failing."""
    try:
        return gpd.read_file(path, layer=layer, engine="pyogrio", on_invalid="ignore", **options)
    except Exception as err:  # noqa: BLE001 - GDAL raises many kinds
        raise PlotDataError(f"{path}: cannot read layer {layer!r} ({err})") from None


def _format_name(path: Path) -> str:
    if path.is_dir() and path.suffix.lower() == ".gdb":
        return "OpenFileGDB"
    if path.suffix.lower() == ".zip":
        return "ESRI Shapefile"
    try:
        return str(pyogrio.detect_write_driver(path))
    except Exception:  # noqa: BLE001 - unknown suffix
        return path.suffix.lstrip(".") or "GDAL"


def _known_codec(name: str | None) -> bool:
    try:
        codecs.lookup(name or "")
        return True
    except LookupError:
        return False


def _codec(name: str, path: Path, key: str) -> str:
    if not _known_codec(name):
        raise PlotDataError(
            f"{path}: unknown encoding {name!r} in `{key}encoding`; use e.g. GBK, GB18030, UTF-8"
        )
    return name


def _read_parquet(path: Path) -> gpd.GeoDataFrame:
    try:
        return gpd.read_parquet(path)
    except Exception as err:  # noqa: BLE001
        raise PlotDataError(f"{path}: cannot be read as GeoParquet ({err})") from None


def _assign_crs(
    gdf: gpd.GeoDataFrame, path: Path, crs: str | None, key: str
) -> tuple[gpd.GeoDataFrame, str]:
    if crs is not None:
        try:
            want = pyproj.CRS.from_user_input(crs)
        except pyproj.exceptions.CRSError as err:
            raise PlotDataError(f"{path}: `{key}crs` {crs!r} is not a CRS ({err})") from None
        if gdf.crs is None:
            return gdf.set_crs(want), "config"
        if pyproj.CRS(gdf.crs).equals(want):
            return gdf, "file"
        said = gdf.crs.to_string()
        return gdf.set_crs(want, allow_override=True), f"config (the file said {said})"
    if gdf.crs is None:
        x, y = record_centres(np.asarray(gdf.geometry.values))
        hint = ""
        if np.isfinite(x).any():
            mx, my = float(np.nanmedian(x)), float(np.nanmedian(y))
            cause, fix = diagnose(pyproj.CRS.from_epsg(4490), mx, my, key)
            looks = "they look like lon/lat" if abs(mx) <= 180 and abs(my) <= 90 else cause
            hint = f" (typical point x={mx:,.3f}, y={my:,.3f}; {looks})"
            if "degrees" in cause or abs(mx) <= 180:
                fix = f"set `{key}crs: EPSG:4490` if they are CGCS2000 lon/lat"
        else:
            fix = f"set `{key}crs:`"
        raise PlotDataError(
            f"{path}: the layer has no coordinate reference system (no .prj){hint}; "
            f"Tushu does not guess it. Fix: {fix}, or add a .prj to the file"
        )
    return gdf, "file"


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

"""Local-files source: a folder of GeoTIFF / COG scenes from any sensor, described by a YAML.

Example ``scenes.yaml`` (one 4-band file per scene, GF-1 WFV style)::

    sensor: GF-1 WFV
    pattern: "GF1_WFV_{date:%Y%m%d}.tif"
    bands: [blue, green, red, nir]      # band order in the file
    scale: 0.0001
    nodata: 0
    mask: {file: "GF1_WFV_{date:%Y%m%d}_cloud.tif", classes: [1, 2]}

or one file per band (Sentinel-2 style): ``pattern: "S2_{date:%Y%m%d}_{band}.tif"`` with
``bands: {blue: B02, ..., scl: SCL}`` (common name -> the ``{band}`` text) and
``mask: {band: scl}`` (no ``classes``: an SCL band, masked by ``imagery.scl_mask_classes``).
Scale / offset / nodata default to the files' own metadata. Bands a sensor lacks are NaN.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pystac
import rasterio
import yaml
from odc.geo.geobox import GeoBox
from pydantic import BaseModel, ConfigDict, ValidationError
from rasterio.warp import Resampling, reproject, transform_bounds

from pipeline.config import Imagery, RetryOptions
from pipeline.errors import ImageryError
from pipeline.imagery.bands import CUBE_BANDS, REFLECTANCE_BANDS
from pipeline.imagery.harmonize import Scaling, to_cube_dn
from pipeline.imagery.sources import fuse_first, intersects, no_scene_error

# SCL values standing in for a binary cloud mask: 9 = cloud (masked by default), 4 = clear.
_CLOUD, _CLEAR = 9, 4


def item_prefix(sensor: str) -> str:
    """The sensor name as the first part of a scene id: runs of anything but letters, digits,
    ``.`` and ``-`` become one ``-`` (``Sentinel-2 L2A`` -> ``Sentinel-2-L2A``), so ids hold no
    spaces (they are written to logs and run.json)."""
    return re.sub(r"[^\w.-]+", "-", sensor.strip()).strip("-") or "scene"


class MaskSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    band: str | None = None
    file: str | None = None
    classes: tuple[int, ...] | None = None


class SceneSpec(BaseModel):
    """The ``scenes.yaml`` of a local folder."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    sensor: str = "unknown"
    pattern: str
    bands: list[str] | dict[str, str]
    scale: float | None = None
    offset: float | None = None
    nodata: float | None = None
    crs: str | None = None
    mask: MaskSpec | None = None


def read_spec(path: Path) -> SceneSpec:
    """Validate a scenes YAML; errors name the file and the key."""
    if not path.is_file():
        raise ImageryError(f"{path} not found; set imagery.local.description (or add scenes.yaml)")
    try:
        return SceneSpec.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except ValidationError as err:
        keys = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
        raise ImageryError(f"{path}: {keys}") from None


def pattern_regex(pattern: str, band_texts: list[str] | None) -> re.Pattern:
    """Regex for a filename pattern with ``{date:<strftime>}`` fields (one or more, e.g. a
    year folder and a full date: ``{date:%Y}/S2_{date:%Y%m%d}_{band}.tif``) and optionally
    ``{band}``. The date fields become groups ``date0``, ``date1``, … in pattern order.

    Hand-written (a few lines) rather than a parsing dependency: only these two fields exist.
    """
    out, pos, n_dates = "", 0, 0
    for m in re.finditer(r"\{(date):([^}]+)\}|\{(band)\}", pattern):
        out += re.escape(pattern[pos : m.start()])
        if m.group(1):
            fmt = re.sub(r"%[Yy]", r"\\d{4}", re.escape(m.group(2)))
            fmt = re.sub(r"%[mdHMSj]", r"\\d{2,3}", fmt)
            out += f"(?P<date{n_dates}>{fmt})"
            n_dates += 1
        else:
            alts = "|".join(re.escape(b) for b in band_texts or [])
            out += f"(?P<band>{alts})"
        pos = m.end()
    return re.compile(out + re.escape(pattern[pos:]) + "$")


def date_formats(pattern: str) -> list[str]:
    """The strftime format of each ``{date:…}`` field of a scenes pattern, in order."""
    return re.findall(r"\{date:([^}]+)\}", pattern)


def parse_date(match: re.Match, formats: list[str]) -> date | None:
    """The date a file name matched by :func:`pattern_regex` names: read from the first field
    that gives year, month and day; None when another field disagrees with it (e.g. a file
    of 2023 filed in a 2022 folder)."""
    full = next(i for i, f in enumerate(formats) if _is_full_date(f))
    try:
        day = datetime.strptime(match.group(f"date{full}"), formats[full]).date()
    except ValueError:
        return None
    for i, fmt in enumerate(formats):
        if day.strftime(fmt) != match.group(f"date{i}"):
            return None
    return day


def _is_full_date(fmt: str) -> bool:
    return "%Y" in fmt and (("%m" in fmt and "%d" in fmt) or "%j" in fmt)


class LocalSource:
    """Scenes from files; each date becomes a STAC item whose assets are the files."""

    remote = False
    #: a window read gives the same pixels as a read of any larger window holding it
    window_invariant = True

    def __init__(self, imagery: Imagery, retry: RetryOptions | None = None):
        assert imagery.local is not None
        self.imagery = imagery
        self.retry = retry or RetryOptions()
        self.folder = Path(imagery.local.path)
        self.spec = read_spec(Path(imagery.local.description or self.folder / "scenes.yaml"))
        self.name = f"local:{self.folder.resolve()}"
        names = self.spec.bands if isinstance(self.spec.bands, list) else list(self.spec.bands)
        self.missing_bands = tuple(b for b in REFLECTANCE_BANDS if b not in names)
        self.date_formats = date_formats(self.spec.pattern)
        if not any(_is_full_date(f) for f in self.date_formats):
            raise ImageryError(
                f"{self.folder}: scenes pattern {self.spec.pattern!r} needs a date field with "
                "year, month and day, e.g. {date:%Y%m%d} (a year folder {date:%Y}/ may come too)"
            )

    def _band_texts(self) -> dict[str, str] | None:
        return self.spec.bands if isinstance(self.spec.bands, dict) else None

    def find_items(self, bbox_lonlat, start: date, end: date) -> list[pystac.Item]:
        per_band = self._band_texts()
        rx = pattern_regex(self.spec.pattern, list(per_band.values()) if per_band else None)
        scenes: dict[date, dict[str, Path]] = {}
        for path in sorted(self.folder.rglob("*")):
            m = rx.match(path.relative_to(self.folder).as_posix())
            if m is None:
                continue
            day = parse_date(m, self.date_formats)
            if day is not None and start <= day <= end:
                key = m.groupdict().get("band") or "data"
                scenes.setdefault(day, {})[key] = path
        items = [self._item(day, files) for day, files in sorted(scenes.items())]
        items = [it for it in items if intersects(it.bbox, bbox_lonlat)]
        if not items:
            raise no_scene_error(str(self.folder), bbox_lonlat, self.imagery)
        return items

    def _item(self, day: date, files: dict[str, Path]) -> pystac.Item:
        first = next(iter(files.values()))
        with rasterio.open(first) as ds:
            crs = self.spec.crs or ds.crs
            bbox = list(transform_bounds(crs, "EPSG:4326", *ds.bounds))
        when = datetime(day.year, day.month, day.day, tzinfo=UTC)
        geom = {
            "type": "Polygon",
            "coordinates": [[[bbox[0], bbox[1]], [bbox[2], bbox[1]], [bbox[2], bbox[3]],
                             [bbox[0], bbox[3]], [bbox[0], bbox[1]]]],
        }  # fmt: skip
        props = {"tushu:sensor": self.spec.sensor, "proj:code": str(crs)}
        item = pystac.Item(f"{item_prefix(self.spec.sensor)}_{day:%Y%m%d}", geom, bbox, when, props)
        for key, path in files.items():
            item.add_asset(key, pystac.Asset(href=str(path.resolve()), roles=["data"]))
        if self.spec.mask and self.spec.mask.file:
            mask = self.folder / _fill_date(self.spec.mask.file, day)
            if mask.is_file():
                item.add_asset("mask", pystac.Asset(href=str(mask.resolve()), roles=["cloud"]))
        return item

    def _locate(self, item: pystac.Item, band: str) -> tuple[str, int] | None:
        """(file, 1-based band index) holding a common band name, or None."""
        per_band = self._band_texts()
        if per_band is not None:
            text = per_band.get(band)
            asset = item.assets.get(text) if text else None
            return (asset.href, 1) if asset else None
        if band in self.spec.bands:
            return item.assets["data"].href, self.spec.bands.index(band) + 1
        return None

    def read_date(self, items: list[pystac.Item], geobox: GeoBox) -> np.ndarray:
        return fuse_first([self._read_item(it, geobox) for it in items])

    def _read_item(self, item: pystac.Item, geobox: GeoBox) -> np.ndarray:
        img = self.imagery
        cube = Scaling(img.scale, img.offset, None)
        out = np.full((len(CUBE_BANDS), *geobox.shape), np.nan, dtype="float32")
        for i, band in enumerate(REFLECTANCE_BANDS):
            where = self._locate(item, band)
            if where is not None:
                data, own = self._warp(*where, geobox, Resampling.bilinear)
                out[i] = to_cube_dn(data, own, cube)
        out[-1] = self._read_mask(item, geobox, out)
        return out

    def _warp(self, href: str, index: int, geobox: GeoBox, resampling: Resampling):
        with rasterio.open(href) as ds:
            nodata = self.spec.nodata if self.spec.nodata is not None else ds.nodata
            own = Scaling(
                self.spec.scale if self.spec.scale is not None else ds.scales[index - 1],
                self.spec.offset if self.spec.offset is not None else ds.offsets[index - 1],
                nodata,
            )
            dst = np.full(geobox.shape, np.nan, dtype="float32")
            reproject(
                rasterio.band(ds, index),
                dst,
                src_crs=self.spec.crs or ds.crs,
                src_nodata=nodata,
                dst_transform=geobox.affine,
                dst_crs=str(geobox.crs),
                dst_nodata=np.nan,
                resampling=resampling,
            )
        return dst, Scaling(own.scale, own.offset, None)

    def _read_mask(self, item: pystac.Item, geobox: GeoBox, bands: np.ndarray) -> np.ndarray:
        """SCL values (passed through) or a binary mask recoded as 9 (cloud) / 4 (clear)."""
        spec = self.spec.mask
        no_data = np.all(np.isnan(bands[:-1]), axis=0)
        if spec is None:
            return np.where(no_data, np.nan, _CLEAR).astype("float32")
        where = self._locate(item, spec.band) if spec.band else None
        if spec.file and "mask" in item.assets:
            where = (item.assets["mask"].href, 1)
        if where is None:
            return np.where(no_data, np.nan, _CLEAR).astype("float32")
        data, _ = self._warp(*where, geobox, Resampling.nearest)
        if spec.classes is None:
            return data
        coded = np.where(np.isin(data, spec.classes), _CLOUD, _CLEAR).astype("float32")
        coded[no_data] = np.nan
        return coded


def _fill_date(pattern: str, day: date) -> str:
    return re.sub(r"\{date:([^}]+)\}", lambda m: day.strftime(m.group(1)), pattern)

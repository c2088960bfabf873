"""Rendering for the stand-in server: Process API grids and Statistical API statistics,
computed from a demo world's COGs the way Tushu's evalscripts define them."""

from __future__ import annotations

import math
import re

import numpy as np
import rasterio
from rasterio.features import geometry_mask
from rasterio.transform import from_origin
from rasterio.warp import Resampling, reproject
from shapely.geometry import shape

from pipeline.imagery.bands import CUBE_BANDS, REFLECTANCE_BANDS
from pipeline.imagery.indices import INDICES, compute_index
from pipeline.imagery.masks import HAZE_RED_WEIGHT


def _crs(body_input: dict) -> str:
    url = body_input["bounds"].get("properties", {}).get("crs", "EPSG:4326")
    return f"EPSG:{url.rstrip('/').split('/')[-1]}" if "opengis" in url else url


def render_day(st, day: str, crs: str, transform, width: int, height: int, upsampling: str):
    """(8, height, width) uint16: 7 bands as DN + dataMask, mosaic of the day's items."""
    out = np.zeros((8, height, width), dtype="float64")
    for item in st.items_of_day(day):
        layer = np.zeros((7, height, width), dtype="float64")
        for i, band in enumerate(CUBE_BANDS):
            rs = Resampling.nearest
            if band != "scl" and upsampling == "BILINEAR":
                rs = Resampling.bilinear
            with rasterio.open(item.assets[band].href) as ds:
                reproject(
                    rasterio.band(ds, 1),
                    layer[i],
                    src_nodata=0,
                    dst_transform=transform,
                    dst_crs=crs,
                    dst_nodata=0,
                    resampling=rs,
                )
        valid = (layer[0] > 0) & (layer[6] > 0)
        fill = valid & (out[7] == 0)
        out[:7, fill] = layer[:, fill]
        out[7, fill] = 1
    return np.rint(out).astype("uint16")


def _grid_of_bbox(bbox, width: int, height: int):
    x0, y0, x1, y1 = bbox
    return from_origin(x0, y1, (x1 - x0) / width, (y1 - y0) / height)


def render_grid(st, body: dict):
    """Process API: the requested bbox / size / day as (8, h, w) and the GeoTIFF profile."""
    inp = body["input"]
    crs = _crs(inp)
    bbox = inp["bounds"]["bbox"]
    w, h = int(body["output"]["width"]), int(body["output"]["height"])
    data = inp["data"][0]
    day = data["dataFilter"]["timeRange"]["from"][:10]
    upsampling = data.get("processing", {}).get("upsampling", "NEAREST")
    transform = _grid_of_bbox(bbox, w, h)
    arr = render_day(st, day, crs, transform, w, h, upsampling)
    return arr, {"width": w, "height": h, "crs": crs, "transform": transform}


def _masks_from_evalscript(script: str) -> tuple[list[int], float | None]:
    m = re.search(r"\[([\d,\s]*)\]\.includes\(s\.SCL\)", script)
    classes = [int(v) for v in m.group(1).split(",") if v.strip()] if m else []
    h = re.search(r"0\.5 \* s\.B04\) > ([\d.eE+-]+)", script)
    return classes, float(h.group(1)) if h else None


def statistics_for(st, body: dict) -> dict:
    """Statistical API: daily mean / count of NDVI, NDMI, BSI over the geometry's pixels whose
    centre lies inside it, masked as the evalscript says (SCL classes, haze, dataMask)."""
    inp, agg = body["input"], body["aggregation"]
    crs = _crs(inp)
    geom = shape(inp["bounds"]["geometry"])
    res = float(agg.get("resx", 10))
    x0, y0, x1, y1 = geom.bounds
    x0, y0 = math.floor(x0 / res) * res, math.floor(y0 / res) * res
    x1, y1 = math.ceil(x1 / res) * res, math.ceil(y1 / res) * res
    w, h = int(round((x1 - x0) / res)), int(round((y1 - y0) / res))
    transform = from_origin(x0, y1, res, res)
    inside = geometry_mask([geom], (h, w), transform, invert=True)
    classes, haze = _masks_from_evalscript(agg.get("evalscript", ""))
    upsampling = inp["data"][0].get("processing", {}).get("upsampling", "NEAREST")
    t0, t1 = agg["timeRange"]["from"][:10], agg["timeRange"]["to"][:10]
    days = sorted({it.datetime.date().isoformat() for it in st.items.values()})
    out = []
    for day in (d for d in days if t0 <= d < t1):
        arr = _window(st, day, crs, res, upsampling, (x0, y1, w, h))
        refl = {b: arr[i] / 1e4 for i, b in enumerate(REFLECTANCE_BANDS)}
        ok = (arr[7] == 1) & ~np.isin(arr[len(REFLECTANCE_BANDS)], classes)
        if haze is not None:
            ok &= ~((refl["blue"] - HAZE_RED_WEIGHT * refl["red"]) > haze)
        sel = inside & ok
        indices = {i.name: compute_index(i, refl) for i in INDICES}
        n_total, n_ok = int(inside.sum()), int(sel.sum())
        bands = {}
        for name, values in indices.items():
            v = values[sel]
            bands[name] = {
                "stats": {
                    "min": float(v.min()) if n_ok else "NaN",
                    "max": float(v.max()) if n_ok else "NaN",
                    "mean": float(v.mean()) if n_ok else "NaN",
                    "stDev": float(v.std()) if n_ok else "NaN",
                    "sampleCount": n_total,
                    "noDataCount": n_total - n_ok,
                }
            }
        out.append(
            {
                "interval": {"from": f"{day}T00:00:00Z", "to": f"{day}T23:59:59Z"},
                "outputs": {"indices": {"bands": bands}},
            }
        )
    return {"data": out, "status": "OK"}


def _window(st, day: str, crs: str, res: float, upsampling: str, box) -> np.ndarray:
    """A window of the day rendered once over the whole world at ``res`` (memoised)."""
    key = (day, crs, res, upsampling)
    with st.lock:
        full = st.memo.get(key)
    if full is None:
        first = next(iter(st.items.values()))
        bx0, by0, bx1, by1 = first.assets["blue"].extra_fields.get("tushu:bounds") or _bounds(first)
        w, h = int(round((bx1 - bx0) / res)), int(round((by1 - by0) / res))
        full = (
            render_day(st, day, crs, from_origin(bx0, by1, res, res), w, h, upsampling),
            bx0,
            by1,
        )
        with st.lock:
            st.memo[key] = full
    arr, bx0, by1 = full
    x0, y1, w, h = box
    c, r = int(round((x0 - bx0) / res)), int(round((by1 - y1) / res))
    out = np.zeros((arr.shape[0], h, w), dtype="float64")
    src = arr[:, max(r, 0) : r + h, max(c, 0) : c + w].astype("float64")
    out[:, max(-r, 0) : max(-r, 0) + src.shape[1], max(-c, 0) : max(-c, 0) + src.shape[2]] = src
    return out


def _bounds(item) -> tuple[float, float, float, float]:
    with rasterio.open(item.assets["blue"].href) as ds:
        return tuple(ds.bounds)

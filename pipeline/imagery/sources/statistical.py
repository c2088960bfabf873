"""Sentinel Hub Statistical API mode: per-plot daily statistics, no rasters downloaded.

One request per plot (its polygon in the processing CRS, 10 m) asks for the daily mean of
NDVI, NDMI and BSI over the pixels that pass the same masks as the raster path (SCL classes,
nodata, haze test), and the count of those pixels. The answers become the same per-plot
series table the raster path writes. Per-pixel site-preparation evidence needs pixels, so in
this mode the site-preparation test of :mod:`pipeline.imagery.series` runs on each plot's mean
series as if the plot were one pixel, so ``planted_share`` is 0 or 1 (no partial planting).
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

import geopandas as gpd
import numpy as np
import pandas as pd
import pystac
import shapely

from pipeline.config import Evidence, Imagery, RetryOptions
from pipeline.imagery.bands import CLASS_BAND, S2_CODES
from pipeline.imagery.cache import FetchReport, PieceCache, cache_key
from pipeline.imagery.indices import EVALSCRIPT_ND, INDEX_NAMES, evalscript_bands, evalscript_terms
from pipeline.imagery.masks import HAZE_RED_WEIGHT
from pipeline.imagery.sources import FatalSourceError
from pipeline.imagery.sources.sentinelhub import (
    SentinelHubSource,
    call_service,
    data_collection,
    sh_config,
)

LOG = logging.getLogger(__name__)


def stats_evalscript(imagery: Imagery) -> str:
    """Indices (:mod:`pipeline.imagery.indices`) and a clear-pixel mask computed by the
    service (reflectance units), masked as :func:`pipeline.imagery.masks.mask_clouds` masks."""
    classes = ",".join(str(c) for c in imagery.scl_mask_classes)
    blue, red = S2_CODES["blue"], S2_CODES["red"]
    haze = (
        "false"
        if imagery.haze_max is None
        else f"(s.{blue} - {HAZE_RED_WEIGHT} * s.{red}) > {imagery.haze_max}"
    )
    inputs = ",".join(f'"{b}"' for b in dict.fromkeys([blue, red, *evalscript_bands()]))
    names = ",".join(f'"{n}"' for n in INDEX_NAMES)
    return f"""//VERSION=3
function setup() {{
  return {{input: [{{bands: [{inputs},"{S2_CODES[CLASS_BAND]}","dataMask"]}}],
          output: [{{id: "indices", bands: [{names}], sampleType: "FLOAT32"}},
                   {{id: "dataMask", bands: 1}}]}};
}}
{EVALSCRIPT_ND}
function evaluatePixel(s) {{
  var cloud = [{classes}].includes(s.{S2_CODES[CLASS_BAND]});
  var hazy = {haze};
  var ok = s.dataMask == 1 && !cloud && !hazy;
  return {{indices: {evalscript_terms()},
          dataMask: [ok ? 1 : 0]}};
}}
"""


def parse_statistics(response: dict) -> np.ndarray:
    """Statistical API JSON -> float64 (dates, 5): day number, ndvi, ndmi, bsi, clear share."""
    rows = []
    for entry in response.get("data", []):
        day = datetime.fromisoformat(entry["interval"]["from"].replace("Z", "+00:00")).date()
        bands = entry["outputs"]["indices"]["bands"]
        stats = [bands[f"{n}"]["stats"] for n in INDEX_NAMES]
        total = float(stats[0]["sampleCount"])
        clear = total - float(stats[0]["noDataCount"])
        means = [
            float(s["mean"]) if clear > 0 and s.get("mean") not in (None, "NaN") else np.nan
            for s in stats
        ]
        rows.append([(day - date(1970, 1, 1)).days, *means, clear / total if total else 0.0])
    return np.array(rows, dtype="float64").reshape(-1, 5)


def fetch_plot(geom, crs_epsg: int, imagery: Imagery) -> np.ndarray:
    """One plot's daily statistics over the run's period (see :func:`parse_statistics`)."""
    from sentinelhub import CRS, Geometry, SentinelHubStatistical

    end = datetime.combine(imagery.end, datetime.min.time()) + timedelta(days=1)
    request = SentinelHubStatistical(
        aggregation=SentinelHubStatistical.aggregation(
            evalscript=stats_evalscript(imagery),
            time_interval=(datetime.combine(imagery.start, datetime.min.time()), end),
            aggregation_interval="P1D",
            resolution=(imagery.resolution, imagery.resolution),
        ),
        input_data=[
            SentinelHubStatistical.input_data(
                data_collection(imagery), upsampling=imagery.sentinelhub.upsampling
            )
        ],
        geometry=Geometry(geom, crs=CRS(crs_epsg)),
        config=sh_config(imagery),
    )
    return parse_statistics(call_service(request.get_data)[0])


def source_name(imagery: Imagery) -> str:
    """The source's name in cache keys (the endpoint; never credentials)."""
    return f"sh-statistical:{imagery.sentinelhub.base_url}"


class StatisticalSource:
    """Scenes from the Catalog API; per-plot daily statistics from the Statistical API."""

    remote = True

    def __init__(self, imagery: Imagery, retry: RetryOptions | None = None):
        self.imagery = imagery
        self._catalog = SentinelHubSource(imagery, retry)
        self.name = source_name(imagery)

    def find_items(self, bbox_lonlat, start: date, end: date) -> list[pystac.Item]:
        return self._catalog.find_items(bbox_lonlat, start, end)

    def read_series(self, plots, items, cache, report, prep):
        return plot_statistics(plots, items, self.imagery, cache, report, prep)


def plot_statistics(
    plots: gpd.GeoDataFrame,
    items: list[pystac.Item],
    imagery: Imagery,
    cache: PieceCache,
    report: FetchReport,
    ev: Evidence,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Series (row, date, ndvi, ndmi, bsi, clear_share) and pixel table for one tile's plots."""
    from pipeline.imagery.search import item_crs

    crs = imagery.crs or item_crs(items)
    geoms = plots.geometry.to_crs(crs)
    epsg = int(str(crs).split(":")[-1])
    frames = []
    for row, geom in zip(plots["row"].to_numpy(), geoms, strict=True):
        if geom is None or geom.is_empty:
            continue
        key = cache_key(
            source_name(imagery),
            {"wkb": shapely.to_wkb(geom, hex=True), "crs": crs},
            f"{imagery.start}/{imagery.end}",
            INDEX_NAMES,
            stats_evalscript(imagery),
        )
        arr = cache.get(key)
        if arr is None:
            try:
                arr = fetch_plot(geom, epsg, imagery)
            except FatalSourceError:
                raise
            except Exception as err:  # noqa: BLE001 - one plot fails: logged, left without data
                LOG.warning("statistics of plot row %s could not be fetched: %s", row, err)
                report.skipped[f"row {row}"] = f"{type(err).__name__}: {err}"[:500]
                continue
            cache.put(key, arr)
            report.fetched.append(f"row {row}")
        else:
            report.cached.append(f"row {row}")
        dates = np.datetime64("1970-01-01") + arr[:, 0].astype("timedelta64[D]")
        frames.append(
            pd.DataFrame(
                {
                    "row": row,
                    "date": dates.astype("datetime64[ns]"),
                    **{n: arr[:, i + 1].astype("float32") for i, n in enumerate(INDEX_NAMES)},
                    "clear_share": arr[:, 4].astype("float32"),
                }
            )
        )
    cols = ["row", "date", *INDEX_NAMES, "clear_share"]
    series = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
    pixels = plot_level_shares(series, plots, ev)
    return series, pixels


def plot_level_shares(series: pd.DataFrame, plots: gpd.GeoDataFrame, ev: Evidence) -> pd.DataFrame:
    """Per plot (row, n_pixels, data_share, planted_share) from its mean series: the per-pixel
    site-preparation accumulator of the raster path, fed with one "pixel" per plot."""
    from pipeline.imagery.series import PrepAccumulator, planted_shares, prep_windows, update_prep
    from pipeline.imagery.zonal import CoverageWeights

    rows = plots["row"].to_numpy()
    n = len(rows)
    years = plots["planting_year"].fillna(0).to_numpy(dtype=int)
    start, end = prep_windows(years, ev)
    acc = PrepAccumulator.empty(n)
    clear = series[series["clear_share"] >= ev.min_clear_share]
    ndvi = clear.pivot_table(index="date", columns="row", values="ndvi").reindex(columns=rows)
    bsi = clear.pivot_table(index="date", columns="row", values="bsi").reindex(columns=rows)
    for day in ndvi.index.sort_values():
        d = np.datetime64(day, "D")
        nd, bs = ndvi.loc[day].to_numpy(float), bsi.loc[day].to_numpy(float)
        update_prep(acc, d, nd, bs, start, end, ev.winter_months)
    one = np.arange(n)
    weights = CoverageWeights(one, one, np.ones(n), n, (1, max(n, 1)))
    pixels = planted_shares(acc, weights, ev)
    pixels.insert(0, "row", rows)
    return pixels

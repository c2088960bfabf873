"""Peak memory of one tile's series extraction as the number of dates grows.

Each size runs in a fresh process; the cube is lazy (dask, seeded random DN values), so only
``date_chunk`` dates are in memory at once. Part of ``python -m bench`` (``--only memory``).
"""

from __future__ import annotations

import json
import subprocess
import sys

CHILD = r"""
import resource, sys, time
import dask, dask.array as da, geopandas as gpd, numpy as np, pandas as pd, shapely, xarray as xr
from datetime import date
from odc.geo.geobox import GeoBox
from pipeline.config import Evidence, Imagery
from pipeline.imagery.series import extract_series
from pipeline.imagery.zonal import coverage_weights

n_dates, side, n_plots = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
x0, y0 = 560000.0, 2930000.0
times = pd.date_range("2021-01-01", periods=n_dates, freq="5D")
def band(seed, lo, hi):
    rs = da.random.RandomState(seed)
    return rs.randint(lo, hi, size=(n_dates, side, side), chunks=(12, side, side)).astype("uint16")
coords = {"time": times, "y": y0 + side * 10 - 10 * (np.arange(side) + 0.5),
          "x": x0 + 10 * (np.arange(side) + 0.5)}
dims = ("time", "y", "x")
raw = xr.Dataset({"blue": (dims, band(1, 200, 400)), "green": (dims, band(2, 500, 800)),
                  "red": (dims, band(3, 300, 600)), "nir": (dims, band(4, 2500, 4000)),
                  "swir16": (dims, band(5, 1500, 2000)), "swir22": (dims, band(6, 800, 1000)),
                  "scl": (dims, band(7, 4, 5).astype("uint8"))}, coords=coords)
rng = np.random.default_rng(0)
geoms = [shapely.box(x0 + x, y0 + y, x0 + x + 90, y0 + y + 70)
         for x, y in rng.uniform(50, side * 10 - 150, (n_plots, 2))]
geobox = GeoBox.from_bbox((x0, y0, x0 + side * 10, y0 + side * 10), crs="EPSG:32650",
                          resolution=10)
w = coverage_weights(gpd.GeoSeries(geoms, crs="EPSG:32650"), geobox)
img = Imagery(catalog="x", start=date(2021, 1, 1), end=date(2030, 1, 1))
t0 = time.perf_counter()
with dask.config.set(scheduler="threads", num_workers=1):
    series, pixels = extract_series(raw, w, np.arange(n_plots), np.full(n_plots, 2022), img,
                                    Evidence(), 12)
elapsed = time.perf_counter() - t0
# VmHWM: this process's own peak (ru_maxrss would carry the parent's across fork + exec)
rss = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")][0] / 1024
import json
print(json.dumps({"dates": n_dates, "tile_px": f"{side}x{side}", "plots": n_plots,
                  "seconds": round(elapsed, 2), "peak_rss_mb": round(rss), "rows": len(series)}))
"""


def run(sizes: list[tuple[int, int, int]] | None = None) -> list[dict]:
    """Seconds and peak RSS per (dates, tile side in pixels, plots); date_chunk 12."""
    default = [(60, 256, 300), (240, 256, 300), (960, 256, 300), (120, 1024, 300),
               (120, 1024, 5000)]  # fmt: skip
    rows = []
    for n, side, plots in sizes or default:
        out = subprocess.run([sys.executable, "-c", CHILD, str(n), str(side), str(plots)],
                             capture_output=True, text=True, check=True)  # fmt: skip
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return rows


if __name__ == "__main__":
    for row in run([(int(a), 256, 300) for a in sys.argv[1:]] or None):
        print(row)

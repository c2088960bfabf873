"""The plot page's evidence: series chart, image chips, rule trace, model output, map layers.

Charts, chips and traces come from :mod:`pipeline.results`; this module turns them into what a
browser loads (PNG bytes, a chip index, GeoJSON) and caches drawn images under
``RunLayout.review_cache/<row>/`` so a plot's imagery is read once.
"""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path

import geopandas as gpd
import pandas as pd

from pipeline.errors import TushuError
from pipeline.files import write_atomic, write_json
from pipeline.results import Run
from pipeline.review.review_run import MAP_CRS, ReviewRun

NEIGHBOUR_M = 300.0
"""Plots within this distance (metres) of the reviewed plot are drawn on its map."""
_locks: dict[int, threading.Lock] = {}


def chart_png(run: Run, row: int) -> bytes:
    """The plot's index series (clear and cloudy points, peer band, windows) as PNG, drawn
    once and kept in the review cache."""
    path = chip_dir(run, row) / "series.png"
    if path.is_file():
        return path.read_bytes()
    png = draw_chart_png(run, row)
    write_atomic(path, lambda p: p.write_bytes(png))
    return png


def warm_up() -> None:
    """Load matplotlib (Agg) and its font list once, at start-up rather than on a first page."""
    import matplotlib

    matplotlib.use("Agg")
    from pipeline.results.charts import use_cjk_font

    use_cjk_font()


def draw_chart_png(run: Run, row: int) -> bytes:
    """The plot's index series (clear and cloudy points, peer band, windows) as PNG."""
    import matplotlib.pyplot as plt

    warm_up()
    fig = run.plot(int(row))
    try:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=90)
        return buf.getvalue()
    finally:
        plt.close(fig)


def trace_table(run: Run, row: int) -> tuple[pd.DataFrame | None, str]:
    """The plot's rule trace (code, metric, value, op, threshold, fired) or why there is none."""
    try:
        return run.trace(int(row)), ""
    except TushuError as err:
        return None, str(err)


def model_outputs(plot: pd.Series) -> dict[str, object]:
    """The model's probabilities on this plot (columns named ``prob_*`` / ``model_*``)."""
    return {
        k: v
        for k, v in plot.items()
        if isinstance(k, str) and k.startswith(("prob_", "model_", "probability")) and pd.notna(v)
    }


def chip_dir(run: Run, row: int) -> Path:
    return run.layout.review_cache / str(int(row))


def chip_index(run: Run, row: int) -> list[dict]:
    """The plot's chips, drawn on first use: ``file`` (name under :func:`chip_dir`), date,
    item id(s), kind, role, cloud state. Drawing reads the run's imagery (source + cache)."""
    folder = chip_dir(run, row)
    index = folder / "chips.json"
    lock = _locks.setdefault(int(row), threading.Lock())
    with lock:
        if index.is_file():
            return json.loads(index.read_text(encoding="utf-8"))
        entries = []
        for i, chip in enumerate(run.chips(int(row))):
            name = f"{i:02d}-{chip.role}-{chip.kind}-{chip.date:%Y%m%d}.png"
            write_atomic(folder / name, lambda p, c=chip: p.write_bytes(c.png()))
            entries.append(
                {
                    "file": name,
                    "date": f"{chip.date:%Y-%m-%d}",
                    "item_id": chip.item_id,
                    "kind": chip.kind,
                    "role": chip.role,
                    "cloud": chip.cloud,
                    "clear_share": None if pd.isna(chip.clear_share) else chip.clear_share,
                }
            )
        write_json(index, entries)
        return entries


def basemap(run: Run, row: int) -> tuple[Path, list[list[float]]] | None:
    """The offline basemap around a plot: a true-colour image of its whole imagery tile on the
    clearest date after planting (else any), from the run's own imagery, and its
    [[south, west], [north, east]] bounds in degrees. Made once per tile; ``None`` when the
    plot has no tile or no imagery. (Drawn as an image overlay: north-up in the tile's CRS.)"""
    from odc.geo.geobox import GeoBox

    from pipeline.workflow.contracts import read_plan

    tile = run.plots.loc[int(row)].get("tile")
    if not isinstance(tile, str) or not tile:
        return None
    folder = run.layout.review_cache / "basemap"
    image, meta = folder / f"{tile}.png", folder / f"{tile}.json"
    if meta.is_file():
        return image, json.loads(meta.read_text(encoding="utf-8"))
    plan = read_plan(run.layout.plan)
    bbox = plan.tile(tile).bbox
    geobox = GeoBox.from_bbox(bbox, crs=plan.crs, resolution=run.settings.imagery.resolution)
    # a margin as wide as the tile: the chip window is then the whole tile
    span = max(bbox[2] - bbox[0], bbox[3] - bbox[1])
    chips = run.chips(int(row), kinds=("true",), n_strip=1, margin_m=span, upscale=1)
    if not chips:
        return None
    chip = next((c for c in chips if c.role == "after"), chips[0])
    write_atomic(image, lambda p: p.write_bytes(chip.png()))
    box = gpd.GeoSeries([geobox.extent.geom], crs=plan.crs).to_crs(MAP_CRS).total_bounds
    bounds = [[float(box[1]), float(box[0])], [float(box[3]), float(box[2])]]
    write_json(meta, bounds)
    return image, bounds


def map_layers(review: ReviewRun, row: int) -> dict:
    """GeoJSON (EPSG:4326) of the plot, its neighbours within :data:`NEIGHBOUR_M` (overlapping
    plots marked) and the prior years' plots near it; properties are plain values."""
    metric = review.plots_metric
    geom = metric.geometry.loc[int(row)]
    if geom is None or geom.is_empty:
        return {"type": "FeatureCollection", "features": []}
    zone = geom.buffer(NEIGHBOUR_M)
    near = metric.index[metric.sindex.query(zone, predicate="intersects")]
    shown = review.plots_map.loc[near]
    features = []
    for r, p in shown.iterrows():
        if p.geometry is None or p.geometry.is_empty:
            continue
        kind = "plot" if r == int(row) else "neighbour"
        if kind == "neighbour" and metric.geometry.loc[r].intersects(geom):
            kind = "overlap"
        features.append(_feature(p.geometry, kind, row=int(r), plot_id=str(p["plot_id"]),
                                 status=str(p["status"])))  # fmt: skip
    prior = review.prior
    if len(prior):
        zone_map = gpd.GeoSeries([zone], crs=metric.crs).to_crs(MAP_CRS).iloc[0]
        for _, p in prior.iloc[prior.sindex.query(zone_map, predicate="intersects")].iterrows():
            year = None if pd.isna(p["year"]) else str(p["year"])
            features.append(_feature(p.geometry, "prior", plot_id=p["id"], year=year,
                                     layer=p["layer"]))  # fmt: skip
    return {"type": "FeatureCollection", "features": features}


def _feature(geom, kind: str, **props: object) -> dict:
    return {
        "type": "Feature",
        "geometry": geom.__geo_interface__,
        "properties": {"kind": kind, **props},
    }

"""Image chips of one plot from the run's own imagery: true and false colour, the same season
before and after planting, and a strip of dates with their cloud state, the plot outline drawn.

Reading goes through the run's configured source and cache on the plot's tile grid (the grid the
tile step used, so cached pieces are reused). Choosing dates, composing colours and drawing the
outline are pure functions on arrays, reused by the reports and the review app.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw

from pipeline.config import Evidence, Settings
from pipeline.errors import TushuError
from pipeline.imagery.bands import CUBE_BANDS
from pipeline.layout import RunLayout
from pipeline.results.series import Windows
from pipeline.results.stored import Grid

if TYPE_CHECKING:
    import geopandas as gpd
    from shapely.geometry.base import BaseGeometry

#: Bands shown as (R, G, B) and the reflectance mapped to white.
COMPOSITES = {"true": (("red", "green", "blue"), 0.25), "false": (("nir", "red", "green"), 0.45)}
OUTLINE = (255, 235, 59)


@dataclass(frozen=True)
class Chip:
    """One image chip: ``rgb`` is (y, x, 3) uint8, north up, the plot outline drawn."""

    date: pd.Timestamp
    item_id: str  # the scene id(s) of the date, ';'-joined
    kind: str  # "true" | "false" colour
    role: str  # "before" | "after" (same season around planting) | "strip"
    cloud: str  # "clear" | "partly cloudy" | "cloudy" | "no data" over the plot
    clear_share: float
    rgb: np.ndarray = field(repr=False)

    def png(self) -> bytes:
        """The chip as PNG bytes."""
        return encode_png(self.rgb)


def encode_png(rgb: np.ndarray) -> bytes:
    """PNG bytes of a (y, x, 3) uint8 array."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def cloud_state(clear_share: float, ev: Evidence) -> str:
    """Cloud state over the plot from its clear share: clear (≥ ``min_clear_share``), partly
    cloudy (> 0), cloudy (0) or no data (NaN)."""
    if clear_share is None or not np.isfinite(clear_share):
        return "no data"
    if clear_share >= ev.min_clear_share:
        return "clear"
    return "partly cloudy" if clear_share > 0 else "cloudy"


def pick_pair(
    clear: pd.Series, windows: Windows, ev: Evidence, max_days_apart: int = 45
) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The clearest pair of dates in the same season: one in the baseline (before site
    preparation), one after the preparation window, whose days of the year differ by at most
    ``max_days_apart``. ``clear``: clear share indexed by date. None if no pair qualifies."""
    if windows.planting_year is None:
        return None
    ok = clear[clear >= ev.min_clear_share]
    before = ok[ok.index < windows.baseline_end]
    after = ok[ok.index >= windows.prep_end]
    if before.empty or after.empty:
        return None
    gap = np.abs(before.index.day_of_year.to_numpy()[:, None] - after.index.day_of_year.to_numpy())
    share = np.minimum(before.to_numpy()[:, None], after.to_numpy()[None, :])
    share = np.where(np.minimum(gap, 365 - gap) <= max_days_apart, share, -np.inf)
    i, j = np.unravel_index(np.argmax(share), share.shape)  # the first best, before by after
    return (before.index[i], after.index[j]) if share[i, j] > -1.0 else None


def pick_strip(dates: pd.DatetimeIndex, n: int) -> list[pd.Timestamp]:
    """``n`` dates spread evenly over ``dates`` (all of them when there are fewer)."""
    if len(dates) <= n:
        return list(dates)
    idx = np.unique(np.linspace(0, len(dates) - 1, n).round().astype(int))
    return [dates[i] for i in idx]


def compose_rgb(bands: dict[str, np.ndarray], kind: str) -> np.ndarray:
    """(y, x, 3) uint8 from reflectance bands: ``kind`` "true" (red, green, blue) or "false"
    (nir, red, green), linear up to the composite's white point; NaN shows black."""
    names, white = COMPOSITES[kind]
    stack = np.stack([bands[n] for n in names], axis=-1) / white
    return (np.clip(np.nan_to_num(stack, nan=0.0), 0, 1) ** 0.8 * 255).astype(np.uint8)


def draw_outline(rgb: np.ndarray, rings: list[np.ndarray], upscale: int = 4) -> np.ndarray:
    """The chip enlarged ``upscale`` times (nearest) with polygon ``rings`` drawn on it;
    ring coordinates are (x, y) in chip pixel units (0, 0 = the top-left corner)."""
    img = Image.fromarray(rgb).resize(
        (rgb.shape[1] * upscale, rgb.shape[0] * upscale), Image.Resampling.NEAREST
    )
    draw = ImageDraw.Draw(img)
    for ring in rings:
        draw.line([tuple(p) for p in ring * upscale], fill=OUTLINE, width=max(1, upscale // 2))
    return np.asarray(img)


def pixel_rings(geom: BaseGeometry, inverse_affine, col0: int, row0: int) -> list[np.ndarray]:
    """The polygon's rings in chip pixel coordinates (``inverse_affine``: the grid's ~affine;
    the chip starts at grid column ``col0``, row ``row0``)."""
    rings = []
    for poly in getattr(geom, "geoms", [geom]):
        for ring in (poly.exterior, *poly.interiors):
            xy = np.asarray(ring.coords)[:, :2]
            cols, rows = inverse_affine @ (xy[:, 0], xy[:, 1])
            rings.append(np.column_stack([np.asarray(cols) - col0, np.asarray(rows) - row0]))
    return rings


def read_chips(
    layout: RunLayout,
    settings: Settings,
    grid: Grid,
    plot: gpd.GeoDataFrame,
    clear: pd.Series,
    windows: Windows,
    kinds: tuple[str, ...] = ("true", "false"),
    n_strip: int = 6,
    margin_m: float = 60.0,
    upscale: int = 4,
    items: list | None = None,
    memory: dict | None = None,
    max_bytes: int | None = None,
) -> list[Chip]:
    """Chips of one plot (``plot``: its one-row result table, with ``tile``): the before/after
    pair (each kind) then a strip of ``n_strip`` dates (true colour), read through the run's
    source and cache on the plot's tile grid. ``clear``: the plot's clear share by date;
    ``windows``: its judgement windows. Empty for a plot without a geometry. For many plots:
    ``items``, the run's STAC items parsed once; ``memory``, a dict shared across calls that
    keeps the dates read, so the plots of one tile read each date once (up to ``max_bytes``)."""
    import pystac
    from odc.geo.geobox import GeoBox

    from pipeline.imagery.cache import MemoryCache
    from pipeline.imagery.cube import FetchReport, fetch_date, group_by_day, resolve_cache
    from pipeline.imagery.sources import open_source

    if plot.geometry.iloc[0] is None or plot.geometry.iloc[0].is_empty:
        return []
    ev, imagery = settings.evidence, settings.imagery
    source = open_source(imagery, settings.run.retry)
    if not hasattr(source, "read_date"):
        raise TushuError(
            f"imagery.source {imagery.source!r} returns per-plot statistics, not pixels, so it "
            "has no image chips; configure a pixel source (stac, sentinelhub, local) to see them"
        )
    geobox = GeoBox.from_bbox(
        grid.tiles[plot["tile"].iloc[0]], crs=grid.crs, resolution=imagery.resolution
    )
    if items is None:
        items = [pystac.Item.from_dict(d) for d in json.loads(layout.items.read_text("utf-8"))]
    days = group_by_day(items)
    cache = resolve_cache(settings.run, source, layout.root, items)
    if memory is not None:
        cache = MemoryCache(cache, memory, max_bytes=max_bytes)
    geom = plot.to_crs(grid.crs).geometry.iloc[0]
    inv = ~geobox.affine
    x0, y0, x1, y1 = geom.buffer(margin_m).bounds
    c0, r0 = inv @ (x0, y1)
    c1, r1 = inv @ (x1, y0)
    h, w = geobox.shape
    c0, r0 = max(int(np.floor(c0)), 0), max(int(np.floor(r0)), 0)
    c1, r1 = min(int(np.ceil(c1)), w), min(int(np.ceil(r1)), h)
    rings = pixel_rings(geom, inv, c0, r0)
    clear = clear.set_axis(pd.DatetimeIndex(clear.index).normalize())

    def chips_of(day: pd.Timestamp, role: str, chip_kinds: tuple[str, ...]) -> list[Chip]:
        key = day.date().isoformat()
        its = days.get(key, [])
        arr = fetch_date(source, its, geobox, imagery, cache, FetchReport(), key,
                         settings.run.retry)[:, r0:r1, c0:c1]  # fmt: skip
        refl = {b: arr[i] * imagery.scale + imagery.offset for i, b in enumerate(CUBE_BANDS)}
        share = float(clear.get(day, np.nan))
        state = cloud_state(share, ev) if np.isfinite(arr[:4]).any() else "no data"
        ids = ";".join(it.id for it in its)
        return [
            Chip(
                day, ids, k, role, state, share, draw_outline(compose_rgb(refl, k), rings, upscale)
            )  # fmt: skip
            for k in chip_kinds
        ]

    out: list[Chip] = []
    pair = pick_pair(clear, windows, ev)
    if pair is not None:
        for day, role in zip(pair, ("before", "after"), strict=True):
            out += chips_of(day, role, kinds)
    for day in pick_strip(pd.DatetimeIndex(clear.index), n_strip):
        out += chips_of(day, "strip", kinds[:1])
    return out


def draw_chips(chips: list[Chip], ncols: int = 6, size: float = 1.9):
    """A matplotlib figure of ``chips``, each titled with its date, kind / role and cloud state."""
    import matplotlib.pyplot as plt

    n = max(len(chips), 1)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.3),
                             squeeze=False, layout="constrained")  # fmt: skip
    for ax in axes.flat:
        ax.axis("off")
    for ax, chip in zip(axes.flat, chips, strict=False):
        ax.imshow(chip.rgb)
        ax.set_title(f"{chip.date:%Y-%m-%d} {chip.role}/{chip.kind}\n{chip.cloud}", fontsize=7)
    return fig


def draw_backdrop(
    layout: RunLayout, settings: Settings, grid: Grid, series, plots, items: list, ax
) -> list[str]:
    """Each tile's clearest recent scene in true colour on ``ax``, in the grid's CRS (draw the
    plots over it in ``grid.crs``), read through the run's source and cache. ``series``: the
    run's series Dataset (``clear_share`` by plot and date); ``plots``: the result table
    indexed by row, with ``tile``. Returns the dates drawn (none for a statistics source)."""
    from odc.geo.geobox import GeoBox

    from pipeline.imagery.cube import FetchReport, fetch_date, group_by_day, resolve_cache
    from pipeline.imagery.sources import open_source

    imagery = settings.imagery
    source = open_source(imagery, settings.run.retry)
    if not hasattr(source, "read_date"):
        return []
    days = group_by_day(items)
    cache = resolve_cache(settings.run, source, layout.root, items)
    clear = series["clear_share"]
    drawn = []
    for tile_id, bbox in grid.tiles.items():
        rows = [r for r in plots.index[plots["tile"] == tile_id] if r in clear["plot"]]
        share = clear.sel(plot=rows).mean("plot").to_series().dropna() if rows else pd.Series()
        if share.empty:
            continue
        day = pd.Timestamp(share[share >= share.max() - 0.05].index.max()).date().isoformat()
        geobox = GeoBox.from_bbox(bbox, crs=grid.crs, resolution=imagery.resolution)
        arr = fetch_date(source, days.get(day, []), geobox, imagery, cache, FetchReport(), day,
                         settings.run.retry)  # fmt: skip
        refl = {b: arr[i] * imagery.scale + imagery.offset for i, b in enumerate(CUBE_BANDS)}
        ax.imshow(compose_rgb(refl, "true"), extent=(bbox[0], bbox[2], bbox[1], bbox[3]), zorder=0)
        drawn.append(day)
    return sorted(drawn)

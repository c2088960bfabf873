"""Charts of run results with matplotlib, on plain objects (for notebooks, reports, the review app).

Each function takes tables / datasets and an optional ``Axes`` and returns the ``Figure``; none
reads files. Colours of statuses are fixed here so every chart and map agrees.
"""

from __future__ import annotations

import io
import threading
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr

from pipeline.codes import STATUS_LABELS, STATUSES
from pipeline.config import Evidence
from pipeline.results.series import Windows, clean_mask

if TYPE_CHECKING:
    from collections.abc import Callable

    import geopandas as gpd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

STATUS_COLORS = {
    "consistent": "#2e7d32",
    "insufficient_data": "#9e9e9e",
    "suspect": "#f9a825",
    "inconsistent": "#c62828",
}
CJK_FONTS = ("Noto Sans CJK SC", "Noto Serif CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei")
SERIES_SIZE = (9.0, 4.2)
"""Inches of the series chart (:func:`draw_series`)."""
SERIES_MARGINS = {"left": 0.065, "right": 0.985, "top": 0.925, "bottom": 0.2}
"""Fixed margins of the series chart in :func:`draw_png` (figure fractions): room for the tick
labels, the title and the legend below the axes, as the constrained layout leaves them."""
_REUSED = threading.local()  # one Agg figure per thread, cleared after each image


def use_cjk_font() -> str | None:
    """Put an installed CJK font first in matplotlib's sans-serif list (for Chinese labels);
    returns its name, or None when none is installed (labels then show boxes)."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in names:
            fonts = list(plt.rcParams["font.sans-serif"])
            plt.rcParams["font.sans-serif"] = [name, *[f for f in fonts if f != name]]
            return name
    return None


def figure_png(fig: Figure, dpi: int = 110) -> bytes:
    """PNG bytes of ``fig``, then close it (for reports and servers, where figures must not
    pile up in pyplot)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()


def draw_png(
    draw: Callable[[Axes], object],
    size: tuple[float, float] = SERIES_SIZE,
    dpi: int = 90,
    margins: dict[str, float] | None = None,
    reuse_axes: bool = False,
) -> bytes:
    """PNG bytes of what ``draw(ax)`` puts on one Axes: fast, for reports and servers drawing
    many images. The figure is drawn with Agg directly (no pyplot), with fixed ``margins``
    (default :data:`SERIES_MARGINS`) instead of a layout engine, and kept per thread (cleared
    after each image) rather than made anew. ``reuse_axes``: keep the Axes and its ticks too,
    removing only what was drawn — for draw functions that set every property they change
    (:func:`draw_series`); the image is the same as on a new Axes."""
    fig = getattr(_REUSED, "figure", None)
    if fig is None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        use_cjk_font()
        fig = Figure()
        FigureCanvasAgg(fig)
        _REUSED.figure = fig
    fig.set_size_inches(size)
    fig.subplots_adjust(**(margins or SERIES_MARGINS))
    kept = fig.axes[0] if reuse_axes and len(fig.axes) == 1 else None
    if kept is None:
        fig.clear()
        fig.subplots_adjust(**(margins or SERIES_MARGINS))
    done = False
    try:
        draw(kept or fig.add_subplot())
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi)
        done = True
        return buf.getvalue()
    finally:
        if done and reuse_axes and len(fig.axes) == 1:
            _empty_axes(fig.axes[0])
        else:
            fig.clear()


def _empty_axes(ax: Axes) -> None:
    """Remove what was drawn on ``ax`` (lines, patches, collections, texts, images, legend,
    title) and let its limits follow the next data again; ticks and labels stay."""
    for artist in [*ax.lines, *ax.patches, *ax.collections, *ax.texts, *ax.images]:
        artist.remove()
    if ax.get_legend() is not None:
        ax.get_legend().remove()
    ax.set_title("")
    ax.relim()
    ax.set_autoscale_on(True)


def _axes(ax: Axes | None, size: tuple[float, float]) -> tuple[Figure, Axes]:
    use_cjk_font()
    if ax is None:
        fig, ax = plt.subplots(figsize=size, layout="constrained")
        return fig, ax
    return ax.figure, ax


def draw_series(
    one: xr.Dataset,
    band: pd.DataFrame,
    windows: Windows,
    info: pd.Series,
    ev: Evidence,
    index: str = "ndvi",
    ax: Axes | None = None,
    used: np.ndarray | None = None,
) -> Figure:
    """One plot's ``index`` over time: observations used as evidence (filled), cloudy or
    rejected ones (hollow), the peers' q10–q90 band and median, the baseline, site-preparation
    and planting-year windows, and the loss date if any.

    ``one``: the plot's slice of the run's series (dim ``date``); ``band``: from
    :func:`pipeline.results.series.peer_band`; ``info``: the plot's result row; ``used``: bool
    per date, the observations used as evidence (default: from
    :func:`pipeline.results.series.clean_mask`).
    """
    fig, ax = _axes(ax, SERIES_SIZE)
    dates = pd.DatetimeIndex(one["date"].to_numpy())
    values = one[index].to_numpy()
    if used is None:
        used = clean_mask(one.expand_dims("plot"), ev).isel(plot=0).to_numpy()
    if windows.planting_year is not None:
        ax.axvspan(dates.min(), windows.baseline_end, color="#90caf9", alpha=0.18, lw=0,
                   label="baseline")  # fmt: skip
        ax.axvspan(windows.prep_start, windows.prep_end, color="#ffcc80", alpha=0.35, lw=0,
                   label="site preparation")  # fmt: skip
        ax.axvline(windows.planting_start, color="#6d4c41", ls="--", lw=1,
                   label=f"planting year {windows.planting_year}")  # fmt: skip
    if len(band):
        ax.fill_between(band.index, band["q10"], band["q90"], color="#a5d6a7", alpha=0.5,
                        lw=0, label=f"peers q10–q90 (n≤{int(band['n'].max())})")  # fmt: skip
        ax.plot(band.index, band["q50"], color="#388e3c", lw=1, label="peer median")
    ax.plot(dates[used], values[used], "-o", color="#1565c0", ms=3.5, lw=1, label="clear")
    cloudy = ~used & pd.notna(values)
    ax.plot(dates[cloudy], values[cloudy], "o", mfc="none", mec="#78909c", ms=4,
            label="cloudy / rejected")  # fmt: skip
    loss = info.get("loss_date")
    if loss is not None and pd.notna(loss) and info.get("loss_drop", 0) >= ev.loss_drop:
        ax.axvline(pd.Timestamp(loss), color="#c62828", lw=1.2, label="loss")
    status = info.get("status", "")
    ax.set_title(
        f"{info.get('plot_id', '')} (row {info.get('row', '')}) — {status} "
        f"{info.get('reasons', '') or ''}",
        fontsize=10,
        color=STATUS_COLORS.get(status, "black"),
        y=1.0,  # where matplotlib would put it (no top tick labels), without measuring the ticks
    )
    ax.set_ylabel(index.upper())
    ax.set_xlim(dates.min(), dates.max()) if len(dates) else None
    ax.legend(fontsize=7, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.1), frameon=False)
    ax.grid(alpha=0.3)
    return fig


def draw_status_map(
    plots: gpd.GeoDataFrame,
    ax: Axes | None = None,
    boundaries: gpd.GeoDataFrame | None = None,
    column: str = "status",
    title: str | None = None,
) -> Figure:
    """A static map of the plots coloured by status (legend in English and Chinese); plots
    are drawn as points where they are too small to see; optional county ``boundaries``."""
    fig, ax = _axes(ax, (7, 7))
    shown = plots[plots.geometry.notna() & ~plots.geometry.is_empty]
    if boundaries is not None:
        boundaries.to_crs(shown.crs).boundary.plot(ax=ax, color="#455a64", lw=0.8)
    for status in STATUSES:
        sel = shown[shown[column] == status]
        if len(sel):
            color = STATUS_COLORS[status]
            sel.plot(ax=ax, color=color, edgecolor=color, lw=0.6)
            label = f"{status} {STATUS_LABELS[status]} ({len(sel)})"
            sel.representative_point().plot(ax=ax, color=color, markersize=10, label=label)
    ax.legend(fontsize=8, loc="best")
    ax.set_title(title or f"{len(plots)} plots by status", fontsize=10)
    b = shown.total_bounds
    lat = (b[1] + b[3]) / 2 if shown.crs and shown.crs.is_geographic and len(shown) else None
    ax.set_aspect(1 / np.cos(np.radians(lat)) if lat is not None else "equal")
    ax.ticklabel_format(useOffset=False)
    ax.tick_params(labelsize=7)
    return fig


def draw_counts(
    table: pd.DataFrame, ax: Axes | None = None, title: str = "", colors: dict | None = None
) -> Figure:
    """A stacked horizontal bar chart of a count table (rows: groups, columns: categories,
    e.g. counties × statuses); status columns take the status colours."""
    fig, ax = _axes(ax, (8, max(2.0, 0.45 * len(table) + 1)))
    colors = colors or STATUS_COLORS
    table.plot.barh(stacked=True, ax=ax, color=[colors.get(c, None) for c in table.columns])
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    ax.invert_yaxis()
    return fig


def draw_transitions(table: pd.DataFrame, ax: Axes | None = None, title: str = "") -> Figure:
    """A before × after count table (e.g. :func:`pipeline.results.rejudge.status_moves`) as an
    annotated heat map."""
    fig, ax = _axes(ax, (5.5, 4.5))
    ax.imshow(table.to_numpy(), cmap="Blues")
    for (i, j), n in pd.DataFrame(table.to_numpy()).stack().items():
        ax.text(j, i, str(n), ha="center", va="center", fontsize=9)
    ax.set_xticks(range(table.shape[1]), table.columns, rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(table.shape[0]), table.index, fontsize=8)
    ax.set_xlabel(table.columns.name or "after")
    ax.set_ylabel(table.index.name or "before")
    ax.set_title(title, fontsize=10)
    return fig

"""Charts of run results with matplotlib, on plain objects (for notebooks, reports, the review app).

Each function takes tables / datasets and an optional ``Axes`` and returns the ``Figure``; none
reads files. Colours of statuses are fixed here so every chart and map agrees.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr

from pipeline.codes import STATUS_LABELS, STATUSES
from pipeline.config import Evidence
from pipeline.results.series import Windows, clean_mask

if TYPE_CHECKING:
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
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()


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
) -> Figure:
    """One plot's ``index`` over time: observations used as evidence (filled), cloudy or
    rejected ones (hollow), the peers' q10–q90 band and median, the baseline, site-preparation
    and planting-year windows, and the loss date if any.

    ``one``: the plot's slice of the run's series (dim ``date``); ``band``: from
    :func:`pipeline.results.series.peer_band`; ``info``: the plot's result row.
    """
    fig, ax = _axes(ax, (9, 4.2))
    dates = pd.DatetimeIndex(one["date"].to_numpy())
    values = one[index].to_numpy()
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

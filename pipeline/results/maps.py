"""An interactive map of plots by status that works offline (plotly, no basemap tiles).

The figure carries the plotly library itself when shown or saved with
``include_plotlyjs=True``, so nothing is fetched from the internet; there is no basemap (web
tiles would need the internet, and consumer tiles in China are shifted GCJ-02). Hovering a plot
shows its id, county, status and reasons. Needs the ``notebooks`` extra (plotly).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from pipeline.codes import STATUS_LABELS, STATUSES, label_reasons
from pipeline.errors import TushuError
from pipeline.results.charts import STATUS_COLORS

if TYPE_CHECKING:
    import geopandas as gpd

HOVER = ("plot_id", "county", "status", "reasons")


def _outline_xy(geom) -> tuple[list[float], list[float]]:
    """Exterior rings of a (multi)polygon as one x / y list, rings separated by None."""
    xs: list[float] = []
    ys: list[float] = []
    for poly in getattr(geom, "geoms", [geom]):
        x, y = np.asarray(poly.exterior.coords)[:, :2].T
        xs += [*x.tolist(), None]
        ys += [*y.tolist(), None]
    return xs, ys


def interactive_status_map(plots: gpd.GeoDataFrame, title: str = ""):
    """A plotly figure: one filled outline per plot, coloured by status, one legend entry per
    status (click to hide), hover text with id, county, status and reasons (Chinese labels)."""
    try:
        import plotly.graph_objects as go
    except ImportError:
        raise TushuError(
            "the interactive map needs plotly: pip install -e '.[notebooks]'"
        ) from None
    shown = plots[plots.geometry.notna() & ~plots.geometry.is_empty].to_crs(4326)
    fig = go.Figure()
    for status in STATUSES:
        sel = shown[shown["status"] == status]
        first = True
        for _, plot in sel.iterrows():
            xs, ys = _outline_xy(plot.geometry)
            text = (
                f"{plot.get('plot_id', '')} (row {plot.get('row', '')})<br>"
                f"{plot.get('county', '')} · {status} {STATUS_LABELS[status]}<br>"
                f"{label_reasons(plot.get('reasons', '') or '')}"
            )
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=ys,
                    fill="toself",
                    mode="lines",
                    line={"color": STATUS_COLORS[status], "width": 1},
                    fillcolor=STATUS_COLORS[status],
                    opacity=0.75,
                    name=f"{status} {STATUS_LABELS[status]} ({len(sel)})",
                    legendgroup=status,
                    showlegend=first,
                    hoverinfo="text",
                    text=text,
                )
            )
            first = False
    lat = float(np.mean(shown.total_bounds[[1, 3]])) if len(shown) else 0.0
    fig.update_yaxes(scaleanchor="x", scaleratio=1 / np.cos(np.radians(lat)))
    fig.update_layout(title=title, height=600, template="simple_white", hovermode="closest")
    return fig

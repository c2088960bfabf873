"""A finished run, read back for analysis: :func:`open_run` → :class:`Run`.

The one reader of a run folder for notebooks, the review app and the reports. Every path comes
from :class:`pipeline.layout.RunLayout`; tables are read lazily and kept once read.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import xarray as xr

from pipeline.config import Settings, load_settings, settings_from_mapping
from pipeline.errors import TushuError
from pipeline.layout import RunLayout
from pipeline.results.chips import Chip, read_chips
from pipeline.results.rejudge import rejudge_run
from pipeline.results.series import Windows, peer_band, peer_rows, plot_windows, series_dataset
from pipeline.results.stored import Grid, read_grid

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


TRACE_COLUMNS = ("row", "plot_id", "code", "metric", "value", "op", "threshold", "fired")


class RunNotFound(TushuError):
    """The folder is not a finished Tushu run."""


class Run:
    """A finished run folder. ``plots`` (GeoDataFrame, one row per input plot), ``series``
    (xarray Dataset, plot × date), ``settings`` (typed), ``provenance`` (run.json);
    per plot: :meth:`trace`, :meth:`peers`, :meth:`plot`, :meth:`chips`, and :meth:`rejudge`
    for a threshold change. A plot is named by its ``plot_id`` or its ``row`` (an int)."""

    def __init__(self, layout: RunLayout) -> None:
        self.layout = layout

    def __repr__(self) -> str:
        return f"Run({str(self.layout.root)!r})"

    # -- tables -----------------------------------------------------------------------------
    @cached_property
    def plots(self) -> gpd.GeoDataFrame:
        """``plots.parquet``: one row per input plot, in input order (index = ``row``)."""
        plots = gpd.read_parquet(self.layout.plots_parquet)
        return plots.set_index("row", drop=False).rename_axis(None)

    @cached_property
    def timeseries(self) -> pd.DataFrame:
        """``timeseries.parquet`` as stored (long: row, plot_id, date, indices, clear_share)."""
        return pd.read_parquet(self.layout.timeseries)

    @cached_property
    def series(self) -> xr.Dataset:
        """Dims (plot, date): ``ndvi``, ``ndmi``, ``bsi``, ``clear_share``; ``plot`` is the row,
        ``plot_id`` a coordinate (see :func:`pipeline.results.series.series_dataset`)."""
        return series_dataset(self.timeseries, self.plots)

    @cached_property
    def settings(self) -> Settings:
        """The run's validated settings (``settings.yaml``, else the copy in ``run.json``)."""
        if self.layout.settings.is_file():
            return load_settings(self.layout.settings)
        raw = dict(self.provenance["settings"])
        raw.setdefault("output_dir", str(self.layout.root))
        return settings_from_mapping(raw, str(self.layout.run_json))

    @cached_property
    def provenance(self) -> dict[str, Any]:
        """``run.json``: settings, code version, inputs with checksums, scenes, counts, timings."""
        return json.loads(self.layout.run_json.read_text(encoding="utf-8"))

    @cached_property
    def summary(self) -> pd.DataFrame:
        """``summary.csv``: per county and a 合计 row."""
        return pd.read_csv(self.layout.summary, encoding="utf-8-sig")

    @cached_property
    def grid(self) -> Grid:
        """The run's tile grid (``work/plan.json``): the CRS and each tile's bounding box."""
        return read_grid(self.layout.plan)

    @cached_property
    def traces(self) -> pd.DataFrame:
        """``trace.parquet``: every rule checked for every plot (row, plot_id, code, metric,
        value, op, threshold, fired)."""
        path = getattr(self.layout, "trace", None)
        if path is None or not Path(path).is_file():
            raise TushuError(
                f"{self.layout.root} has no rule trace (trace.parquet); it is written by runs "
                "of a newer Tushu: re-run `tushu run` on this config to make it"
            )
        return pd.read_parquet(path)

    @cached_property
    def items(self) -> list:
        """The STAC items (``pystac.Item``) the run used (``work/items.json``), parsed once."""
        import pystac

        raw = json.loads(self.layout.items.read_text(encoding="utf-8"))
        return [pystac.Item.from_dict(d) for d in raw]

    def reference(self, name: str = "region") -> gpd.GeoDataFrame:
        """A reference layer of the run's config (``region``, ``townships``, ``prior``,
        ``restricted``; several files are concatenated), e.g. county boundaries for a map."""
        from pipeline.plots.vector import read_vector

        value = getattr(self.settings.layers, name, None)
        if value is None:
            raise TushuError(f"the run's config has no layers.{name}")
        sources = value if isinstance(value, tuple) else (value,)
        frames = [
            read_vector(s.path, s.layer, s.encoding, s.crs, key=f"layers.{name}.")[0]
            for s in sources
        ]
        return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)

    # -- one plot ---------------------------------------------------------------------------
    def row_of(self, plot: str | int) -> int:
        """The ``row`` of a plot given by id (must be unique) or by row."""
        if isinstance(plot, int | np.integer):
            if int(plot) not in self.plots.index:
                raise TushuError(f"no plot with row {plot} (rows 0–{len(self.plots) - 1})")
            return int(plot)
        rows = self.plots.loc[self.plots["plot_id"] == plot, "row"]
        if len(rows) == 0:
            raise TushuError(f"no plot with id {plot!r} in {self.layout.plots_parquet}")
        if len(rows) > 1:
            raise TushuError(
                f"plot id {plot!r} is on rows {', '.join(map(str, rows))} (DUPLICATE_ID); "
                "name the plot by its row"
            )
        return int(rows.iloc[0])

    def plot_row(self, plot: str | int) -> pd.Series:
        """The plot's result row (claims, status, reasons, metrics)."""
        return self.plots.loc[self.row_of(plot)]

    def trace(self, plot: str | int) -> pd.DataFrame:
        """The rule trace of one plot: code, metric, value, op, threshold, fired."""
        row = self.row_of(plot)
        t = self.traces
        cols = [c for c in TRACE_COLUMNS if c not in ("row", "plot_id")]
        return t.loc[t["row"] == row, cols].reset_index(drop=True)

    def windows(self, plot: str | int) -> Windows:
        """Baseline, site-preparation and planting-year windows of the plot."""
        return plot_windows(self.plot_row(plot)["planting_year"], self.settings.evidence)

    def peers(self, plot: str | int, index: str = "ndvi") -> pd.DataFrame:
        """Peer band: per date, quantiles (q10, q50, q90) of ``index`` over the plot's
        planting-year peers, and ``n`` peers seen."""
        ev = self.settings.evidence
        return peer_band(self.series, peer_rows(self.plots, self.row_of(plot), ev), ev, index)

    def plot(self, plot: str | int, ax: Axes | None = None, index: str = "ndvi") -> Figure:
        """The plot's series (clear and cloudy points), its peer band and its windows."""
        from pipeline.results.charts import draw_series

        row = self.row_of(plot)
        one = self.series.sel(plot=row)
        return draw_series(
            one,
            self.peers(row, index),
            self.windows(row),
            self.plot_row(row),
            self.settings.evidence,
            index=index,
            ax=ax,
        )

    def chips(self, plot: str | int, **options: Any) -> list[Chip]:
        """Image chips of the plot read from the run's imagery (configured source and cache):
        see :func:`pipeline.results.chips.read_chips` for the options."""
        row = self.row_of(plot)
        clear = self.series["clear_share"].sel(plot=row).to_series()
        return read_chips(
            self.layout, self.settings, self.grid, self.plots.loc[[row]], clear,
            self.windows(row), **{"items": self.items, **options},
        )  # fmt: skip

    # -- re-judging -------------------------------------------------------------------------
    def rejudge(self, **evidence_overrides: Any) -> gpd.GeoDataFrame:
        """The plot results with changed ``evidence`` thresholds, judged again from the stored
        series, per-pixel shares and desk table (no imagery read); see
        :func:`pipeline.results.rejudge.rejudge_run`."""
        return rejudge_run(self.layout, self.settings, **evidence_overrides)


def open_run(path: str | Path) -> Run:
    """Open a finished run folder (the configured ``output_dir``)."""
    layout = RunLayout.of(path)
    missing = [p.name for p in (layout.plots_parquet, layout.run_json) if not p.is_file()]
    if missing:
        raise RunNotFound(
            f"{layout.root} is not a finished Tushu run (no {', '.join(missing)}); "
            "pass the output_dir of a run that completed, or run `tushu run --config ...`"
        )
    return Run(layout)

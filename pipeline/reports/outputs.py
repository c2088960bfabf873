"""Reading a finished run's outputs back (what notebooks use). Each deliverable has its own
writer in this package: :mod:`.parquet`, :mod:`.gpkg`, :mod:`.summary`, and the documents
under ``reports/`` (:mod:`.documents`)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd

from pipeline.layout import RunLayout


class RunResults:
    """A finished run's outputs, read back for analysis (plots, time series, summary, record)."""

    def __init__(self, out_dir: Path) -> None:
        layout = RunLayout.of(out_dir)
        self.out_dir = layout.root
        self.plots = gpd.read_parquet(layout.plots_parquet)
        self.timeseries = pd.read_parquet(layout.timeseries)
        self.summary = pd.read_csv(layout.summary, encoding="utf-8-sig")
        self.run = json.loads(layout.run_json.read_text(encoding="utf-8"))


def read_results(out_dir: Path) -> RunResults:
    """Read a run's output folder (what notebooks use)."""
    return RunResults(out_dir)

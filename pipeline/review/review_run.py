"""The run being reviewed: its plot table, prior plots, review database and settings.

Opened once when the app starts; the plot table is read-only, everything a reviewer changes is
in the :class:`~pipeline.review.store.ReviewStore`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import pandas as pd

from pipeline.config import Settings
from pipeline.layout import RunLayout
from pipeline.plots.vector import read_vector
from pipeline.results import Run, open_run
from pipeline.review.settings import ReviewSettings
from pipeline.review.states import PlotReview, draw_samples, review_table
from pipeline.review.store import ReviewStore
from pipeline.review.worklist import join_reviews

MAP_CRS = "EPSG:4326"


@dataclass
class ReviewRun:
    """A finished run opened for review."""

    layout: RunLayout
    run: Run
    store: ReviewStore
    settings: ReviewSettings
    prior: gpd.GeoDataFrame

    @property
    def plots(self) -> gpd.GeoDataFrame:
        """The plot table (index = ``row``), read-only."""
        return self.run.plots

    @cached_property
    def plots_metric(self) -> gpd.GeoDataFrame:
        """The plots in one metric CRS (UTM of the whole layer): distances in metres."""
        return self.plots[["geometry"]].to_crs(self.plots.estimate_utm_crs())

    @cached_property
    def plots_map(self) -> gpd.GeoDataFrame:
        """The plots in EPSG:4326 (what the map draws)."""
        return self.plots[["plot_id", "status", "geometry"]].to_crs(MAP_CRS)

    @property
    def run_id(self) -> str:
        return str(self.run.provenance.get("run_id", ""))

    @property
    def model_version(self) -> str:
        model = self.run.provenance.get("model") or {}
        return str(model.get("version", "")) if isinstance(model, dict) else str(model)

    def plot(self, row: int) -> pd.Series:
        """The plot at ``row`` (KeyError when there is none)."""
        return self.plots.loc[int(row)]

    def samples(self) -> dict[str, set[int]]:
        return {kind: self.store.samples(kind) for kind in ("double", "blind")}

    def reviews(self, double: set[int] | None = None) -> dict[int, PlotReview]:
        double = self.store.samples("double") if double is None else double
        return review_table(self.plots.index, self.store.decisions(), double)

    def worklist(self) -> pd.DataFrame:
        samples = self.samples()
        reviews = self.reviews(samples["double"])
        return join_reviews(self.plots, reviews, self.store.assignments(), samples)


def read_prior(settings: Settings) -> gpd.GeoDataFrame:
    """Earlier years' plots from the run's configured prior layers (EPSG:4326), or none."""
    frames = []
    for src in settings.layers.prior_sources():
        if Path(src.path).exists():
            frame, _ = read_vector(src.path, src.layer, src.encoding, src.crs, key="layers.prior.")
            ids = frame[src.id_column] if src.id_column in frame else frame.index
            years = frame[src.year_column] if src.year_column in frame else src.year
            frames.append(
                gpd.GeoDataFrame(
                    {"id": ids.astype(str), "year": years, "layer": src.display_name()},
                    geometry=frame.geometry.to_crs(MAP_CRS).values,
                    crs=MAP_CRS,
                )
            )
    if not frames:
        return gpd.GeoDataFrame({"id": [], "year": [], "layer": []}, geometry=[], crs=MAP_CRS)
    return pd.concat(frames, ignore_index=True)


def open_review(results_dir: Path, db: Path | None, settings: ReviewSettings) -> ReviewRun:
    """Open a finished run for review; draws the samples on the database's first use."""
    layout = RunLayout.of(results_dir)
    run = open_run(layout.root)
    store = ReviewStore(db or layout.review_db)
    for kind, rows in draw_samples(run.plots, settings).items():
        store.set_samples(kind, rows)
    return ReviewRun(layout, run, store, settings, read_prior(run.settings))

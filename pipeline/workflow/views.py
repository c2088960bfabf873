"""What each step reads of the settings: one typed view per step.

A step function receives only its view, so it cannot read a key its view lacks; the view's
canonical JSON is the step's Snakemake ``params``, so a step re-runs exactly when a key it reads
changes. ``run`` options (cores, date chunk, cache, retries) are in no view: they never re-run
anything. The report step records the whole science part of the settings in ``run.json``, so
its view is all of it (it is cheap and re-runs after any upstream step anyway).
"""

from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict

from pipeline.config import (
    DeskChecks,
    Imagery,
    ImagerySearch,
    Layers,
    LayerSource,
    PlotSource,
    PrepSettings,
    Reports,
    SeriesPrepSettings,
    Settings,
)


class _View(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def params(self) -> str:
        """Canonical JSON (Snakemake ``params``; the step's ``--view`` argument)."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)


class PlanView(_View):
    """Reading the plots, finding the scenes, planning tiles."""

    plots: PlotSource
    region: LayerSource | None
    imagery: ImagerySearch


class DeskView(_View):
    """Desk checks against the reference layers."""

    layers: Layers
    desk: DeskChecks


class TileView(_View):
    """One tile's series and per-pixel site preparation. A per-plot series source (Statistical
    API) applies the clear-share rule itself, so its view has ``min_clear_share`` too."""

    imagery: Imagery
    prep: PrepSettings | SeriesPrepSettings


class ReportView(_View):
    """Evidence, decisions, deliverables and the run record."""

    settings: Settings


class DocumentsView(_View):
    """The documents made from a published run (workbook, 整改清单, bulletin, HTML report...)."""

    reports: Reports


def plan_view(s: Settings) -> PlanView:
    return PlanView(plots=s.plots, region=s.layers.region, imagery=ImagerySearch.of(s.imagery))


def desk_view(s: Settings) -> DeskView:
    return DeskView(layers=s.layers, desk=s.desk)


def tile_view(s: Settings) -> TileView:
    from pipeline.imagery.sources import source_reads_series

    kind = SeriesPrepSettings if source_reads_series(s.imagery) else PrepSettings
    return TileView(imagery=s.imagery, prep=kind.of(s.evidence))


def report_view(s: Settings) -> ReportView:
    return ReportView(
        settings=s.model_copy(update={"run": type(s.run)(), "reports": type(s.reports)()})
    )


def documents_view(s: Settings) -> DocumentsView:
    return DocumentsView(reports=s.reports)


STEP_VIEWS = {
    "plan": plan_view,
    "desk": desk_view,
    "tile": tile_view,
    "report": report_view,
    "documents": documents_view,
}


def step_params(s: Settings) -> dict[str, str]:
    """Each step's ``params`` string (what decides whether it re-runs)."""
    return {step: view(s).params() for step, view in STEP_VIEWS.items()}


def read_view(kind: type[_View], text: str) -> _View:
    """Parse a step's ``--view`` argument (JSON) into its typed view."""
    return kind.model_validate_json(text)

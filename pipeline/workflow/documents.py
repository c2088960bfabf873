"""The documents step: everything under ``reports/`` from a published run (after
``publish``), read through :mod:`pipeline.results` (the run reader and chart functions the
review app and notebooks use)."""

from __future__ import annotations

from pipeline.layout import RunLayout
from pipeline.reports.documents import make_documents
from pipeline.workflow.views import DocumentsView


def documents_step(view: DocumentsView, layout: RunLayout, workers: int = 1) -> dict:
    """The documents of the run in ``layout`` (and the earlier runs ``reports.history``
    names), evidence packs in ``workers`` processes; returns the manifest."""
    import pipeline.results
    import pipeline.results.charts
    import pipeline.results.chips  # noqa: F401 - the modules the documents use

    run = pipeline.results.open_run(layout.root)
    return make_documents(layout, view.reports, run=run, results=pipeline.results, workers=workers)

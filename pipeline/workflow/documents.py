"""The documents step: everything under ``reports/`` from a published run (after
``publish``), read through :mod:`pipeline.results` (the run reader and chart functions the
review app and notebooks use)."""

from __future__ import annotations

from pipeline.layout import RunLayout
from pipeline.reports.documents import make_documents
from pipeline.workflow.views import DocumentsView


def documents_step(view: DocumentsView, layout: RunLayout) -> dict:
    """The documents of the run in ``layout`` (and the earlier runs ``reports.history``
    names); returns the manifest."""
    from pipeline.results import charts, open_run

    return make_documents(layout, view.reports, run=open_run(layout.root), charts=charts)

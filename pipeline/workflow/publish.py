"""The publish step: the staged deliverables put in place. Kept apart from
:mod:`pipeline.workflow.steps` so that its job starts without the imagery and GIS stack."""

from __future__ import annotations

from pipeline.layout import RunLayout


def publish_step(layout: RunLayout) -> None:
    """Put the staged deliverables in place, each replacing its previous version atomically.

    Each is a fresh copy (a new file, written after every staged input is complete), so no
    output of the publish rule can look older to Snakemake than one of its inputs; the staged
    files stay as the report rule's outputs.
    """
    import os
    import shutil

    for final in layout.deliverables():
        tmp = final.with_name(f".{final.name}.publish")
        tmp.unlink(missing_ok=True)
        shutil.copyfile(layout.staged(final), tmp)
        os.replace(tmp, final)

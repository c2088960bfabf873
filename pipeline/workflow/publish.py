"""The publish step: the staged deliverables put in place. Kept apart from
:mod:`pipeline.workflow.steps` so that its job starts without the imagery and GIS stack."""

from __future__ import annotations

from pipeline.layout import RunLayout


def publish_step(layout: RunLayout) -> None:
    """Put the staged deliverables in place, each replacing its previous version atomically
    (a hard link when possible, so the staged copy stays for Snakemake)."""
    import os
    import shutil
    import time

    for final in layout.deliverables():
        staged = layout.staged(final)
        tmp = final.with_name(f".{final.name}.publish")
        tmp.unlink(missing_ok=True)
        try:
            os.link(staged, tmp)
        except OSError:
            shutil.copy2(staged, tmp)
        os.replace(tmp, final)
    # a hard link shares its staged input's mtime: give every deliverable one common time, so
    # no output of the publish rule looks older than an input staged a moment later
    now = time.time()
    for final in layout.deliverables():
        os.utime(final, (now, now))

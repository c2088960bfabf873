"""Reading a finished run for analysis: ``open_run(output_dir)`` → :class:`Run`.

Used by the notebooks, the review app and the reports; charts in :mod:`.charts`, image chips
in :mod:`.chips`, re-judging with changed thresholds in :mod:`.rejudge`.
"""

from pipeline.results.run import Run, RunNotFound, open_run

__all__ = ["Run", "RunNotFound", "open_run"]

"""Drawing the flagged plots' evidence ahead of the reviewer, in the background.

A plot's first view draws its series chart, reads the imagery for its chips and makes its tile's
basemap (:mod:`pipeline.review.evidence`, about a second on a busy machine). The
:class:`Prefetcher` does that work in one daemon thread, a bounded number of plots per app
start, into the same review cache (``RunLayout.review_cache``) the plot page reads; requests
never wait for it except on the plot it is drawing at that moment (then they get its result).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable

from pipeline.results import Run
from pipeline.review import evidence

LOG = logging.getLogger(__name__)


class Prefetcher:
    """One background thread drawing chart, chips and basemap of queued plots, at most
    ``limit`` plots in all (0: none), after calling ``warm`` (e.g. what the map of every plot
    needs). :meth:`want` queues rows (``first=True``: ahead of the
    others, e.g. the rows the worklist shows); :meth:`wait` blocks until the queue is empty."""

    def __init__(
        self, run: Run, limit: int, basemap: bool = True, warm: Callable[[], object] | None = None
    ) -> None:
        self.run, self.limit, self.basemap, self.warm = run, limit, basemap, warm
        self.drawn: list[int] = []  # rows done, in order
        self.failed: dict[int, str] = {}
        self._queue: deque[int] = deque()
        self._seen: set[int] = set()
        self._busy = False
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def want(self, rows, first: bool = False) -> None:
        """Queue ``rows`` (plot rows) not queued before, within the limit, and start the
        thread; ``first``: put them, and those of them still waiting, ahead of the others."""
        rows = list(dict.fromkeys(int(r) for r in rows))
        with self._cond:
            new = [r for r in rows if r not in self._seen]
            new = new[: max(self.limit - len(self._seen), 0)]
            self._seen.update(new)
            if first:
                queued = set(self._queue)
                ahead = set(new) | {r for r in rows if r in queued}
                rest = [r for r in self._queue if r not in ahead]
                self._queue = deque([r for r in rows if r in ahead] + rest)
            else:
                self._queue.extend(new)
            if self._queue and self._thread is None:
                self._thread = threading.Thread(target=self._work, name="prefetch", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every queued plot is drawn (or ``timeout`` seconds); True when done."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and not self._busy, timeout)

    def _work(self) -> None:
        if self.warm is not None:
            try:
                self.warm()
            except Exception as err:  # noqa: BLE001 - the page does it again and shows why
                LOG.warning("prefetch warm-up failed: %s", err)
        while True:
            with self._cond:
                self._cond.wait_for(lambda: bool(self._queue))
                row = self._queue.popleft()
                self._busy = True
            try:
                errors = draw_evidence(self.run, row, self.basemap)
                self.drawn.append(row)
                if errors:
                    self.failed[row] = "; ".join(errors)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()


def draw_evidence(run: Run, row: int, basemap: bool = True) -> list[str]:
    """Draw (or find in the review cache) what the plot page of ``row`` loads: series chart,
    chips and (``basemap``: the offline one is used) its tile's basemap; returns what failed
    (the page then tries again and says why)."""
    steps = [evidence.chart_png, evidence.chip_index] + ([evidence.basemap] if basemap else [])
    errors = []
    for step in steps:
        try:
            step(run, row)
        except Exception as err:  # noqa: BLE001 - a plot without imagery still gets the rest
            LOG.warning("prefetching %s of plot row %s failed: %s", step.__name__, row, err)
            errors.append(f"{step.__name__}: {type(err).__name__}: {err}")
    return errors

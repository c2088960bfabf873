"""From stored decisions to each plot's review state; samples; the blind-review miss estimate.

Pure functions on the plot table and lists of :class:`~pipeline.review.store.Decision`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from pipeline.review.settings import ReviewSettings
from pipeline.review.store import Decision


@dataclass(frozen=True)
class PlotReview:
    """One plot's review: its state, the decision that counts (if any) and the slot the next
    reviewer writes."""

    state: str
    final: Decision | None
    slots: dict[str, Decision]


def resolve_review(slots: dict[str, Decision], double: bool) -> PlotReview:
    """The state of one plot given its decisions by slot and whether it is double-reviewed.

    A senior's adjudication (``final``) always counts; a double-reviewed plot counts once both
    reviews agree on the decision and is a disagreement otherwise; any other plot counts from
    its first review.
    """
    if "final" in slots:
        return PlotReview("decided", slots["final"], slots)
    first, second = slots.get("primary"), slots.get("second")
    if first is None:
        return PlotReview("open", None, slots)
    if not double:
        return PlotReview("decided", first, slots)
    if second is None:
        return PlotReview("awaiting_second", first, slots)
    if second.decision == first.decision:
        return PlotReview("decided", second, slots)
    return PlotReview("disagreement", None, slots)


def next_slot(review: PlotReview, user: str, double: bool, senior: bool) -> str | None:
    """The slot ``user`` writes on this plot: their own review, the second review of a
    double-reviewed plot (by another person), or — for a senior — the adjudication of a
    disagreement. ``None``: a verifier who is neither of the two disagreeing reviewers."""
    slots = review.slots
    first, second = slots.get("primary"), slots.get("second")
    if review.state == "disagreement" or "final" in slots:
        if senior:
            return "final"
        own = [s for s, d in (("primary", first), ("second", second)) if d and d.user == user]
        return own[0] if own else None
    if first is None or first.user == user or not double:
        return "primary"
    return "second"


def review_table(
    rows: pd.Index, decisions: list[Decision], double: set[int]
) -> dict[int, PlotReview]:
    """:class:`PlotReview` of every plot ``row`` (plots without decisions are ``open``)."""
    by_row: dict[int, dict[str, Decision]] = {}
    for d in decisions:
        by_row.setdefault(d.row, {})[d.slot] = d
    return {int(r): resolve_review(by_row.get(int(r), {}), int(r) in double) for r in rows}


def draw_samples(plots: pd.DataFrame, settings: ReviewSettings) -> dict[str, list[int]]:
    """The double-review sample (a share of the flagged plots) and the blind sample
    (unflagged plots), drawn with the configured seed."""
    rng = np.random.default_rng(settings.seed)
    flagged = plots.loc[plots["status"] != "consistent", "row"].to_numpy()
    unflagged = plots.loc[plots["status"] == "consistent", "row"].to_numpy()
    n_double = int(round(settings.double_review_share * len(flagged)))
    n_blind = min(settings.blind_sample_size, len(unflagged))
    double = rng.choice(flagged, size=n_double, replace=False) if n_double else []
    blind = rng.choice(unflagged, size=n_blind, replace=False) if n_blind else []
    return {"double": sorted(int(r) for r in double), "blind": sorted(int(r) for r in blind)}


@dataclass(frozen=True)
class MissEstimate:
    """Share of unflagged plots that reviewers found to have a problem (blind sample)."""

    reviewed: int
    problems: int
    share: float | None
    low: float | None
    high: float | None
    unflagged: int

    @property
    def plots_low(self) -> float | None:
        return None if self.low is None else self.low * self.unflagged

    @property
    def plots_high(self) -> float | None:
        return None if self.high is None else self.high * self.unflagged


def estimate_misses(
    reviews: dict[int, PlotReview], blind: set[int], n_unflagged: int, level: float = 0.95
) -> MissEstimate:
    """Wilson interval (``level``) of the share of unflagged plots with a confirmed problem,
    from the decided blind-sample plots; field checks and insufficient imagery do not count."""
    decided = [reviews[r].final for r in blind if r in reviews and reviews[r].final is not None]
    judged = [d for d in decided if d.decision in ("confirmed", "false_alarm")]
    k, n = sum(d.decision == "confirmed" for d in judged), len(judged)
    if n == 0:
        return MissEstimate(0, 0, None, None, None, n_unflagged)
    ci = binomtest(k, n).proportion_ci(confidence_level=level, method="wilson")
    return MissEstimate(n, k, k / n, float(ci.low), float(ci.high), n_unflagged)

"""Review states (double review, adjudication), samples and the blind-review miss estimate."""

from __future__ import annotations

import pandas as pd

from pipeline.review.settings import ReviewSettings
from pipeline.review.states import draw_samples, estimate_misses, next_slot, resolve_review
from pipeline.review.store import Decision


def d(slot, decision, user, row=0):
    return Decision(row, slot, decision, user=user)


def test_resolve__single_review_counts():
    rev = resolve_review({"primary": d("primary", "confirmed", "a")}, double=False)
    assert rev.state == "decided" and rev.final.decision == "confirmed"


def test_resolve__double_review_needs_agreement():
    first = d("primary", "confirmed", "a")
    assert resolve_review({"primary": first}, double=True).state == "awaiting_second"
    agree = resolve_review({"primary": first, "second": d("second", "confirmed", "b")}, True)
    assert agree.state == "decided"
    split = {"primary": first, "second": d("second", "false_alarm", "b")}
    rev = resolve_review(split, True)
    assert rev.state == "disagreement" and rev.final is None
    assert next_slot(rev, "c", True, senior=True) == "final"
    assert next_slot(rev, "b", True, senior=False) == "second"
    assert next_slot(rev, "c", True, senior=False) is None
    settled = resolve_review({**split, "final": d("final", "false_alarm", "s")}, True)
    assert settled.state == "decided" and settled.final.user == "s"


def test_next_slot__second_review_by_someone_else():
    rev = resolve_review({"primary": d("primary", "confirmed", "a")}, double=True)
    assert next_slot(rev, "a", True, False) == "primary"
    assert next_slot(rev, "b", True, False) == "second"
    assert next_slot(resolve_review({}, True), "a", True, False) == "primary"


def test_draw_samples__blind_only_unflagged_and_seeded():
    plots = pd.DataFrame({"row": range(100), "status": ["consistent"] * 60 + ["suspect"] * 40})
    s = ReviewSettings(double_review_share=0.25, blind_sample_size=15, seed=4)
    a, b = draw_samples(plots, s), draw_samples(plots, s)
    assert a == b
    assert len(a["double"]) == 10 and all(r >= 60 for r in a["double"])
    assert len(a["blind"]) == 15 and all(r < 60 for r in a["blind"])


def test_estimate_misses__wilson_interval_around_the_planted_rate():
    blind = set(range(40))
    reviews = {}
    for r in blind:  # 8 of 40 unflagged plots have a real problem; 5 more need a field visit
        decision = "confirmed" if r < 8 else ("field_check" if r < 13 else "false_alarm")
        reviews[r] = resolve_review({"primary": d("primary", decision, "a", r)}, False)
    est = estimate_misses(reviews, blind, n_unflagged=400)
    assert est.reviewed == 35 and est.problems == 8
    assert est.low < 8 / 35 < est.high and 0.05 < est.low and est.high < 0.45
    assert est.plots_low < 400 * 8 / 35 < est.plots_high
    none = estimate_misses({}, blind, 400)
    assert none.share is None and none.reviewed == 0

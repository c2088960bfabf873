"""The imagery rules: an ordered registry read plot by plot, each rule leaving a trace.

A rule compares evidence metrics (:mod:`pipeline.judgement.evidence`) with thresholds from
:class:`~pipeline.config.Evidence`. Rules are read in order; a rule that fires adds its reason
code, and a *final* rule ends the reading (no later rule is read). Each comparison is recorded
as a :class:`Check` (metric, value, operator, threshold, whether it held), so every verdict
carries the numbers behind it — the rule trace in ``trace.parquet``.

A new reason code is one entry in :data:`pipeline.codes.REASONS` and one :class:`Rule` here
(plus its demo truth and tests). A learned model plugs in the same way: a rule whose test reads
the model's probability column from the evidence table against a threshold.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd

from pipeline.config import Evidence

Op = Literal[">=", "<", "<=", ">"]
_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<": operator.lt,
    "<=": operator.le,
}


@dataclass(frozen=True)
class Comparison:
    """``metric op threshold``; a missing (NaN) metric makes the comparison ``missing_is``;
    ``or_metric``: read instead where ``metric`` is missing (evidence tables without it)."""

    metric: str
    op: Op
    threshold: str
    negate_threshold: bool = False
    missing_is: bool = False
    or_metric: str | None = None

    def check(self, code: str, values: pd.Series, ev: Evidence) -> Check:
        value = _number(values.get(self.metric))
        if math.isnan(value) and self.or_metric is not None:
            value = _number(values.get(self.or_metric))
        limit = float(getattr(ev, self.threshold))
        limit = -limit if self.negate_threshold else limit
        held = self.missing_is if math.isnan(value) else _OPS[self.op](value, limit)
        return Check(code, self.metric, value, self.op, limit, held)


@dataclass(frozen=True)
class Check:
    """One line of the rule trace."""

    code: str
    metric: str
    value: float
    op: str
    threshold: float
    held: bool
    fired: bool = False
    """Whether the rule the comparison belongs to fired (gave its code)."""


def _always(plot: pd.Series) -> bool:
    return True


@dataclass(frozen=True)
class Rule:
    """Fires (gives ``code``) when every comparison of ``all_of`` holds and none of ``none_of``
    (exemptions: e.g. plot-level site preparation spares a plot NO_PLANTING_EVIDENCE).

    ``applies``: which plots the rule reads (e.g. not design-stage plots); ``unless_fired``:
    codes that, already given, make this rule silent; ``final``: a firing ends the reading.
    """

    code: str
    all_of: tuple[Comparison, ...]
    none_of: tuple[Comparison, ...] = ()
    applies: Callable[[pd.Series], bool] = field(default=_always)
    unless_fired: frozenset[str] = frozenset()
    final: bool = False

    def read(self, plot: pd.Series, values: pd.Series, ev: Evidence) -> tuple[bool, list[Check]]:
        checks = [c.check(self.code, values, ev) for c in self.all_of]
        fired = all(c.held for c in checks)
        if self.none_of:
            exempt = [c.check(self.code, values, ev) for c in self.none_of]
            checks += exempt
            fired = fired and not any(c.held for c in exempt)
        return fired, checks


def _not_design(plot: pd.Series) -> bool:
    return not bool(plot["is_design"])


_NO_SIGN_OF_PLANTING = (Comparison("planted_share", "<", "planted_share_none"),)
_PLANTING_SHOWN = (
    Comparison("prep_ndvi_drop", ">=", "prep_ndvi_drop"),
    Comparison("prep_bsi_rise", ">=", "prep_bsi_rise"),
    Comparison("establish_rise", ">=", "establish_rise"),
)
_NO_PLANTING_GROUNDS = (
    (
        Comparison("peer_clear_share", ">=", "peer_expect_share"),
        Comparison("prep_work_share", "<", "site_work_share", missing_is=True),
    ),
    (
        Comparison("peer_clear_share", ">=", "peer_expect_share"),
        Comparison("prep_drop_z", "<", "site_work_z", missing_is=True),
    ),
    (Comparison("peer_establish_share", ">=", "peer_expect_share"),),
    (
        Comparison("years_after_planting", ">=", "establish_years"),
        # where the plot's like plantings are read, they say what shows by now, not a count
        Comparison("peer_establish_share", ">=", "peer_expect_share", missing_is=True),
    ),
)
"""Any one of them gives NO_PLANTING_EVIDENCE its positive grounds
(:mod:`pipeline.judgement.expectation`): land like this was cleared where planted and the
plot shows not even pit- or strip-sized site work (a drop of ``site_work_share`` of theirs
that stands ``site_work_z`` of its own scatter: :mod:`pipeline.judgement.site_work`),
plantings like this have established by now, or enough years have passed where no like
plantings are read (where they are, most of them not established by now says the imagery does
not show plantings like this yet: 马尾松 or 木荷 on a bare hill 4 years on)."""


_FOREST_CLEARING_SHOWN = (
    Comparison("prep_drop_index", ">=", "clear_fell_drop"),
    Comparison("prep_ndvi_drop", ">=", "prep_ndvi_drop"),
)
"""Either shows forest-like land worked over the whole plot in the prep window: a clear fell,
or a drop at the site-preparation gate lighter than one (strips cut through dense evergreen
scrub that reads forest-like at the line)."""


def _forest_cleared_rules() -> tuple[Rule, ...]:
    """FOREST_CLEARED_REPLANTED (suspect), one rule per ground of
    :data:`_FOREST_CLEARING_SHOWN` (the first that holds is the reading): work seen on a
    forest-like plot is not "already forest, nothing done" (PRE_EXISTING_FOREST,
    inconsistent); a verifier decides."""
    code = "FOREST_CLEARED_REPLANTED"
    return tuple(
        Rule(
            code,
            (
                Comparison("baseline_forest_index", ">=", "forest_index"),
                ground,
                Comparison("planted_share", ">=", "planted_share_full"),
            ),
            applies=_not_design,
            unless_fired=frozenset({code}),
        )
        for ground in _FOREST_CLEARING_SHOWN
    )


_LOSS_GATES = (
    Comparison("loss_drop", ">=", "loss_drop"),
    Comparison("loss_z", ">=", "loss_z"),
)
_LOSS_STANDS_OUT = (
    Comparison("loss_drop_spread", ">=", "loss_spread", missing_is=True),
    Comparison("loss_own_drop", ">=", "loss_own_sure"),
)
"""Either makes the step a loss: it stands out of the run's own steps, or the plot's own level
fell by ``loss_own_sure`` at it — a cohort growing apart, weeding or another seasonal swing
make large steps against the peers, never a large fall of the plot's own level."""


def _loss_rules(own: Comparison, **kw) -> tuple[Rule, ...]:
    """VEGETATION_LOSS, one rule per way the step stands out (the first that holds fires)."""
    return tuple(
        Rule(
            "VEGETATION_LOSS",
            (*_LOSS_GATES, way, own),
            applies=_not_design,
            unless_fired=frozenset({"VEGETATION_LOSS"}),
            **kw,
        )
        for way in _LOSS_STANDS_OUT
    )


def _no_planting_rules() -> tuple[Rule, ...]:
    """One NO_PLANTING_EVIDENCE rule per ground (the first that holds ends the reading), then
    ESTABLISHMENT_NOT_YET_VISIBLE where no ground holds: the imagery cannot settle it yet."""
    lost = frozenset({"VEGETATION_LOSS"})
    refuted = tuple(
        Rule(
            "NO_PLANTING_EVIDENCE",
            (*_NO_SIGN_OF_PLANTING, *ground),
            none_of=_PLANTING_SHOWN,
            applies=_not_design,
            unless_fired=lost,
            final=True,
        )
        for ground in _NO_PLANTING_GROUNDS
    )
    unsettled = Rule(
        "ESTABLISHMENT_NOT_YET_VISIBLE",
        _NO_SIGN_OF_PLANTING,
        none_of=_PLANTING_SHOWN,
        applies=_not_design,
        unless_fired=lost,
        final=True,
    )
    return (*refuted, unsettled)


IMAGERY_RULES: tuple[Rule, ...] = (
    Rule(
        "INSUFFICIENT_DATA",
        (Comparison("n_baseline_obs", "<", "min_baseline_obs", missing_is=True),),
        final=True,
    ),
    *_forest_cleared_rules(),
    Rule(
        "PRE_EXISTING_FOREST",
        (Comparison("baseline_forest_index", ">=", "forest_index"),),
        unless_fired=frozenset({"FOREST_CLEARED_REPLANTED"}),
        final=True,
    ),
    Rule(
        "INSUFFICIENT_DATA",
        (Comparison("n_prep_obs", "<", "min_prep_obs", missing_is=True),),
        applies=_not_design,
        final=True,
    ),
    Rule(
        "INSUFFICIENT_DATA",
        (Comparison("n_planting_year_obs", "<", "min_prep_obs", missing_is=True),),
        applies=_not_design,
        final=True,
    ),
    Rule(
        "INSUFFICIENT_DATA",
        (Comparison("data_share", "<", "min_data_share", missing_is=True),),
        applies=_not_design,
        final=True,
    ),
    # a clear fall of the plot's own level (as large as the loss gate) is read before the
    # planting evidence: the plot had vegetation to lose, whatever its planting evidence
    *_loss_rules(Comparison("loss_own_drop", ">=", "loss_drop")),
    *_no_planting_rules(),
    # the share relative to what the per-pixel test finds on planted land like this
    # (pipeline.judgement.planted): bare hills and 4-band sensors show fewer planted pixels
    Rule(
        "PARTIAL_PLANTING",
        (Comparison("planted_share_rel", "<", "planted_share_full", or_metric="planted_share"),),
        applies=_not_design,
        unless_fired=frozenset({"VEGETATION_LOSS"}),
    ),
    # a planted plot: the break against the peers, with any own fall of the level
    *_loss_rules(Comparison("loss_own_drop", ">=", "loss_own_drop", missing_is=True)),
    Rule(
        "INSUFFICIENT_DATA",
        (Comparison("n_survival_winter_obs", "<", "min_winter_obs"),),
        applies=_not_design,
        unless_fired=frozenset({"VEGETATION_LOSS"}),
    ),
    # behind its peers, unless its canopy already went half-way from where the plot started to
    # the forest references (a species that closes within the imagery, read once due:
    # canopy_closure; NaN elsewhere): on sparse forest the spared trees alone read half
    # forest-like, which is no sign that the planting closed
    Rule(
        "LOW_SURVIVAL",
        (
            Comparison("years_observed", ">=", "survival_min_years"),
            Comparison("survival_gap_mean", "<", "survival_gap", negate_threshold=True),
            Comparison(
                "survival_gap_z",
                "<",
                "survival_spread",
                negate_threshold=True,
                missing_is=True,
            ),
            Comparison(
                "canopy_closure",
                "<",
                "canopy_closed_index",
                missing_is=True,
                or_metric="canopy_level",
            ),
        ),
        applies=_not_design,
        unless_fired=frozenset({"VEGETATION_LOSS"}),
    ),
    # a species that closes within the imagery, still not forest-like when it should be (on
    # a fully planted plot: a partial planting's level is diluted by its unplanted part)
    Rule(
        "LOW_SURVIVAL",
        (
            Comparison("canopy_level", "<", "canopy_closed_index"),
            Comparison("planted_share", ">=", "planted_share_full"),
        ),
        applies=_not_design,
        unless_fired=frozenset({"VEGETATION_LOSS", "LOW_SURVIVAL"}),
    ),
)
"""The rules in reading order (the order is part of the method: data sufficiency first)."""


def model_rules(codes: Sequence[str]) -> tuple[Rule, ...]:
    """The model's rules for the ``add`` policy, read after :data:`IMAGERY_RULES`: each adds its
    reason where the model's calibrated probability ``p_<CODE>`` reaches
    ``model_add_threshold`` and the rules did not already give it (a final rule that fired
    ends the reading first, so the model never overrides data sufficiency or a refutation)."""
    return tuple(
        Rule(
            code,
            (Comparison(f"p_{code}", ">=", "model_add_threshold"),),
            applies=_not_design,
            unless_fired=frozenset({code}),
        )
        for code in codes
    )


def apply_rules(
    plot: pd.Series, values: pd.Series, ev: Evidence, rules: Sequence[Rule] = IMAGERY_RULES
) -> tuple[list[str], list[Check]]:
    """Reason codes one plot's evidence supports, and the trace of every comparison read."""
    codes: list[str] = []
    trace: list[Check] = []
    for rule in rules:
        if not rule.applies(plot) or rule.unless_fired & set(codes):
            continue
        fired, checks = rule.read(plot, values, ev)
        trace += [replace(c, fired=fired) for c in checks]
        if fired:
            codes.append(rule.code)
            if rule.final:
                break
    return codes, trace


def _number(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")


def apply_rules_table(
    plots: pd.DataFrame,
    values: pd.DataFrame,
    ev: Evidence,
    rules: Sequence[Rule] = IMAGERY_RULES,
) -> tuple[np.ndarray, pd.DataFrame]:
    """:func:`apply_rules` on every plot at once, rule by rule over columns.

    ``plots`` and ``values`` (evidence) are aligned row for row. Returns which rules fired
    (plots × rules, bool; a plot's codes are those of its fired rules, in rule order) and the
    trace, one row per comparison read (``pos``: the plot's position, then code, metric,
    value, op, threshold, held, fired), in plot order, then rule and comparison order — the
    rows :func:`apply_rules` gives plot by plot.
    """
    n = len(plots)
    fired = np.zeros((n, len(rules)), bool)
    reading = np.ones(n, bool)  # no final rule has fired yet
    parts = []
    for r, rule in enumerate(rules):
        silenced = np.zeros(n, bool)
        for q, other in enumerate(rules[:r]):
            if other.code in rule.unless_fired:
                silenced |= fired[:, q]
        read = reading & _applies(rule, plots) & ~silenced
        if not read.any():
            continue
        comparisons = list(rule.all_of) + list(rule.none_of)
        held = [_held(c, values, ev) for c in comparisons]
        ok = np.logical_and.reduce([h for h, _, _ in held[: len(rule.all_of)]])
        if rule.none_of:
            ok &= ~np.logical_or.reduce([h for h, _, _ in held[len(rule.all_of) :]])
        fired[:, r] = read & ok
        pos = np.flatnonzero(read)
        for c, (comp, (h, value, limit)) in enumerate(zip(comparisons, held, strict=True)):
            parts.append(
                pd.DataFrame(
                    {
                        "pos": pos,
                        "rule": r,
                        "comparison": c,
                        "code": rule.code,
                        "metric": comp.metric,
                        "value": value[pos],
                        "op": comp.op,
                        "threshold": limit,
                        "held": h[pos],
                        "fired": fired[pos, r],
                    }
                )
            )
        if rule.final:
            reading &= ~fired[:, r]
    columns = ["pos", "code", "metric", "value", "op", "threshold", "held", "fired"]
    if not parts:
        return fired, pd.DataFrame(columns=columns)
    trace = pd.concat(parts, ignore_index=True)
    trace = trace.sort_values(["pos", "rule", "comparison"], kind="stable", ignore_index=True)
    return fired, trace[columns]


def _applies(rule: Rule, plots: pd.DataFrame) -> np.ndarray:
    """``rule.applies`` over every plot (column-wise for the registry's own predicates)."""
    if rule.applies is _always:
        return np.ones(len(plots), bool)
    if rule.applies is _not_design:
        return ~plots["is_design"].to_numpy(dtype=bool)
    return np.array([bool(rule.applies(plot)) for _, plot in plots.iterrows()], dtype=bool)


def _held(c: Comparison, values: pd.DataFrame, ev: Evidence):
    """:meth:`Comparison.check` over every plot: (held, value, threshold)."""
    if c.metric in values:
        value = pd.to_numeric(values[c.metric], errors="coerce").to_numpy(dtype=float)
    else:
        value = np.full(len(values), np.nan)
    if c.or_metric is not None and c.or_metric in values:
        other = pd.to_numeric(values[c.or_metric], errors="coerce").to_numpy(dtype=float)
        value = np.where(np.isnan(value), other, value)
    limit = float(getattr(ev, c.threshold))
    limit = -limit if c.negate_threshold else limit
    with np.errstate(invalid="ignore"):
        held = np.where(np.isnan(value), c.missing_is, _OPS[c.op](value, limit))
    return held.astype(bool), value, limit

"""Decisions: reason codes, a status and a verified area for every plot."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

import numpy as np
import pandas as pd

from pipeline.codes import join_reasons, status_of
from pipeline.config import Evidence
from pipeline.judgement.rules import IMAGERY_RULES, Check, Rule, apply_rules

NOT_JUDGED_ON_IMAGERY = {"TOO_SMALL"}
"""Desk reasons that keep a plot from the imagery judgement: only its geometry (and, checked in
:func:`imagery_reasons`, a missing planting year) may; a blank id or claimed area must not hide
what the imagery shows."""


TRACE_COLUMNS = ("row", "code", "metric", "value", "op", "threshold", "held", "fired")

NO_PLANTING = {"NO_PLANTING_EVIDENCE", "PRE_EXISTING_FOREST", "VEGETATION_LOSS"}
NOT_SETTLED = {"INSUFFICIENT_DATA", "ESTABLISHMENT_NOT_YET_VISIBLE"}
"""Imagery reasons that leave the planted area unknown (NaN): the imagery could not settle it."""


def imagery_reasons(
    plot: pd.Series, ev_row: pd.Series, ev: Evidence, rules: Sequence[Rule] = IMAGERY_RULES
) -> tuple[list[str] | None, list[Check]]:
    """Reason codes the imagery evidence of one plot supports (``None`` when not judged) and
    the rule trace behind them.

    Plots without a usable geometry or planting year, or below ``min_judge_area_mu``, are not
    judged (their desk reasons say why); a polygon above ``plots.max_area_km2`` (``oversize``,
    logged PLOT_TOO_LARGE) was not read and is INSUFFICIENT_DATA. Design-stage plots are
    judged only for a forest baseline (see :data:`~pipeline.judgement.rules.IMAGERY_RULES`).
    """
    if (
        plot["geom_status"] == "empty"
        or pd.isna(plot["planting_year"])
        or plot["geom_area_mu"] < ev.min_judge_area_mu
    ):
        return None, []
    if bool(plot.get("oversize", False)):  # above plots.max_area_km2: never loaded
        return ["INSUFFICIENT_DATA"], [Check("INSUFFICIENT_DATA", "oversize", 1.0, ">=", 1.0,
                                             held=True, fired=True)]  # fmt: skip
    return apply_rules(plot, ev_row, ev, rules)


def flag_plots(
    plots: pd.DataFrame,
    desk: pd.DataFrame,
    evidence: pd.DataFrame,
    ev: Evidence,
    rules: Sequence[Rule] = IMAGERY_RULES,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Combine desk findings and imagery evidence into ``reasons``, ``status`` and areas, and
    the rule trace (one row per comparison read: row, code, metric, value, op, threshold,
    held, fired).

    ``planted_area_mu``: see :func:`_planted_area`; ``verified_area_mu``: the planted area,
    but 0 for inconsistent plots (a re-report, farmland or out-of-county plot earns nothing).
    """
    rows = plots["row"].to_numpy()
    desk = desk.reindex(rows)
    evidence = evidence.reindex(rows)
    reasons_out, status_out, verified, planted = [], [], [], []
    trace: list[dict] = []
    for i, (_, plot) in enumerate(plots.iterrows()):
        desk_r = list(desk["desk_reasons"].iloc[i])
        ev_row = evidence.iloc[i]
        img_r, checks = (
            (None, [])
            if NOT_JUDGED_ON_IMAGERY & set(desk_r)
            else imagery_reasons(plot, ev_row, ev, rules)
        )
        trace += [{"row": rows[i], **asdict(c)} for c in checks]
        codes = desk_r + (img_r or [])
        status = status_of(codes)
        reasons_out.append(join_reasons(codes))
        status_out.append(status)
        area = _planted_area(plot, ev_row, img_r)
        planted.append(area)
        verified.append(0.0 if status == "inconsistent" else area)
    decisions = pd.DataFrame(
        {
            "reasons": reasons_out,
            "status": status_out,
            "verified_area_mu": verified,
            "planted_area_mu": planted,
        },
        index=pd.Index(rows, name="row"),
    )
    return decisions, pd.DataFrame(trace, columns=list(TRACE_COLUMNS))


def _planted_area(plot, ev_row, img_r: list[str] | None) -> float:
    """The imagery's estimate of the plot area holding the claimed planting (亩).

    0 for design-stage plots and where planting is refuted (no planting, forest, loss), NaN
    where the imagery did not or could not judge (:data:`NOT_SETTLED`), the planted share of
    the polygon for partial planting, the polygon area otherwise.
    """
    if plot["is_design"]:
        return 0.0
    if img_r is None or NOT_SETTLED & set(img_r):
        return float("nan")
    if NO_PLANTING & set(img_r):
        return 0.0
    area = float(plot["geom_area_mu"])
    share = ev_row["planted_share"]
    if "PARTIAL_PLANTING" in img_r and np.isfinite(share):
        return area * float(share)
    return area

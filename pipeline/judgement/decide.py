"""Decisions: reason codes, a status and a verified area for every plot."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

import numpy as np
import pandas as pd

from pipeline.codes import join_reasons, status_of
from pipeline.config import Evidence
from pipeline.judgement.rules import IMAGERY_RULES, Check, Rule, apply_rules, apply_rules_table

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
    The rules are read column-wise (:func:`~pipeline.judgement.rules.apply_rules_table`): the
    same codes and trace rows, in the same order, as :func:`imagery_reasons` plot by plot.
    """
    rows = plots["row"].to_numpy()
    n = len(rows)
    desk = desk.reindex(rows)
    evidence = evidence.reindex(rows)
    desk_codes = [tuple(r) for r in desk["desk_reasons"]]
    blocked = np.array([bool(NOT_JUDGED_ON_IMAGERY & set(r)) for r in desk_codes], bool)
    geom_status = plots["geom_status"].to_numpy(dtype=object)
    not_judged = (
        blocked
        | (geom_status == "empty")
        | plots["planting_year"].isna().to_numpy()
        | (plots["geom_area_mu"].to_numpy(dtype=float) < ev.min_judge_area_mu)
    )
    oversize = np.zeros(n, bool)
    if "oversize" in plots:
        oversize = np.array([bool(v) for v in plots["oversize"].to_numpy(dtype=object)], bool)
    oversize &= ~not_judged
    read = ~not_judged & ~oversize
    sub = np.flatnonzero(read)
    fired, trace = apply_rules_table(plots.iloc[sub], evidence.iloc[sub], ev, rules)
    trace["pos"] = sub[trace["pos"].to_numpy(dtype=int)]
    big = np.flatnonzero(oversize)
    if len(big):  # above plots.max_area_km2: never loaded
        check = asdict(Check("INSUFFICIENT_DATA", "oversize", 1.0, ">=", 1.0, True, True))
        trace = pd.concat([trace, pd.DataFrame({"pos": big, **check})], ignore_index=True)
        trace = trace.sort_values("pos", kind="stable", ignore_index=True)
    img: list[tuple[str, ...] | None] = [None] * n
    for i in big:
        img[i] = ("INSUFFICIENT_DATA",)
    if len(sub):
        patterns, which = np.unique(fired, axis=0, return_inverse=True)
        codes_of = [tuple(rules[r].code for r in np.flatnonzero(p)) for p in patterns]
        for i, w in zip(sub, which.ravel(), strict=True):
            img[i] = codes_of[w]
    verdict: dict = {}
    reasons_out, status_out = [], []
    for d, m in zip(desk_codes, img, strict=True):
        key = (d, m)
        if key not in verdict:
            codes = list(d) + list(m or ())
            verdict[key] = (join_reasons(codes), status_of(codes))
        reasons_out.append(verdict[key][0])
        status_out.append(verdict[key][1])
    planted = _planted_areas(plots, evidence, img)
    status = np.array(status_out, dtype=object)
    decisions = pd.DataFrame(
        {
            "reasons": reasons_out,
            "status": status_out,
            "verified_area_mu": np.where(status == "inconsistent", 0.0, planted),
            "planted_area_mu": planted,
        },
        index=pd.Index(rows, name="row"),
    )
    if trace.empty:
        return decisions, pd.DataFrame(columns=list(TRACE_COLUMNS))
    trace.insert(0, "row", rows[trace.pop("pos").to_numpy(dtype=int)])
    return decisions, trace[list(TRACE_COLUMNS)]


def _planted_areas(plots: pd.DataFrame, evidence: pd.DataFrame, img: list) -> np.ndarray:
    """:func:`_planted_area` of every plot (``img``: each plot's imagery codes or None)."""
    area = plots["geom_area_mu"].to_numpy(dtype=float)
    share = _share(evidence)
    design = np.array([bool(v) for v in plots["is_design"].to_numpy(dtype=object)], bool)
    out = np.empty(len(area))
    for i, codes in enumerate(img):
        if design[i]:
            out[i] = 0.0
        elif codes is None or NOT_SETTLED & set(codes):
            out[i] = np.nan
        elif NO_PLANTING & set(codes):
            out[i] = 0.0
        elif "PARTIAL_PLANTING" in codes and np.isfinite(share[i]):
            out[i] = area[i] * share[i]
        else:
            out[i] = area[i]
    return out


def _share(evidence: pd.DataFrame) -> np.ndarray:
    """The planted share the area reads: relative to what planted land like this shows
    (``planted_share_rel``, :mod:`pipeline.judgement.planted`) where the evidence has it."""
    col = "planted_share_rel" if "planted_share_rel" in evidence else "planted_share"
    return evidence[col].to_numpy(dtype=float)


def _planted_area(plot, ev_row, img_r: list[str] | None) -> float:
    """The imagery's estimate of the plot area holding the claimed planting (亩).

    0 for design-stage plots and where planting is refuted (no planting, forest, loss), NaN
    where the imagery did not or could not judge (:data:`NOT_SETTLED`), the planted share of
    the polygon (relative to what planted land like this shows) for partial planting, the
    polygon area otherwise.
    """
    if plot["is_design"]:
        return 0.0
    if img_r is None or NOT_SETTLED & set(img_r):
        return float("nan")
    if NO_PLANTING & set(img_r):
        return 0.0
    area = float(plot["geom_area_mu"])
    share = ev_row.get("planted_share_rel", ev_row["planted_share"])
    if "PARTIAL_PLANTING" in img_r and np.isfinite(share):
        return area * float(share)
    return area

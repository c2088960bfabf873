"""County figures: the numbers every document reports (``summary.csv``, the workbook, the
bulletin), computed once, from per-plot areas rounded to 0.01 亩 so that detail lines, county
rows and the 合计 row add up exactly."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.codes import REASONS, STATUS_LABELS, STATUSES, actions_of, split_reasons
from pipeline.config import TaskTarget
from pipeline.files import write_table

TOTAL = "合计"
NO_COUNTY = "(未填)"

AREA_LABELS: dict[str, str] = {
    "claimed_mu": "上报面积",
    "geom_mu": "图形面积",
    "verified_mu": "核实面积",
    "passed_mu": "合格面积",
    "supplement_mu": "待补植面积",
    "failed_mu": "不合格面积",
    "deducted_mu": "核减面积",
}
"""Per-plot areas (亩) of planted-stage plots; design-stage plots count apart."""

FIGURE_LABELS: dict[str, str] = {
    "county": "县",
    "n_plots": "图斑数",
    "n_planted": "造林图斑数",
    **AREA_LABELS,
    "verified_rate": "面积核实率",
    "pass_rate_verified": "合格率(按核实面积)",
    "pass_rate_claimed": "合格率(按上报面积)",
    "n_design": "设计施工图斑数",
    "design_claimed_mu": "设计施工面积",
    "planted_task_mu": "造林任务",
    "planted_task_share": "核实面积占任务",
    "design_task_mu": "设计施工任务",
    "design_task_share": "设计施工占任务",
}
RATES = ("verified_rate", "pass_rate_verified", "pass_rate_claimed")
SHARES = ("planted_task_share", "design_task_share")


def plot_areas(result: pd.DataFrame) -> pd.DataFrame:
    """Per plot (index as ``result``): the :data:`AREA_LABELS` areas in 亩, rounded to 0.01.

    合格 = verified area of consistent plots; 待补植 = polygon area not yet planted on plots
    needing 补植 (partial planting) or all of it (low survival); 不合格 = polygon area of
    inconsistent plots; 核减 = reported minus verified where the imagery settled the claim.
    Design-stage plots get 0 everywhere but the reported and polygon areas.
    """
    design = result["is_design"].fillna(False).astype(bool)
    claimed = result["claimed_area_mu"].fillna(0.0)
    geom = result["geom_area_mu"].fillna(0.0)
    verified = result["verified_area_mu"]
    codes = result["reasons"].map(split_reasons)
    partial = codes.map(lambda cs: "PARTIAL_PLANTING" in cs)
    needs = result["reasons"].map(lambda r: "supplement" in actions_of(r))
    unplanted = (geom - result["planted_area_mu"].fillna(geom)).clip(lower=0)
    inconsistent = result["status"] == "inconsistent"
    out = pd.DataFrame(
        {
            "claimed_mu": claimed,
            "geom_mu": geom,
            "verified_mu": verified.fillna(0.0),
            "passed_mu": verified.fillna(0.0).where(result["status"] == "consistent", 0.0),
            "supplement_mu": np.where(
                needs & ~inconsistent, np.where(partial, unplanted, geom), 0.0
            ),
            "failed_mu": geom.where(inconsistent, 0.0),
            "deducted_mu": (claimed - verified).clip(lower=0).where(verified.notna(), 0.0),
        },
        index=result.index,
    )
    zero = [c for c in out.columns if c not in ("claimed_mu", "geom_mu")]
    out.loc[design, zero] = 0.0
    return out.round(2)


def _ratio(num: float, den: float) -> float:
    return num / den if den else float("nan")


def _figures(g: pd.DataFrame, areas: pd.DataFrame) -> dict:
    design = g["is_design"].fillna(False).astype(bool)
    planted = areas.loc[g.index[~design.to_numpy()]]
    row: dict = {"n_plots": len(g), "n_planted": int((~design).sum())}
    for col in AREA_LABELS:
        row[col] = round(float(planted[col].sum()), 2)
    row["verified_rate"] = _ratio(row["verified_mu"], row["claimed_mu"])
    row["pass_rate_verified"] = _ratio(row["passed_mu"], row["verified_mu"])
    row["pass_rate_claimed"] = _ratio(row["passed_mu"], row["claimed_mu"])
    row["n_design"] = int(design.sum())
    row["design_claimed_mu"] = round(
        float(areas.loc[g.index[design.to_numpy()], "claimed_mu"].sum()), 2
    )
    for status in STATUSES:
        sel = (g["status"] == status).to_numpy()
        row[f"n_{status}"] = int(sel.sum())
        row[f"area_{status}_mu"] = round(float(areas.loc[g.index[sel], "geom_mu"].sum()), 2)
    codes = g["reasons"].map(split_reasons)
    for code in REASONS:
        sel = codes.map(lambda cs, c=code: c in cs).to_numpy(dtype=bool)
        row[f"n_{code}"] = int(sel.sum())
        row[f"area_{code}_mu"] = round(float(areas.loc[g.index[sel], "geom_mu"].sum()), 2)
    return row


def county_of(result: pd.DataFrame) -> pd.Series:
    """The county each plot counts under (``(未填)`` when empty)."""
    return result["county"].fillna(NO_COUNTY).replace("", NO_COUNTY).astype(str)


def plot_identity(result: pd.DataFrame) -> pd.DataFrame:
    """Who a plot is, as documents list it: county, township, village, plot id, stage
    (empty text where missing)."""
    blank = pd.Series("", index=result.index)
    return pd.DataFrame(
        {
            "county": county_of(result),
            "township": result["township"].fillna(""),
            "village": result.get("village", blank).fillna(""),
            "plot_id": result["plot_id"].fillna(""),
            "stage": result["stage"].fillna(""),
        }
    )


def county_figures(result: pd.DataFrame, targets: Iterable[TaskTarget] = ()) -> pd.DataFrame:
    """One row per county (sorted) and a 合计 row: plots, areas (亩), rates, counts and
    polygon areas by status and by reason, and the share of each county's annual task."""
    areas = plot_areas(result)
    county = county_of(result)
    rows = [
        {"county": name, **_figures(result.loc[g.index], areas)}
        for name, g in result.groupby(county, sort=True)
    ]
    rows.append({"county": TOTAL, **_figures(result, areas)})
    df = pd.DataFrame(rows)
    task = {(t.county, t.stage): t.area_mu for t in targets}
    for stage, done in (("planted", "verified_mu"), ("design", "design_claimed_mu")):
        per = df["county"].map(lambda c, s=stage: task.get((c, s), np.nan))
        if task:
            per[df["county"] == TOTAL] = (
                sum(v for (c, s), v in task.items() if s == stage) or np.nan
            )
        df[f"{stage}_task_mu"] = per
        df[f"{stage}_task_share"] = df[done] / per
    return df


def summary_table(figures: pd.DataFrame) -> pd.DataFrame:
    """``summary.csv``: Chinese headers (README), areas to 0.01 亩, rates to 0.0001."""
    names = {k: v + ("_亩" if k.endswith("_mu") else "") for k, v in FIGURE_LABELS.items()}
    for status in STATUSES:
        names[f"n_{status}"] = f"图斑数_{STATUS_LABELS[status]}"
        names[f"area_{status}_mu"] = f"面积_{STATUS_LABELS[status]}_亩"
    for code, r in REASONS.items():
        names[f"n_{code}"] = f"图斑数_{r.label}"
        names[f"area_{code}_mu"] = f"面积_{r.label}_亩"
    df = figures.drop(columns=[c for c in figures.columns if "task" in c])
    df[list(RATES)] = df[list(RATES)].round(4)
    return df.rename(columns=names)


def write_summary(result: pd.DataFrame, path: Path) -> None:
    """Write ``summary.csv`` (UTF-8 with BOM for Excel)."""
    write_table(summary_table(county_figures(result)), Path(path))

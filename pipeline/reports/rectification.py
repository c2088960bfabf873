"""整改清单: the plots a county must act on, with the action (补植 / 重新造林 / 核减面积 /
补充材料), the area concerned, the reason in Chinese and a deadline; as a table (a workbook
sheet) and one printable HTML document per county."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from pipeline.codes import ACTIONS, STATUS_LABELS, actions_of, label_reasons
from pipeline.reports.summary import plot_areas, plot_identity

# Which per-plot area each action concerns (columns of summary.plot_areas).
ACTION_AREAS = {
    "replant": "geom_mu",
    "supplement": "supplement_mu",
    "deduct": "deducted_mu",
    "document": "claimed_mu",
}
COLUMNS = {
    "county": "县",
    "township": "乡镇",
    "village": "村",
    "plot_id": "图斑编号",
    "stage": "阶段",
    "claimed_mu": "上报面积",
    "action": "整改措施",
    "action_mu": "整改面积",
    "other_actions": "其他措施",
    "reason_labels": "问题类型",
    "status_label": "核查结论",
    "deadline": "整改期限",
    "note": "备注",
    "row": "行号",
}


def deadline_of(report_date: date, days: int) -> date:
    """The 整改 deadline: ``days`` after the report date."""
    return report_date + timedelta(days=days)


def rectification_table(result: pd.DataFrame, deadline: date) -> pd.DataFrame:
    """One row per plot needing action (input order within each county, counties sorted):
    the first action of :data:`ACTIONS` its reasons ask for, with its area (亩, 0.01), the
    other actions, the reasons in Chinese and the deadline. English keys (:data:`COLUMNS`)."""
    areas = plot_areas(result)
    acts = result["reasons"].map(actions_of)
    need = acts.map(bool) & ~result["is_design"].fillna(False).astype(bool)
    sel = result[need]
    main = acts[need].map(lambda a: a[0])
    table = plot_identity(sel).assign(
        **{
            "claimed_mu": areas.loc[sel.index, "claimed_mu"],
            "action": main.map(ACTIONS),
            "action_mu": [areas.at[i, ACTION_AREAS[a]] for i, a in main.items()],
            "other_actions": acts[need].map(lambda a: "；".join(ACTIONS[x] for x in a[1:])),
            "reason_labels": sel["reasons"].map(label_reasons),
            "status_label": sel["status"].map(STATUS_LABELS),
            "deadline": deadline.isoformat(),
            "note": sel["备注"].fillna("").astype(str) if "备注" in sel else "",
            "row": sel["row"],
        }
    )
    return table.sort_values(["county", "row"], kind="stable").reset_index(drop=True)


def action_totals(table: pd.DataFrame) -> pd.DataFrame:
    """Per county and action: plots and area (亩) of :func:`rectification_table`."""
    return (
        table.groupby(["county", "action"], sort=True)
        .agg(n_plots=("row", "size"), area_mu=("action_mu", "sum"))
        .round(2)
        .reset_index()
    )


def write_rectification_html(
    table: pd.DataFrame, out_dir: Path, context: dict, render
) -> list[Path]:
    """One printable 整改清单 per county (``整改清单_<县>.html``); returns the paths.
    ``render(template, path, **context)`` writes a template (:mod:`.html`)."""
    paths = []
    for county, g in table.groupby("county", sort=True):
        path = Path(out_dir) / f"整改清单_{county}.html"
        rows = g.drop(columns=["county"]).rename(columns=COLUMNS)
        render(
            "rectification.html.j2",
            path,
            **context,
            county=county,
            columns=list(rows.columns),
            rows=rows.to_dict("records"),
            totals=action_totals(g).to_dict("records"),
        )
        paths.append(path)
    return paths

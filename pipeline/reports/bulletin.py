"""进度通报 (progress bulletin): plots and area by county and stage against the annual task,
and what changed since the previous run of the same plots."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.codes import STATUS_LABELS
from pipeline.reports.history import RunStatuses
from pipeline.reports.summary import TOTAL, county_of, plot_areas


def stage_progress(result: pd.DataFrame) -> pd.DataFrame:
    """Per county and stage (and a 合计 row per county): plots, reported and verified 亩."""
    areas = plot_areas(result)
    df = pd.DataFrame(
        {
            "county": county_of(result),
            "stage": result["stage"].fillna("(未填)"),
            "claimed_mu": areas["claimed_mu"],
            "verified_mu": areas["verified_mu"],
        }
    )
    g = df.groupby(["county", "stage"], sort=True)
    out = g.agg(n_plots=("claimed_mu", "size"), claimed_mu=("claimed_mu", "sum"),
                verified_mu=("verified_mu", "sum")).reset_index()  # fmt: skip
    return out.round(2)


def changes_by_county(
    result: pd.DataFrame, current: RunStatuses, previous: RunStatuses
) -> pd.DataFrame:
    """Per county: plots whose status changed, plots newly consistent / newly flagged, and the
    change of verified area (亩) since ``previous``."""
    prev = previous.table.set_index("key")
    cur = current.table.assign(county=county_of(result).to_numpy())
    before = cur["key"].map(prev["status"])
    cur = cur.assign(
        before=before,
        changed=before.notna() & (before != cur["status"]),
        delta=cur["verified_area_mu"].fillna(0)
        - cur["key"].map(prev["verified_area_mu"]).fillna(0),
    )
    cur["to_ok"] = cur["changed"] & (cur["status"] == "consistent")
    cur["to_flag"] = cur["changed"] & (cur["before"] == "consistent")
    rows = []
    for county, g in [*cur.groupby("county", sort=True), (TOTAL, cur)]:
        rows.append(
            {
                "county": county,
                "n_changed": int(g["changed"].sum()),
                "n_to_consistent": int(g["to_ok"].sum()),
                "n_newly_flagged": int(g["to_flag"].sum()),
                "verified_delta_mu": round(float(g["delta"].sum()), 2),
            }
        )
    return pd.DataFrame(rows)


def write_bulletin(
    path: Path,
    result: pd.DataFrame,
    figures: pd.DataFrame,
    context: dict,
    render,
    changes: pd.DataFrame | None = None,
    changed_list: pd.DataFrame | None = None,
    previous_label: str | None = None,
) -> Path:
    """The bulletin as one printable HTML file."""
    return render(
        "bulletin.html.j2",
        Path(path),
        **context,
        stages=stage_progress(result).to_dict("records"),
        figures=figures.to_dict("records"),
        has_targets=bool(
            figures["planted_task_mu"].notna().any() or figures["design_task_mu"].notna().any()
        ),  # fmt: skip
        changes=None if changes is None else changes.to_dict("records"),
        changed_list=None if changed_list is None else changed_list.to_dict("records"),
        changed_columns=None if changed_list is None else list(changed_list.columns),
        previous_label=previous_label,
        status_labels=STATUS_LABELS,
    )

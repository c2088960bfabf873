"""The worklist: which plots to review, in which order, and progress per county.

Pure functions on the plot table joined with the review state (one row per plot).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from pipeline.codes import STATUSES, split_reasons
from pipeline.review.states import PlotReview

PROBABILITY_COLUMNS = ("model_probability", "probability", "model_prob")
SORTS = {"severity": "严重程度", "probability": "模型概率", "area": "面积"}


@dataclass(frozen=True)
class Filters:
    """Worklist filters as given in the query string (empty = no filter)."""

    county: str = ""
    township: str = ""
    reason: str = ""
    status: str = ""
    assignee: str = ""
    decision: str = ""
    state: str = ""
    queue: str = ""  # "" all, "double", "blind", "mine"
    sort: str = "severity"

    def query(self) -> str:
        """The filters as a query string (to keep them across pages)."""
        from urllib.parse import urlencode

        return urlencode({k: v for k, v in self.__dict__.items() if v})


def probability_column(plots: pd.DataFrame) -> str | None:
    """The model's probability column, if the run has one."""
    return next((c for c in PROBABILITY_COLUMNS if c in plots.columns), None)


def join_reviews(
    plots: pd.DataFrame,
    reviews: dict[int, PlotReview],
    assignments: dict[int, str],
    samples: dict[str, set[int]],
) -> pd.DataFrame:
    """The worklist table: plot claims, findings, and review state/decision/assignee/samples."""
    cols = ["row", "plot_id", "county", "township", "status", "reasons", "claimed_area_mu"]
    cols += ["geom_area_mu"]
    prob = probability_column(plots)
    table = pd.DataFrame(plots[cols + ([prob] if prob else [])]).copy()
    table["probability"] = table[prob] if prob else float("nan")
    rows = table["row"].astype(int)
    table["state"] = [reviews[r].state for r in rows]
    table["decision"] = [reviews[r].final.decision if reviews[r].final else "" for r in rows]
    table["assignee"] = [assignments.get(r, "") for r in rows]
    table["double"] = rows.isin(samples.get("double", set())).to_numpy()
    table["blind"] = rows.isin(samples.get("blind", set())).to_numpy()
    table["severity"] = table["status"].map(STATUSES.index)
    return table


def filter_worklist(table: pd.DataFrame, f: Filters, user: str) -> pd.DataFrame:
    """Rows matching every filter, flagged plots first (or by probability / area).

    The blind sample (unflagged plots) is reviewed in its own queue, which shows no finding,
    and is left out of every other queue so reviewers do not learn its status.
    """
    keep = pd.Series(True, index=table.index)
    for col in ("county", "township", "status", "assignee", "state"):
        value = getattr(f, col)
        if value:
            keep &= table[col].fillna("").astype(str) == value
    if f.decision:
        keep &= table["decision"] == ("" if f.decision == "none" else f.decision)
    if f.reason:
        keep &= table["reasons"].map(lambda t: f.reason in split_reasons(t))
    keep &= table["blind"] if f.queue == "blind" else ~table["blind"]
    if f.queue == "double":
        keep &= table["double"]
    elif f.queue == "mine":
        keep &= table["assignee"] == user
    elif f.queue == "flagged":
        keep &= table["status"] != "consistent"
    out = table[keep]
    if f.sort == "probability":
        return out.sort_values(["probability", "row"], ascending=[False, True], na_position="last")
    if f.sort == "area":
        return out.sort_values(["geom_area_mu", "row"], ascending=[False, True])
    return out.sort_values(["severity", "row"], ascending=[False, True])


def progress_by_county(table: pd.DataFrame) -> pd.DataFrame:
    """Per county and in total: flagged plots, plots decided, disagreements, open."""
    t = table.assign(
        county=table["county"].fillna("(未填)"),
        flagged=table["status"] != "consistent",
        decided=table["state"] == "decided",
        disagreement=table["state"] == "disagreement",
    )
    t["flagged_decided"] = t["flagged"] & t["decided"]
    agg = t.groupby("county", sort=True).agg(
        plots=("row", "size"),
        flagged=("flagged", "sum"),
        flagged_decided=("flagged_decided", "sum"),
        decided=("decided", "sum"),
        disagreement=("disagreement", "sum"),
    )
    agg.loc["合计"] = agg.sum()
    agg["share"] = agg["flagged_decided"] / agg["flagged"].where(agg["flagged"] > 0)
    return agg.reset_index()


def neighbours(table: pd.DataFrame, row: int) -> tuple[int | None, int | None]:
    """The rows before and after ``row`` in a filtered worklist (keyboard n / p)."""
    rows = table["row"].astype(int).tolist()
    if row not in rows:
        return None, None
    i = rows.index(row)
    return (rows[i - 1] if i > 0 else None), (rows[i + 1] if i + 1 < len(rows) else None)

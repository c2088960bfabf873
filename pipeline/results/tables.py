"""Count tables of run results for notebooks and reports (plain pandas in, pandas out)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from pipeline.codes import REASONS, STATUSES, split_reasons


def count_statuses(plots: pd.DataFrame, by: str = "county") -> pd.DataFrame:
    """Plots per ``by`` (rows, sorted; empty as "(未填)") and status (columns, every status)."""
    groups = plots[by].fillna("(未填)")
    table = pd.crosstab(groups, pd.Categorical(plots["status"], categories=STATUSES), dropna=False)
    table.columns = list(STATUSES)
    return table.rename_axis(by)


def count_reasons(plots: pd.DataFrame, by: str = "county", labels: bool = True) -> pd.DataFrame:
    """Plots per ``by`` (rows) and reason code (columns, in code order, only codes that occur;
    headed ``CODE 中文`` when ``labels``). A plot with several reasons counts under each."""
    long = plots[[by, "reasons"]].assign(
        code=plots["reasons"].map(split_reasons), **{by: plots[by].fillna("(未填)")}
    )
    long = long.explode("code").dropna(subset=["code"])
    codes = [c for c in REASONS if c in set(long["code"])]
    table = pd.crosstab(long[by], pd.Categorical(long["code"], categories=codes), dropna=False)
    table.columns = [f"{c} {REASONS[c].label}" if labels else c for c in codes]
    return table.rename_axis(by)


def evaluation_table(report: dict[str, Any]) -> pd.DataFrame:
    """Per reason (rows): true, tp, fp, fn, precision, recall, from
    :func:`pipeline.judgement.evaluate.evaluate_run`."""
    return pd.DataFrame.from_dict(report["reasons"], orient="index").rename_axis("reason")


def sweep_threshold(run, key: str, values: list[float]) -> pd.DataFrame:
    """Plots per status (columns) when evidence ``key`` takes each of ``values`` (rows),
    re-judged from the stored tables (:meth:`pipeline.results.run.Run.rejudge`)."""
    rows = {}
    for value in values:
        statuses = run.rejudge(**{key: value})["status"]
        rows[value] = statuses.value_counts().reindex(list(STATUSES), fill_value=0)
    return pd.DataFrame(rows).T.rename_axis(key)

"""Run-to-run history (回头看): each plot's status across the earlier runs a run names
(``reports.history``) and this one, and the plots whose status changed.

Plots are matched by plot id where the id is unique in both runs, else by their row."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from pipeline.codes import STATUS_LABELS, label_reasons
from pipeline.errors import TushuError
from pipeline.layout import RunLayout
from pipeline.reports.summary import county_of


class HistoryError(TushuError):
    """An earlier run named in ``reports.history`` cannot be read."""


@dataclass(frozen=True)
class RunStatuses:
    """One run's per-plot outcome: ``label`` (run id or date) and a table with ``key``,
    ``row``, ``plot_id``, ``status``, ``reasons``, ``verified_area_mu``."""

    label: str
    table: pd.DataFrame


def plot_keys(result: pd.DataFrame) -> pd.Series:
    """Matching key per plot: the plot id when unique in the run, else ``#<row>``."""
    ids = result["plot_id"].fillna("").astype(str)
    unique = ids.ne("") & ~ids.duplicated(keep=False)
    return ids.where(unique, "#" + result["row"].astype(str))


def run_statuses(result: pd.DataFrame, label: str) -> RunStatuses:
    cols = ["row", "plot_id", "status", "reasons", "verified_area_mu"]
    table = result[cols].copy()
    table["key"] = plot_keys(result).to_numpy()
    return RunStatuses(label, table.reset_index(drop=True))


def read_run_statuses(run_dir: Path) -> RunStatuses:
    """An earlier run's statuses, labelled by its ``run.json`` date and id."""
    layout = RunLayout.of(run_dir)
    if not layout.plots_parquet.is_file():
        raise HistoryError(
            f"reports.history names {layout.root}, which has no plots.parquet; give the "
            "output folder of a finished earlier run (or remove it from reports.history)"
        )
    label = layout.root.name
    if layout.run_json.is_file():
        run = json.loads(layout.run_json.read_text(encoding="utf-8"))
        label = f"{str(run.get('started', ''))[:10]} {run.get('run_id', label)}".strip()
    return run_statuses(gpd.read_parquet(layout.plots_parquet), label)


def status_history(runs: list[RunStatuses]) -> pd.DataFrame:
    """Wide table, one row per plot of the last run (its order): ``row``, ``plot_id``, the
    status of each run (columns named by run label, oldest first; empty where the plot was
    not in that run), ``changed`` (last status differs from the one before) and
    ``previous_status``."""
    *earlier, current = runs
    out = current.table[["key", "row", "plot_id"]].copy()
    labels = []
    for i, run in enumerate(runs):
        label = run.label if run.label not in labels else f"{run.label} ({i + 1})"
        labels.append(label)
        out[label] = out["key"].map(run.table.set_index("key")["status"])
    prev = out[labels[-2]] if earlier else pd.Series(pd.NA, index=out.index)
    out["previous_status"] = prev
    out["changed"] = prev.notna() & (prev != out[labels[-1]])
    return out.drop(columns=["key"])


def changed_plots(history: pd.DataFrame, result: pd.DataFrame) -> pd.DataFrame:
    """The plots whose status changed since the previous run, with county, statuses in
    Chinese and the current reasons (Chinese headers)."""
    changed = history[history["changed"]]
    cur = result.set_index("row").loc[changed["row"]]
    return pd.DataFrame(
        {
            "县": county_of(cur).to_numpy(),
            "图斑编号": changed["plot_id"].fillna("").to_numpy(),
            "上次核查结论": changed["previous_status"].map(STATUS_LABELS).to_numpy(),
            "本次核查结论": cur["status"].map(STATUS_LABELS).to_numpy(),
            "本次问题类型": cur["reasons"].map(label_reasons).to_numpy(),
            "行号": changed["row"].to_numpy(),
        }
    )


def history_table(history: pd.DataFrame) -> pd.DataFrame:
    """:func:`status_history` for people: statuses in Chinese, Chinese headers."""
    runs = [c for c in history.columns if c not in ("row", "plot_id", "previous_status", "changed")]
    out = history.rename(columns={"row": "行号", "plot_id": "图斑编号"})
    for c in runs:
        out[c] = out[c].map(STATUS_LABELS)
    out["状态变化"] = history["changed"].map({True: "是", False: ""})
    return out.drop(columns=["previous_status", "changed"])

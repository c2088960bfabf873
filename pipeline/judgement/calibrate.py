"""Fit the rule thresholds on labelled runs, so that a score on other worlds is held out.

The thresholds that matter most are reference-relative (forest-likeness or change units,
see :mod:`pipeline.judgement.evidence`), so a value fitted on some worlds can be read on
others. :func:`fit_thresholds` chooses them by a coordinate search over a small grid
(:data:`THRESHOLD_GRID`): starting from the current values, each key in turn takes the grid
value with the best score while the others stay fixed, for ``rounds`` passes. The score of a
set of thresholds on the training runs is, in order:

1. the constraints: over the training runs' genuine plots (no true reason, pooled: a small
   world has ~30, where one plot is already 3 %) ``inconsistent`` ≤ ``max_inconsistent`` and
   ``suspect`` ≤ ``max_suspect`` (a set that breaks them is only better than another that
   breaks them more);
2. the mean recall over the imagery reasons (each reason's found / true over all runs);
3. ties keep the current value (a key moves only for a strictly better score; values are
   tried nearest the starting one first).

Only rule thresholds are fitted (the evidence metrics are computed once per run, with the
starting settings; ``forest_index`` also picks the survival peers, which is left at the
starting value while fitting). The per-pixel site-preparation keys are applied when the
imagery is read and are not fitted. :func:`save_thresholds` writes ``thresholds.json``
(values, grid, constraints, training scores, sources); ``evidence.thresholds`` in the config
loads it (:func:`apply_thresholds`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.codes import REASONS, split_reasons
from pipeline.config import Evidence, SeriesPrepSettings
from pipeline.errors import ConfigError
from pipeline.judgement.decide import flag_plots
from pipeline.judgement.evidence import EVIDENCE_COLUMNS

THRESHOLDS_FILE = "thresholds.json"
FITTED_REASONS = (
    "PRE_EXISTING_FOREST",
    "NO_PLANTING_EVIDENCE",
    "VEGETATION_LOSS",
    "LOW_SURVIVAL",
    "PARTIAL_PLANTING",
)
#: The keys fitted and the values tried (units as in :class:`~pipeline.config.Evidence`).
THRESHOLD_GRID: dict[str, tuple[float, ...]] = {
    "forest_index": (0.5, 0.6, 0.7, 0.8, 0.9),
    "planted_share_none": (0.1, 0.15, 0.2, 0.3),
    "planted_share_full": (0.6, 0.7, 0.8),
    "loss_drop": (0.15, 0.2, 0.25, 0.3, 0.35, 0.45),
    "loss_z": (2.5, 3.0, 4.0, 5.0, 6.0),
    "loss_spread": (2.0, 3.0, 4.0, 5.0),
    "survival_gap": (0.05, 0.08, 0.1, 0.15, 0.2, 0.3),
    "survival_spread": (1.0, 1.5, 2.0, 3.0),
}
PLOT_COLUMNS = ("row", "is_design", "geom_status", "planting_year", "geom_area_mu", "oversize")


@dataclass(frozen=True)
class LabelledRun:
    """One judged run and its truth: ``result`` is a ``plots.parquet`` table (plot columns,
    ``reasons`` and the evidence metrics), ``truth`` a ``truth.csv`` (``row``, ``reasons``)."""

    name: str
    result: pd.DataFrame
    truth: pd.DataFrame


@dataclass(frozen=True)
class FittedThresholds:
    """The chosen values, the score they reach on the training runs and how they were found."""

    values: dict[str, float]
    scores: dict[str, Any]
    grid: dict[str, tuple[float, ...]]
    limits: dict[str, float]
    sources: list[str]


@dataclass(frozen=True)
class _Prepared:
    plots: pd.DataFrame
    desk: pd.DataFrame
    evidence: pd.DataFrame
    want: list[set[str]]


def _prepare(run: LabelledRun) -> _Prepared:
    """The judge's inputs from a result table: desk reasons are the result's non-imagery codes."""
    res = run.result.sort_values("row").reset_index(drop=True)
    plots = res.reindex(columns=list(PLOT_COLUMNS))
    plots["oversize"] = plots["oversize"].infer_objects().fillna(0).astype(bool)
    plots["is_design"] = plots["is_design"].infer_objects().fillna(0).astype(bool)
    desk_codes = (
        res["reasons"]
        .fillna("")
        .map(lambda r: [c for c in split_reasons(r) if REASONS[c].stage == "desk"])
    )
    desk = pd.DataFrame({"desk_reasons": desk_codes.to_numpy()}, index=res["row"].to_numpy())
    evidence = res.set_index("row").reindex(columns=list(EVIDENCE_COLUMNS))
    truth = run.truth.set_index("row").reindex(res["row"])
    want = [set(split_reasons(r)) for r in truth["reasons"].fillna("")]
    return _Prepared(plots, desk, evidence, want)


def score_runs(prepared: list[_Prepared], ev: Evidence) -> dict[str, Any]:
    """Per reason found / true over all runs, per run the genuine plots (counts: all,
    inconsistent, suspect) and their pooled inconsistent and suspect shares, with ``ev``'s
    thresholds."""
    found = dict.fromkeys(FITTED_REASONS, 0)
    true = dict.fromkeys(FITTED_REASONS, 0)
    genuine = []
    for p in prepared:
        decisions, _ = flag_plots(p.plots, p.desk, p.evidence, ev)
        got = [set(split_reasons(r)) for r in decisions["reasons"]]
        status = decisions["status"].to_numpy()
        for code in FITTED_REASONS:
            for g, w in zip(got, p.want, strict=True):
                if code in w:
                    true[code] += 1
                    found[code] += code in g
        gen = np.array([not w for w in p.want])
        genuine.append(
            {
                "n": int(gen.sum()),
                "inconsistent": int((status[gen] == "inconsistent").sum()),
                "suspect": int((status[gen] == "suspect").sum()),
            }
        )
    recalls = [found[c] / true[c] for c in FITTED_REASONS if true[c]]
    n_genuine = max(sum(g["n"] for g in genuine), 1)
    return {
        "found": found,
        "true": true,
        "mean_recall": float(np.mean(recalls)) if recalls else 0.0,
        "genuine": genuine,
        "genuine_pooled": {
            s: sum(g[s] for g in genuine) / n_genuine for s in ("inconsistent", "suspect")
        },
    }


def _rank(score: dict[str, Any], limits: dict[str, float]) -> tuple[float, float]:
    """Larger is better: (−constraint excess, mean recall)."""
    pooled = score["genuine_pooled"]
    excess = max(pooled["inconsistent"] - limits["max_inconsistent"], 0.0) + max(
        pooled["suspect"] - limits["max_suspect"], 0.0
    )
    return (-round(excess, 9), round(score["mean_recall"], 9))


def fit_thresholds(
    runs: list[LabelledRun],
    start: Evidence | None = None,
    grid: dict[str, tuple[float, ...]] | None = None,
    max_inconsistent: float = 0.01,
    max_suspect: float = 0.05,
    rounds: int = 2,
) -> FittedThresholds:
    """Coordinate search of ``grid`` (default :data:`THRESHOLD_GRID`) from ``start``'s values,
    maximising the imagery reasons' mean recall on ``runs`` subject to the genuine-plot limits
    (pooled over the runs; see the module doc)."""
    if not runs:
        raise ConfigError("fitting thresholds needs at least one labelled run")
    start = start or Evidence()
    grid = dict(grid or THRESHOLD_GRID)
    unknown = sorted(set(grid) - set(Evidence.model_fields))
    per_pixel = sorted(set(grid) & set(SeriesPrepSettings.model_fields))
    if unknown or per_pixel:
        raise ConfigError(
            f"cannot fit {', '.join(unknown + per_pixel)}: not an evidence threshold, or applied"
            " per pixel when the imagery is read (fit only rule thresholds)"
        )
    limits = {"max_inconsistent": max_inconsistent, "max_suspect": max_suspect}
    prepared = [_prepare(r) for r in runs]
    values = {k: float(getattr(start, k)) for k in grid}
    initial = dict(values)
    best_score = score_runs(prepared, start.model_copy(update=values))
    best = _rank(best_score, limits)
    for _ in range(rounds):
        changed = False
        for key, options in grid.items():
            # nearest to the starting value first, so ties keep it
            for v in sorted(options, key=lambda o, k=key: abs(o - initial[k])):
                if v == values[key]:
                    continue
                trial = {**values, key: float(v)}
                score = score_runs(prepared, start.model_copy(update=trial))
                rank = _rank(score, limits)
                if rank > best:
                    best, best_score, values, changed = rank, score, trial, True
        if not changed:
            break
    return FittedThresholds(
        values=values,
        scores=best_score,
        grid={k: tuple(v) for k, v in grid.items()},
        limits=limits,
        sources=[r.name for r in runs],
    )


def save_thresholds(fitted: FittedThresholds, folder: Path) -> Path:
    """Write ``thresholds.json`` into ``folder`` (made if needed); returns the file."""
    from pipeline.files import write_json

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / THRESHOLDS_FILE
    write_json(
        path,
        {
            "evidence": fitted.values,
            "fitted_on": fitted.sources,
            "limits": fitted.limits,
            "grid": {k: list(v) for k, v in fitted.grid.items()},
            "training_scores": fitted.scores,
            "method": "coordinate search (pipeline.judgement.calibrate.fit_thresholds)",
        },
    )
    return path


def load_thresholds(path: Path) -> dict[str, float]:
    """The fitted values of a ``thresholds.json`` (a folder holding one is accepted); a file
    that is not one, or names a key :class:`Evidence` lacks, is an error naming the fix."""
    import json

    path = Path(path)
    if path.is_dir():
        path = path / THRESHOLDS_FILE
    fix = "point evidence.thresholds at a thresholds.json written by fitting (calibrate)"
    try:
        values = json.loads(path.read_text(encoding="utf-8"))["evidence"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ConfigError(f"{path} is not a thresholds file ({err}); {fix}") from None
    unknown = sorted(set(values) - set(Evidence.model_fields))
    if unknown:
        raise ConfigError(f"{path} names unknown evidence keys {', '.join(unknown)}; {fix}")
    per_pixel = sorted(set(values) & set(SeriesPrepSettings.model_fields))
    if per_pixel:
        raise ConfigError(
            f"{path} sets {', '.join(per_pixel)}, applied per pixel when the imagery is read: "
            "set it in the config's evidence section instead"
        )
    return {k: float(v) for k, v in values.items()}


def apply_thresholds(ev: Evidence) -> Evidence:
    """``ev`` with the values of its ``thresholds`` file for every key the config did not set
    itself (a key written in the config wins); ``ev`` unchanged without one."""
    if ev.thresholds is None:
        return ev
    values = load_thresholds(ev.thresholds)
    update = {k: v for k, v in values.items() if k not in ev.model_fields_set}
    return Evidence.model_validate({**ev.model_dump(), **update, "thresholds": None})

"""Score a run against a demo world's truth table: per reason, per status, planted area."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.codes import REASONS, STATUSES, split_reasons
from pipeline.errors import TushuError

TRUTH_COLUMNS = ("row", "reasons", "planted_share")


def read_truth(path: str | Path) -> pd.DataFrame:
    """A demo world's ``truth.csv`` (empty reasons stay empty strings, not NaN); a missing or
    wrong file is an error naming it and the fix."""
    if not Path(path).is_file():
        raise TushuError(f"truth table {path} not found; make the demo world first (tushu demo)")
    fix = "pass --truth the truth.csv of the demo world the run was made from"
    try:
        truth = pd.read_csv(path, keep_default_na=False, na_values={"planted_share": [""]})
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise TushuError(f"{path} is not a truth table ({err}); {fix}") from None
    missing = [col for col in TRUTH_COLUMNS if col not in truth.columns]
    if missing:
        raise TushuError(
            f"{path} is not a truth table: no column {', '.join(missing)} (it has: "
            f"{', '.join(map(str, truth.columns[:12]))}); {fix}"
        )
    return truth


def evaluate_run(result: pd.DataFrame, truth: pd.DataFrame) -> dict[str, Any]:
    """Compare ``result`` (plots.parquet) with ``truth`` (truth.csv), joined on ``row``.

    Returns per-reason TP/FP/FN/precision/recall, the status shares of plots with no true
    reason, and the planted-area error (``planted_area_mu`` vs truth planted share × polygon area).
    """
    if len(result) != len(truth):
        raise TushuError(
            f"the result has {len(result)} plots but the truth table {len(truth)}; "
            "evaluate the run made from the same world"
        )
    extra = [c for c in ("land", "loss_date") if c in truth]
    merged = result.merge(
        truth[["row", "reasons", "planted_share", *extra]].rename(
            columns={
                "reasons": "reasons_truth",
                "planted_share": "planted_share_truth",
                "loss_date": "loss_date_truth",
            }
        ),
        on="row",
        validate="one_to_one",
    )
    got = merged["reasons"].map(split_reasons).map(set)
    want = merged["reasons_truth"].map(split_reasons).map(set)
    per_reason = {}
    for code in REASONS:
        g = got.map(lambda s, c=code: c in s).to_numpy()
        w = want.map(lambda s, c=code: c in s).to_numpy()
        tp, fp, fn = int((g & w).sum()), int((g & ~w).sum()), int((~g & w).sum())
        per_reason[code] = {
            "true": int(w.sum()),
            "tp": tp,
            "fp": fp,
            "fn": fn,
            "precision": tp / (tp + fp) if tp + fp else None,
            "recall": tp / (tp + fn) if tp + fn else None,
        }
    genuine = want.map(len).to_numpy() == 0
    shares = merged.loc[genuine, "status"].value_counts(normalize=True)
    truth_area = (
        merged["planted_share_truth"].fillna(0).to_numpy() * merged["geom_area_mu"].to_numpy()
    )
    verified = merged["planted_area_mu"].to_numpy(dtype=float)
    judged = np.isfinite(verified)
    err = verified[judged] - truth_area[judged]
    by_land = {}
    if "land" in merged:
        for land, idx in merged.groupby(merged["land"].fillna("")).groups.items():
            sel = merged.index.isin(idx)
            by_land[str(land) or "-"] = _scores(got[sel], want[sel], merged.loc[sel, "status"])
    return {
        "n_plots": len(merged),
        "by_land": by_land,
        "reasons": per_reason,
        "loss_dates": _loss_dates(merged, got, want),
        "genuine": {
            "n": int(genuine.sum()),
            "status_share": {s: float(shares.get(s, 0.0)) for s in STATUSES},
        },
        "planted_area": {
            "n_judged": int(judged.sum()),
            "truth_mu": float(truth_area[judged].sum()),
            "estimated_mu": float(verified[judged].sum()),
            "abs_error_mu": float(np.abs(err).sum()),
            "rel_abs_error": float(np.abs(err).sum() / max(truth_area[judged].sum(), 1e-9)),
        },
    }


def _scores(got: pd.Series, want: pd.Series, status: pd.Series) -> dict[str, Any]:
    """Per-reason recall (true count, found) and the genuine plots' status shares of a subset."""
    reasons = {}
    for code in REASONS:
        w = want.map(lambda s, c=code: c in s).to_numpy()
        if w.any():
            g = got.map(lambda s, c=code: c in s).to_numpy()
            reasons[code] = {"true": int(w.sum()), "found": int((g & w).sum())}
    genuine = want.map(len).to_numpy() == 0
    shares = status[genuine].value_counts(normalize=True)
    return {
        "n_plots": len(got),
        "reasons": reasons,
        "genuine": {"n": int(genuine.sum()), **{s: float(shares.get(s, 0.0)) for s in STATUSES}},
    }


def _loss_dates(merged: pd.DataFrame, got: pd.Series, want: pd.Series) -> dict[str, Any]:
    """Days between the reported and the true loss date, on plots where both say loss."""
    if "loss_date_truth" not in merged or "loss_date" not in merged:
        return {"n": 0}
    both = got.map(lambda s: "VEGETATION_LOSS" in s) & want.map(lambda s: "VEGETATION_LOSS" in s)
    true = pd.to_datetime(merged["loss_date_truth"].replace("", None), errors="coerce")
    found = pd.to_datetime(merged["loss_date"], errors="coerce")
    days = (found - true).dt.days[both.to_numpy()].dropna()
    if days.empty:
        return {"n": 0}
    return {
        "n": len(days),
        "median_days": float(days.median()),
        "max_abs_days": float(days.abs().max()),
    }

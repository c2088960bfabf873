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
    merged = result.merge(
        truth[["row", "reasons", "planted_share"]],
        on="row",
        suffixes=("", "_truth"),
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
    truth_area = merged["planted_share"].fillna(0).to_numpy() * merged["geom_area_mu"].to_numpy()
    verified = merged["planted_area_mu"].to_numpy(dtype=float)
    judged = np.isfinite(verified)
    err = verified[judged] - truth_area[judged]
    return {
        "n_plots": len(merged),
        "reasons": per_reason,
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

"""A learned model beside the rules: calibrated per-reason probabilities from evidence metrics.

One scikit-learn gradient-boosting classifier per imagery reason (``MODEL_REASONS``), each
wrapped in sigmoid calibration fitted by cross-validation, trained on labelled plots: the
evidence columns of judged runs (``plots.parquet``) joined with truth tables (demo worlds;
later, verifiers' decisions in the same ``row, reasons`` form). Features are the evidence
metrics that read against references and peers (no absolute NDVI level), so a model fitted on
some worlds is applied to others.

``tushu train`` writes ``models/<name>/``: ``model.joblib`` and ``card.json`` (data, features,
per-reason cross-validated metrics and calibration, versions, the model file's SHA-256). A run
whose ``evidence.model`` names such a folder adds a ``p_<REASON>`` column per reason; how the
probabilities combine with the rules is ``evidence.model_policy`` (see :func:`model_rules`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import pipeline
from pipeline.codes import split_reasons
from pipeline.errors import TushuError

MODEL_REASONS = (
    "PRE_EXISTING_FOREST",
    "NO_PLANTING_EVIDENCE",
    "VEGETATION_LOSS",
    "LOW_SURVIVAL",
    "PARTIAL_PLANTING",
)
FEATURES = (
    "n_clear_obs",
    "n_baseline_obs",
    "n_prep_obs",
    "baseline_dry_index",
    "baseline_growing_index",
    "baseline_forest_index",
    "prep_ndvi_drop",
    "prep_bsi_rise",
    "establish_rise",
    "establish_trend",
    "establish_vs_peers",
    "planted_share",
    "data_share",
    "winter_gap_peers",
    "survival_gap_mean",
    "survival_gap_growing",
    "years_observed",
    "loss_z",
    "loss_drop_spread",
)
"""``loss_drop`` is left out: in change units its honest spread differs between landscapes (a
model fitted on bare and shrub worlds read 0.3 as a felling in a sparse-forest world, where it is
noise); ``loss_drop_spread`` reads the same step against the run's own steps."""
#: Truth scenarios of plots the imagery judges (design-stage and desk-only plots are left out).
TRAIN_SCENARIOS = ("GENUINE", *MODEL_REASONS)
MODEL_FILE, CARD_FILE = "model.joblib", "card.json"
CALIBRATION_BINS = 5


def probability_column(code: str) -> str:
    return f"p_{code}"


@dataclass(frozen=True)
class TrainedModel:
    """The fitted classifiers per reason and the card describing them."""

    classifiers: dict[str, Any]
    card: dict[str, Any]


def training_table(runs: list[tuple[pd.DataFrame, pd.DataFrame]]) -> pd.DataFrame:
    """Features and 0/1 labels per reason from (result, truth) pairs joined on ``row``; plots
    judged on imagery only (truth scenario GENUINE or an imagery reason, not design stage)."""
    frames = []
    for k, (result, truth) in enumerate(runs):
        m = result.merge(truth[["row", "scenario", "reasons"]], on="row", suffixes=("", "_truth"))
        m = m[m["scenario"].isin(TRAIN_SCENARIOS) & ~m["is_design"].astype(bool)]
        labels = m["reasons_truth"].map(lambda r: set(split_reasons(r)))
        table = m.reindex(columns=list(FEATURES)).astype(float)
        for code in MODEL_REASONS:
            table[code] = labels.map(lambda s, c=code: int(c in s)).to_numpy()
        table["run"] = k
        frames.append(table)
    if not frames:
        raise TushuError("no training data: give at least one --run with its --truth")
    return pd.concat(frames, ignore_index=True)


def _classifier(seed: int):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import HistGradientBoostingClassifier

    base = HistGradientBoostingClassifier(
        max_iter=150, learning_rate=0.08, max_leaf_nodes=8, min_samples_leaf=5, random_state=seed
    )
    return CalibratedClassifierCV(base, method="sigmoid", cv=3)


def fit_model(table: pd.DataFrame, sources: list[str], seed: int = 0) -> TrainedModel:
    """One calibrated classifier per reason with ≥ 6 positive and negative plots; the card's
    metrics are out-of-fold (3-fold cross-validated) at probability 0.5. Single-threaded:
    the tables are small and OpenMP threads fighting over busy cores are ~20× slower."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        return _fit_model(table, sources, seed)


def _fit_model(table: pd.DataFrame, sources: list[str], seed: int) -> TrainedModel:
    from sklearn.metrics import brier_score_loss
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    # a feature no training plot has (BSI on 4-band imagery) cannot be binned: left out
    used = [f for f in FEATURES if table[f].notna().any()]
    if not used:
        raise TushuError("no evidence feature has a value in the training runs; judge them first")
    X = table[used].to_numpy(float)
    classifiers, metrics = {}, {}
    for code in MODEL_REASONS:
        y = table[code].to_numpy(int)
        n_pos = int(y.sum())
        if n_pos < 6 or len(y) - n_pos < 6:
            metrics[code] = {"positives": n_pos, "skipped": "fewer than 6 positive plots"}
            continue
        folds = StratifiedKFold(3, shuffle=True, random_state=seed)
        p = cross_val_predict(_classifier(seed), X, y, cv=folds, method="predict_proba")[:, 1]
        got = p >= 0.5
        tp = int((got & (y == 1)).sum())
        metrics[code] = {
            "positives": n_pos,
            "recall": tp / n_pos,
            "precision": tp / max(int(got.sum()), 1),
            "brier": float(brier_score_loss(y, p)),
            "calibration": _calibration(p, y),
        }
        classifiers[code] = _classifier(seed).fit(X, y)
    card = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "tushu_version": pipeline.__version__,
        "sklearn_version": _sklearn_version(),
        "estimator": "HistGradientBoostingClassifier + sigmoid CalibratedClassifierCV(cv=3)",
        "data": {
            "sources": sources,
            "n_plots": len(table),
            "positives": {c: int(table[c].sum()) for c in MODEL_REASONS},
        },
        "features": used,
        "reasons": list(classifiers),
        "metrics_out_of_fold": metrics,
    }
    return TrainedModel(classifiers, card)


def _calibration(p: np.ndarray, y: np.ndarray) -> list[dict[str, float]]:
    """Mean predicted probability vs observed share in equal-width bins."""
    edges = np.linspace(0, 1, CALIBRATION_BINS + 1)
    out = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        sel = (p >= a) & ((p < b) | (b == 1))
        if sel.any():
            out.append(
                {
                    "bin": f"{a:.1f}-{b:.1f}",
                    "n": int(sel.sum()),
                    "predicted": float(p[sel].mean()),
                    "observed": float(y[sel].mean()),
                }  # fmt: skip
            )
    return out


def _sklearn_version() -> str:
    import sklearn

    return sklearn.__version__


def save_model(model: TrainedModel, folder: Path) -> Path:
    """Write ``model.joblib`` and ``card.json`` (with the model file's SHA-256) into folder."""
    import joblib

    from pipeline.files import write_json

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / MODEL_FILE
    joblib.dump(model.classifiers, path)
    card = {**model.card, "name": folder.name, "sha256": file_hash(path)}
    write_json(folder / CARD_FILE, card)
    return folder


def file_hash(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_model(folder: Path) -> TrainedModel:
    """A model folder written by :func:`save_model`; refuses a model file whose hash differs
    from its card's (a replaced or damaged file)."""
    import joblib

    folder = Path(folder)
    card_path, path = folder / CARD_FILE, folder / MODEL_FILE
    if not card_path.is_file() or not path.is_file():
        raise TushuError(
            f"{folder} is not a model folder (needs {MODEL_FILE} and {CARD_FILE}); "
            "make one with `tushu train` or fix evidence.model"
        )
    card = json.loads(card_path.read_text(encoding="utf-8"))
    if file_hash(path) != card.get("sha256"):
        raise TushuError(f"{path} does not match the hash in {card_path}; re-train the model")
    return TrainedModel(joblib.load(path), card)


def model_features(model: TrainedModel) -> list[str]:
    """The features the model was fitted on, in its order (its card's; :data:`FEATURES` for
    cards written before features could be left out)."""
    return list(model.card.get("features", FEATURES))


def predict_reasons(model: TrainedModel, evidence: pd.DataFrame) -> pd.DataFrame:
    """``p_<REASON>`` per plot (index as ``evidence``) for each reason the model holds."""
    from threadpoolctl import threadpool_limits

    X = evidence.reindex(columns=model_features(model)).to_numpy(float)
    out = pd.DataFrame(index=evidence.index)
    with threadpool_limits(1):
        for code, clf in model.classifiers.items():
            out[probability_column(code)] = clf.predict_proba(X)[:, 1] if len(X) else []
    return out

"""Judge every plot: desk findings, imagery evidence and decisions joined into one result table."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from pipeline.codes import split_reasons
from pipeline.config import Evidence
from pipeline.judgement.calibrate import apply_thresholds
from pipeline.judgement.decide import flag_plots
from pipeline.judgement.evidence import compute_evidence
from pipeline.judgement.model import load_model, predict_reasons
from pipeline.judgement.rules import IMAGERY_RULES, model_rules

# Result columns first (then the plot's attributes, desk and evidence metrics).
FRONT = (
    "row",
    "plot_id",
    "status",
    "reasons",
    "geom_area_mu",
    "claimed_area_mu",
    "verified_area_mu",
    "planted_area_mu",
    "n_clear_obs",
)
SERIES_COLUMNS = ["row", "date", "ndvi", "ndmi", "bsi", "clear_share"]


def judge_plots(
    plots: gpd.GeoDataFrame,
    desk: pd.DataFrame,
    series: pd.DataFrame,
    pixels: pd.DataFrame,
    evidence: Evidence,
) -> gpd.GeoDataFrame:
    """One row per plot (input order): claims, status, reasons, areas, desk and evidence metrics
    (see :func:`judge_with_trace`)."""
    return judge_with_trace(plots, desk, series, pixels, evidence)[0]


def judge_with_trace(
    plots: gpd.GeoDataFrame,
    desk: pd.DataFrame,
    series: pd.DataFrame,
    pixels: pd.DataFrame,
    evidence: Evidence,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """The judged plots (as :func:`judge_plots`) and the rule trace with ``plot_id`` beside
    ``row`` (one row per comparison read; see :mod:`pipeline.judgement.rules`).

    ``desk``: desk findings indexed by ``row`` with a ``desk_reasons`` list column; ``series``:
    per plot and date (row, date, ndvi, ndmi, bsi, clear_share); ``pixels``: per-plot planted
    shares from the tile step.
    """
    evidence = apply_thresholds(evidence)
    ev = compute_evidence(plots, series, pixels, evidence)
    rules = IMAGERY_RULES
    if evidence.model is not None:
        model = load_model(evidence.model)
        ev = ev.join(predict_reasons(model, ev))
        if evidence.model_policy == "add":
            rules = IMAGERY_RULES + model_rules(list(model.classifiers))
    decisions, trace = flag_plots(plots, desk, ev, evidence, rules)
    ev = blank_unreported_loss(ev, decisions["reasons"])
    result = (
        plots.join(decisions, on="row")
        .join(desk.drop(columns=["desk_reasons"]), on="row")
        .join(ev, on="row")
    )
    ids = plots.set_index("row")["plot_id"]
    trace.insert(1, "plot_id", trace["row"].map(ids).astype("string"))
    return result[list(FRONT) + [c for c in result.columns if c not in FRONT]], trace


def blank_unreported_loss(ev: pd.DataFrame, reasons: pd.Series) -> pd.DataFrame:
    """``loss_date`` (and the loss confidence) kept only where VEGETATION_LOSS is reported: a
    date beside a consistent plot would read as a detected loss."""
    lost = reasons.reindex(ev.index).fillna("").map(lambda r: "VEGETATION_LOSS" in split_reasons(r))
    ev = ev.copy()
    for col in ("loss_date", "loss_confidence"):
        if col in ev:
            ev[col] = ev[col].where(lost.to_numpy())
    return ev


def desk_table(raw: pd.DataFrame) -> pd.DataFrame:
    """The desk step's table as :func:`judge_plots` takes it (index ``row``, reasons as lists)."""
    desk = raw.set_index("row")
    desk["desk_reasons"] = desk["desk_reasons"].map(list)
    return desk

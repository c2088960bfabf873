"""Decisions: reason codes, a status and a verified area for every plot."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.codes import join_reasons, status_of
from pipeline.config import Evidence

NOT_JUDGED_ON_IMAGERY = {"MISSING_ATTRIBUTE", "TOO_SMALL"}


def imagery_reasons(plot: pd.Series, ev_row: pd.Series, ev: Evidence) -> list[str]:
    """Reason codes the imagery evidence of one plot supports.

    Plots without a usable geometry or planting year, or below ``min_judge_area_mu``, get
    none (their desk reasons say why). Design-stage plots are judged only for forest baseline.
    """
    if (
        plot["geom_status"] == "empty"
        or pd.isna(plot["planting_year"])
        or plot["geom_area_mu"] < ev.min_judge_area_mu
    ):
        return []
    n_base = ev_row["n_baseline_obs"]
    if not (n_base >= ev.min_baseline_obs):
        return ["INSUFFICIENT_DATA"]
    if ev_row["baseline_winter_ndvi"] >= ev.forest_winter_ndvi:
        return ["PRE_EXISTING_FOREST"]
    if plot["is_design"]:
        return []
    if not (ev_row["n_prep_obs"] >= ev.min_prep_obs) or not (
        ev_row["data_share"] >= ev.min_data_share
    ):
        return ["INSUFFICIENT_DATA"]
    share = ev_row["planted_share"]
    plot_level_prep = (ev_row["prep_ndvi_drop"] >= ev.prep_ndvi_drop) or (
        ev_row["prep_bsi_rise"] >= ev.prep_bsi_rise
    )
    if share < ev.planted_share_none and not plot_level_prep:
        return ["NO_PLANTING_EVIDENCE"]
    reasons = []
    if share < ev.planted_share_full:
        reasons.append("PARTIAL_PLANTING")
    if ev_row["loss_drop"] >= ev.loss_drop:
        reasons.append("VEGETATION_LOSS")
    elif ev_row["years_observed"] >= ev.survival_min_years and (
        ev_row["winter_gap_peers"] < -ev.survival_gap
    ):
        reasons.append("LOW_SURVIVAL")
    return reasons


def flag_plots(
    plots: pd.DataFrame, desk: pd.DataFrame, evidence: pd.DataFrame, ev: Evidence
) -> pd.DataFrame:
    """Combine desk findings and imagery evidence into ``reasons``, ``status`` and areas.

    ``verified_area_mu``: 0 for inconsistent and design-stage plots, NaN when the imagery could
    not settle it (insufficient data), otherwise the polygon area (times the planted share when
    planting was partial).
    """
    rows = plots["row"].to_numpy()
    desk = desk.reindex(rows)
    evidence = evidence.reindex(rows)
    reasons_out, status_out, verified = [], [], []
    for i, (_, plot) in enumerate(plots.iterrows()):
        desk_r = list(desk["desk_reasons"].iloc[i])
        ev_row = evidence.iloc[i]
        img_r = [] if NOT_JUDGED_ON_IMAGERY & set(desk_r) else imagery_reasons(plot, ev_row, ev)
        codes = desk_r + img_r
        status = status_of(codes)
        reasons_out.append(join_reasons(codes))
        status_out.append(status)
        verified.append(_verified_area(plot, ev_row, status, img_r, ev))
    return pd.DataFrame(
        {"reasons": reasons_out, "status": status_out, "verified_area_mu": verified},
        index=pd.Index(rows, name="row"),
    )


def _verified_area(plot, ev_row, status: str, img_r: list[str], ev: Evidence) -> float:
    if status == "inconsistent" or plot["is_design"]:
        return 0.0
    if "INSUFFICIENT_DATA" in img_r:
        return float("nan")
    area = float(plot["geom_area_mu"])
    share = ev_row["planted_share"]
    if "PARTIAL_PLANTING" in img_r and np.isfinite(share):
        return area * float(share)
    return area

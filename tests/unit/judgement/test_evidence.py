from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.config import Evidence
from pipeline.judgement.decide import flag_plots, imagery_reasons
from pipeline.judgement.evidence import clean_observations, compute_evidence
from tests.synthetic import series_frame

EV = Evidence()
TIMES = pd.date_range("2021-01-01", "2024-12-31", freq="10D")
KINDS = ["genuine"] * 6 + ["forest", "none", "loss", "low"]
SHARE = {"genuine": 0.95, "forest": 0.0, "none": 0.02, "loss": 0.95, "low": 0.9}


def _plots(kinds):
    return pd.DataFrame(
        {
            "row": range(len(kinds)),
            "planting_year": [2022] * len(kinds),
            "is_design": False,
            "geom_status": "ok",
            "geom_area_mu": 20.0,
        }
    )


def _pixels(kinds):
    return pd.DataFrame(
        {
            "row": range(len(kinds)),
            "n_pixels": 130.0,
            "data_share": 1.0,
            "planted_share": [SHARE[k] for k in kinds],
        }
    )


def _evidence(seed=0):
    return compute_evidence(_plots(KINDS), series_frame(KINDS, TIMES, seed), _pixels(KINDS), EV)


def test_clean_observations__drops_isolated_dip_keeps_sustained_drop():
    s = pd.DataFrame(
        {
            "row": 0,
            "date": pd.date_range("2022-01-01", periods=7, freq="10D"),
            "ndvi": [0.6, 0.6, 0.2, 0.6, 0.2, 0.2, 0.2],
            "bsi": 0.0,
            "clear_share": 1.0,
        }
    )
    kept = clean_observations(s, EV)
    assert len(kept) == 6 and (kept["ndvi"] == 0.2).sum() == 3


def test_compute_evidence__planted_signals_found():
    ev = _evidence()
    assert (ev.loc[:5, "baseline_forest_index"] < EV.forest_index).all()
    assert ev.loc[6, "baseline_forest_index"] >= EV.forest_index
    assert (ev.loc[:5, "prep_ndvi_drop"] > EV.prep_ndvi_drop).all()
    assert ev.loc[7, "prep_ndvi_drop"] < EV.prep_ndvi_drop
    assert ev.loc[7, "establish_rise"] < EV.establish_rise
    assert ev.loc[8, "loss_drop"] > EV.loss_drop and ev.loc[8, "loss_z"] > EV.loss_z
    assert not (
        (ev.loc[:5, "loss_drop"] >= EV.loss_drop) & (ev.loc[:5, "loss_z"] >= EV.loss_z)
    ).any()
    assert ev.loc[8, "loss_date"] == pd.Timestamp("2023-07-10")  # the first low observation
    assert ev.loc[9, "winter_gap_peers"] < -EV.survival_gap
    assert (ev.loc[:5, "winter_gap_peers"].abs() < EV.survival_gap).all()


def test_flag_plots__reasons_and_statuses():
    plots = _plots(KINDS)
    desk = pd.DataFrame({"desk_reasons": [[] for _ in KINDS]}, index=plots["row"])
    out, trace = flag_plots(plots, desk, _evidence(seed=5), EV)
    assert (out.loc[:5, "status"] == "consistent").all()
    assert out.loc[6, "reasons"] == "PRE_EXISTING_FOREST"
    assert out.loc[7, "reasons"] == "NO_PLANTING_EVIDENCE"
    assert out.loc[8, "reasons"] == "VEGETATION_LOSS"
    assert out.loc[9, "reasons"] == "LOW_SURVIVAL" and out.loc[9, "status"] == "suspect"
    assert out.loc[6:8, "verified_area_mu"].eq(0).all()
    assert np.isclose(out.loc[0, "verified_area_mu"], 20.0)
    fired = trace[trace["fired"]].groupby("row")["code"].agg(lambda c: ",".join(sorted(set(c))))
    assert fired.loc[7] == "NO_PLANTING_EVIDENCE" and 0 not in fired.index


def test_imagery_reasons__design_stage_not_judged_on_planting():
    plot = pd.Series(
        {"geom_status": "ok", "planting_year": 2022, "geom_area_mu": 10.0, "is_design": True}
    )
    ev_row = _evidence().loc[7]
    assert imagery_reasons(plot, ev_row, EV)[0] == []


def test_imagery_reasons__too_few_observations_is_insufficient():
    plot = pd.Series(
        {"geom_status": "ok", "planting_year": 2022, "geom_area_mu": 10.0, "is_design": False}
    )
    ev_row = _evidence().loc[0].copy()
    ev_row["n_prep_obs"] = 1
    assert imagery_reasons(plot, ev_row, EV)[0] == ["INSUFFICIENT_DATA"]


def test_compute_evidence__ndvi_only_series_runs_and_finds_signals():
    series = series_frame(KINDS, TIMES, 0).assign(bsi=np.nan, ndmi=np.nan)
    ev = compute_evidence(_plots(KINDS), series, _pixels(KINDS), EV)
    assert ev["prep_bsi_rise"].isna().all()
    assert (ev.loc[:5, "prep_ndvi_drop"] > EV.prep_ndvi_drop).all()
    assert ev.loc[8, "loss_drop"] > EV.loss_drop


def test_judge_with_trace__loss_date_only_where_loss_is_reported():
    import geopandas as gpd
    import shapely

    from pipeline.judgement.judge import judge_with_trace

    plots = gpd.GeoDataFrame(
        _plots(KINDS).assign(plot_id=[f"P{i}" for i in range(len(KINDS))], claimed_area_mu=20.0),
        geometry=[shapely.box(0, 0, 1, 1)] * len(KINDS),
    )
    desk = pd.DataFrame({"desk_reasons": [[] for _ in KINDS]}, index=plots["row"])
    series = series_frame(KINDS, TIMES, 5)
    result, _ = judge_with_trace(plots, desk, series, _pixels(KINDS), EV)
    lost = result["reasons"].str.contains("VEGETATION_LOSS")
    assert lost.sum() == 1 and result.loc[lost, "loss_date"].notna().all()
    assert result.loc[~lost, "loss_date"].isna().all()

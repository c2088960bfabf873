from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.config import Evidence
from pipeline.judgement.decide import flag_plots, imagery_reasons
from pipeline.judgement.evidence import clean_observations, compute_evidence
from pipeline.judgement.seasons import survival_years, whole_seasons
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
    assert ev.loc[9, "survival_gap_mean"] < -EV.survival_gap
    assert (ev.loc[:5, "survival_gap_mean"].abs() < EV.survival_gap).all()
    # the gap also stands out of the run's scatter of like plots; the honest ones do not
    assert ev.loc[9, "survival_gap_z"] < -EV.survival_spread
    assert (ev.loc[:5, "survival_gap_z"] > -EV.survival_spread).all()


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


def _without(times: pd.DatetimeIndex, start: str, end: str) -> pd.DatetimeIndex:
    return times[(times < pd.Timestamp(start)) | (times > pd.Timestamp(end))]


def test_flag_plots__a_missing_planting_year_is_insufficient_data_never_a_refutation():
    """Scenes of the planting year removed: the few autumn observations of Y-1 in the prep
    window show no site work, but that is no evidence against planting."""
    times = _without(TIMES, "2022-01-01", "2022-12-31")
    ev = compute_evidence(_plots(KINDS), series_frame(KINDS, times, 5), _pixels(KINDS), EV)
    assert (ev["n_planting_year_obs"] == 0).all()
    desk = pd.DataFrame({"desk_reasons": [[] for _ in KINDS]}, index=_plots(KINDS)["row"])
    out, trace = flag_plots(_plots(KINDS), desk, ev, EV)
    assert set(out.loc[KINDS.index("none") :, "reasons"]) == {"INSUFFICIENT_DATA"}
    assert out.loc[KINDS.index("forest"), "reasons"] == "PRE_EXISTING_FOREST"
    fired = trace[trace["fired"] & (trace["code"] == "INSUFFICIENT_DATA")]
    # the missing window, named (the prep window as a whole, or its planting-year part)
    assert set(fired["metric"]) <= {"n_prep_obs", "n_planting_year_obs"} and len(fired)


def test_flag_plots__a_cloudy_survival_winter_is_insufficient_data_not_a_pass():
    """No clear view in the winter two years after planting: survival is not checked, and
    the plot says so (instead of passing silently)."""
    kinds = ["genuine"] * 6 + ["low"]
    series = series_frame(kinds, TIMES[TIMES < "2024-07-01"], 5)
    winter = (series["date"] >= "2023-11-01") & (series["date"] < "2024-04-01")
    series.loc[winter, "clear_share"] = 0.1
    ev = compute_evidence(_plots(kinds), series, _pixels(kinds), EV)
    assert (ev["n_survival_winter_obs"] == 0).all() and (ev["missing_winter"] == 2024).all()
    desk = pd.DataFrame({"desk_reasons": [[] for _ in kinds]}, index=_plots(kinds)["row"])
    out, trace = flag_plots(_plots(kinds), desk, ev, EV)
    assert set(out["reasons"]) == {"INSUFFICIENT_DATA"}
    fired = trace[trace["fired"]]
    assert set(fired["metric"]) == {"n_survival_winter_obs"}
    full = compute_evidence(_plots(kinds), series_frame(kinds, TIMES, 5), _pixels(kinds), EV)
    assert (full["n_survival_winter_obs"] >= EV.min_winter_obs).all()
    assert full["missing_winter"].isna().all()
    # a later season seen (even in part) is what survival is read on: no gap
    later = series_frame(kinds, TIMES, 5)
    later.loc[(later["date"] >= "2023-11-01") & (later["date"] < "2024-04-01"), "clear_share"] = 0
    assert compute_evidence(_plots(kinds), later, _pixels(kinds), EV)["missing_winter"].isna().all()


def test_flag_plots__a_blank_id_or_claimed_area_does_not_hide_a_refutation():
    """MISSING_ATTRIBUTE for a blank id or area leaves the imagery judgement in place; only a
    missing planting year (or geometry) keeps a plot from it."""
    plots = _plots(KINDS)
    desk = pd.DataFrame(
        {"desk_reasons": [["MISSING_ATTRIBUTE"] for _ in KINDS]}, index=plots["row"]
    )
    out, _ = flag_plots(plots, desk, _evidence(seed=5), EV)
    none = KINDS.index("none")
    assert out.loc[none, "reasons"] == "MISSING_ATTRIBUTE;NO_PLANTING_EVIDENCE"
    assert out.loc[none, "status"] == "inconsistent"
    plots.loc[none, "planting_year"] = pd.NA
    out, _ = flag_plots(plots, desk, _evidence(seed=5), EV)
    assert out.loc[none, "reasons"] == "MISSING_ATTRIBUTE"


def test_imagery_reasons__an_oversize_plot_is_insufficient_data_named_in_the_trace():
    plot = pd.Series(
        {"geom_status": "ok", "planting_year": 2022, "geom_area_mu": 2e6, "is_design": False,
         "oversize": True}
    )  # fmt: skip
    codes, trace = imagery_reasons(plot, _evidence().loc[7], EV)
    assert codes == ["INSUFFICIENT_DATA"] and [c.metric for c in trace] == ["oversize"]


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


def test_compute_evidence__a_fast_species_is_read_against_the_references_once_due():
    kinds = KINDS
    series = series_frame(kinds, TIMES, 0)
    fast = compute_evidence(_plots(kinds).assign(species="桉树"), series, _pixels(kinds), EV)
    # planted 2022: the dry season of 2025 (Nov–Dec 2024) is the third after the planting year
    assert (fast.loc[:5, "canopy_level"] >= EV.canopy_closed_index).all()
    assert fast.loc[9, "canopy_level"] < EV.canopy_closed_index  # the low-survival plot
    slow = compute_evidence(_plots(kinds).assign(species="马尾松"), series, _pixels(kinds), EV)
    assert slow["canopy_level"].isna().all()  # not listed: read against its peers only


def _late_planting_series(kinds, n_late, seed=0):
    """``series_frame`` of ``kinds`` (planted in February 2022) and ``n_late`` genuine plots
    whose site work and planting came in November 2022 (秋冬造林 of the claimed year itself),
    with the same seasons and growth; from 2020, so every month has a baseline."""
    times = pd.date_range("2020-01-01", "2025-04-30", freq="10D")
    frames = [series_frame(kinds, times, seed)]
    t = (times - pd.Timestamp("2022-11-10")).days.to_numpy() / 365.25
    season = 0.5 + 0.5 * np.sin(2 * np.pi * (times.day_of_year.to_numpy() - 110) / 365.25)
    herb = 0.42 + 0.33 * season
    tree = 0.85 * np.clip(t / 4.0, 0, 1) ** 1.5
    base = np.where(t < -0.05, herb, tree * 0.82 + (1 - tree) * herb * np.clip(t / 0.5, 0.35, 1))
    for k in range(n_late):
        ndvi = base + np.random.default_rng(seed + 99 + k).normal(0, 0.015, len(times))
        frames.append(pd.DataFrame({"row": len(kinds) + k, "date": times, "ndvi": ndvi,
                                    "ndmi": ndvi - 0.3, "bsi": 0.1 - 0.45 * ndvi,
                                    "clear_share": 1.0}))  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def test_compute_evidence__late_site_work_reads_survival_a_year_later():
    kinds, n_late = ["genuine"] * 8, 5
    plots, pixels = _plots(kinds + ["genuine"] * n_late), _pixels(kinds + ["genuine"] * n_late)
    ev = compute_evidence(plots, _late_planting_series(kinds, n_late), pixels, EV)
    late = list(range(len(kinds), len(kinds) + n_late))
    assert (ev.loc[late, "site_work_late"] == 1).all()
    assert (ev.loc[: len(kinds) - 1, "site_work_late"] == 0).all()
    # a year younger than its cohort: one dry season fewer since the trees went in, and read
    # against the plantings of its own season, not as a shortfall against older ones
    assert (ev.loc[late, "years_observed"] == ev.loc[0, "years_observed"] - 1).all()
    assert (ev.loc[late, "survival_gap_mean"].abs() < EV.survival_gap).all()
    desk = pd.DataFrame({"desk_reasons": [[] for _ in range(len(plots))]}, index=plots["row"])
    decisions, _ = flag_plots(plots, desk, ev, EV)
    assert not decisions["reasons"].str.contains("LOW_SURVIVAL").any()


def test_whole_seasons__a_dry_season_cut_by_the_end_of_the_imagery_is_not_read():
    dates = pd.Series(pd.date_range("2021-01-01", "2024-12-31", freq="10D"))
    seasons = {k: np.zeros(2) for k in (2021, 2022, 2023, 2024, 2025)}
    # 2021: its November–December of 2020 precede the imagery; 2025: only Nov–Dec 2024 in it
    assert sorted(whole_seasons(seasons, dates, EV)) == [2022, 2023, 2024]
    longer = pd.Series(pd.date_range("2020-10-01", "2025-04-10", freq="10D"))
    assert sorted(whole_seasons(seasons, longer, EV)) == [2021, 2022, 2023, 2024, 2025]


def test_survival_years__undated_site_work_waits_only_where_the_region_plants_in_autumn():
    years = np.array([2022, 2022, 2022, 2022, 2022, 0])
    dated = np.array([True, True, True, True, False, False])
    spring = np.zeros(6, bool)
    # no site work of the run dated to the late months: every plot keeps its claimed year
    assert list(survival_years(years, spring, dated, EV)) == [2022] * 5 + [0]
    autumn = np.array([True, True, True, False, False, False])
    # the region plants in autumn of Y too: the late plots and the undated one wait a year,
    # a plot whose site work is dated to the main window keeps its year
    assert list(survival_years(years, autumn, dated, EV)) == [2023, 2023, 2023, 2022, 2023, 0]


def test_deciduous_forest__leafy_steady_summers_found_crops_and_grass_not():
    from pipeline.imagery.reference import GROWING_MONTHS
    from pipeline.judgement.evidence import deciduous_forest

    dates = pd.date_range("2020-01-01", "2022-12-31", freq="5D")
    summer = np.isin(dates.month, GROWING_MONTHS)
    ro = np.where(summer, 0.45, 0.2)  # open land per date
    forest_g = 0.45 + 0.3  # the forest references in leaf (growing contrast 0.3)
    leafy = np.where(summer, forest_g, 0.3)  # deciduous: forest in leaf, leafless in winter
    crop = np.where(summer, forest_g, 0.2)
    crop[dates.month == 8] = 0.3  # harvest gap
    grass = np.where(summer, 0.45 + 0.8 * 0.3, 0.3)  # green, below the forest all summer
    N = np.stack([leafy, crop, grass]) + np.random.default_rng(0).normal(0, 0.01, (3, len(dates)))
    mask = np.broadcast_to(summer, N.shape)
    base_g = np.nanmedian(np.where(mask, N - ro, np.nan), 1) / 0.3
    found = deciduous_forest(N, ro, 0.3, mask, dates, base_g, EV)
    assert found.tolist() == [True, False, False]
    assert not deciduous_forest(N, ro, np.nan, mask, dates, base_g, EV).any()

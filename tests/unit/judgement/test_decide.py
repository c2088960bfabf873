from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pandas as pd

from pipeline.codes import join_reasons, status_of
from pipeline.config import Evidence
from pipeline.judgement.decide import TRACE_COLUMNS, _planted_area, flag_plots, imagery_reasons
from pipeline.judgement.rules import IMAGERY_RULES, Comparison, Rule, model_rules

EV = Evidence()
METRICS = {
    "n_baseline_obs": (0, 30),
    "baseline_forest_index": (0.0, 1.2),
    "n_prep_obs": (0, 12),
    "n_planting_year_obs": (0, 12),
    "data_share": (0.3, 1.0),
    "planted_share": (0.0, 1.0),
    "prep_ndvi_drop": (0.0, 0.4),
    "prep_bsi_rise": (0.0, 0.2),
    "establish_rise": (0.0, 0.6),
    "loss_drop": (0.0, 0.8),
    "loss_z": (0.0, 10.0),
    "n_survival_winter_obs": (0, 6),
    "years_observed": (0, 4),
    "winter_gap_peers": (-0.5, 0.3),
    "p_LOW_SURVIVAL": (0.0, 1.0),
}


def _case(seed: int, n: int = 400) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Plots of every kind the decision reads: design, oversize, blank geometry, no year,
    too small, desk-blocked; evidence drawn across every rule's threshold, some NaN."""
    rng = np.random.default_rng(seed)
    plots = pd.DataFrame(
        {
            "row": np.arange(n) + 100,
            "planting_year": np.where(rng.random(n) < 0.05, np.nan, 2022),
            "is_design": rng.random(n) < 0.15,
            "geom_status": np.where(rng.random(n) < 0.03, "empty", "ok"),
            "geom_area_mu": rng.uniform(0.5, 40, n),
            "oversize": rng.random(n) < 0.03,
        }
    )
    ev = pd.DataFrame(
        {m: np.round(rng.uniform(lo, hi, n), 2) for m, (lo, hi) in METRICS.items()},
        index=plots["row"],
    )
    ev = ev.mask(rng.random(ev.shape) < 0.08)
    pool = [[], [], [], ["TOO_SMALL"], ["MISSING_ATTRIBUTE"], ["DUPLICATE_PRIOR", "OVERLAP"]]
    desk = pd.DataFrame(
        {"desk_reasons": [list(pool[k]) for k in rng.integers(0, len(pool), n)]},
        index=plots["row"][::-1],  # another order: flag_plots aligns on row
    )
    return plots, desk, ev


def _plot_by_plot(plots, desk, ev, rules):
    """The decision as it was read before the column-wise rules: one plot at a time."""
    out, trace = [], []
    for _, plot in plots.iterrows():
        desk_r = list(desk.loc[plot["row"], "desk_reasons"])
        ev_row = ev.loc[plot["row"]]
        img, checks = (
            (None, []) if "TOO_SMALL" in desk_r else imagery_reasons(plot, ev_row, EV, rules)
        )
        trace += [{"row": plot["row"], **asdict(c)} for c in checks]
        codes = desk_r + (img or [])
        area = _planted_area(plot, ev_row, img)
        status = status_of(codes)
        out.append((join_reasons(codes), status, 0.0 if status == "inconsistent" else area, area))
    frame = pd.DataFrame(out, columns=["reasons", "status", "verified_area_mu", "planted_area_mu"])
    return frame.set_index(plots["row"].rename("row")), pd.DataFrame(
        trace, columns=list(TRACE_COLUMNS)
    )


def test_flag_plots__column_wise_equals_plot_by_plot():
    """Codes, statuses, areas and every trace row (in order) as reading plot by plot, for the
    registry, model rules and a rule with its own predicate."""
    custom = Rule("LOW_SURVIVAL", (Comparison("loss_z", "<", "loss_z"),),
                  applies=lambda plot: plot["geom_area_mu"] > 10)  # fmt: skip
    for seed, rules in [(0, IMAGERY_RULES), (1, IMAGERY_RULES + model_rules(["LOW_SURVIVAL"])),
                        (2, (*IMAGERY_RULES, custom))]:  # fmt: skip
        plots, desk, ev = _case(seed)
        got, got_trace = flag_plots(plots, desk, ev, EV, rules)
        want, want_trace = _plot_by_plot(plots, desk, ev, rules)
        pd.testing.assert_frame_equal(got, want, check_exact=True)
        pd.testing.assert_frame_equal(got_trace, want_trace, check_exact=True)
        assert got["status"].nunique() == 4 and got_trace["fired"].any()


def test_flag_plots__nothing_judged_gives_an_empty_trace():
    plots, desk, ev = _case(3, n=5)
    plots["geom_status"] = "empty"
    out, trace = flag_plots(plots, desk, ev, EV)
    assert trace.empty and list(trace.columns) == list(TRACE_COLUMNS)
    design = plots["is_design"].to_numpy()
    assert np.isnan(out["planted_area_mu"].to_numpy()[~design]).all()
    assert (out["planted_area_mu"].to_numpy()[design] == 0).all()

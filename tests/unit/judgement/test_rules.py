from __future__ import annotations

import math

import pandas as pd

from pipeline.codes import REASONS
from pipeline.config import Evidence
from pipeline.judgement.rules import IMAGERY_RULES, Comparison, Rule, apply_rules, model_rules

EV = Evidence()
PLOT = pd.Series({"is_design": False})
GOOD = pd.Series(
    {
        "n_baseline_obs": 8,
        "baseline_forest_index": 0.1,
        "n_prep_obs": 5,
        "n_planting_year_obs": 4,
        "n_survival_winter_obs": 6,
        "data_share": 1.0,
        "planted_share": 0.95,
        "prep_ndvi_drop": 0.3,
        "prep_bsi_rise": 0.2,
        "establish_rise": 0.5,
        "loss_drop": 0.02,
        "loss_z": 1.0,
        "years_observed": 3,
        "survival_gap_mean": 0.0,
        "survival_gap_z": 0.0,
        "loss_drop_spread": 0.0,
        "prep_drop_index": 0.8,
        "loss_own_drop": 0.0,
        "peer_clear_share": 0.9,
        "prep_work_share": 1.2,
        "prep_drop_z": 9.0,
        "peer_establish_share": 0.9,
        "years_after_planting": 2,
        "canopy_level": 0.8,
    }
)


def test_apply_rules__every_code_is_in_the_codes_table():
    assert {r.code for r in IMAGERY_RULES} <= set(REASONS)


def test_apply_rules__clean_plot_gives_no_code_and_a_full_trace():
    codes, trace = apply_rules(PLOT, GOOD, EV)
    assert codes == []
    assert {c.metric for c in trace} >= {"planted_share", "loss_drop", "survival_gap_mean"}
    assert not any(c.fired for c in trace)


def test_apply_rules__missing_baseline_is_insufficient_and_stops():
    codes, trace = apply_rules(PLOT, GOOD.drop("n_baseline_obs"), EV)
    assert codes == ["INSUFFICIENT_DATA"]
    assert len(trace) == 1 and math.isnan(trace[0].value) and trace[0].fired


def test_apply_rules__prep_signal_spares_no_planting():
    low = GOOD.copy()
    low["planted_share"] = 0.05
    assert apply_rules(PLOT, low, EV)[0] == ["PARTIAL_PLANTING"]
    low[["prep_ndvi_drop", "prep_bsi_rise"]] = 0.0
    assert apply_rules(PLOT, low, EV)[0] == ["PARTIAL_PLANTING"]  # establishment alone spares
    low["establish_rise"] = 0.0  # and land like this was cleared where planted: grounds
    codes, trace = apply_rules(PLOT, low, EV)
    assert codes == ["NO_PLANTING_EVIDENCE"]
    assert trace[-1].metric == "establish_rise" and not trace[-1].held


def test_apply_rules__no_planting_needs_positive_grounds():
    bare = GOOD.copy()
    bare["planted_share"] = 0.0
    bare[["prep_ndvi_drop", "prep_bsi_rise", "establish_rise"]] = 0.0
    bare[["prep_work_share", "prep_drop_z"]] = 0.0
    bare[["peer_clear_share", "peer_establish_share"]] = float("nan")  # no expectation
    bare["years_after_planting"] = 1
    codes, trace = apply_rules(PLOT, bare, EV)
    assert codes == ["ESTABLISHMENT_NOT_YET_VISIBLE"]  # nothing to clear, nothing due yet
    assert REASONS[codes[0]].status == "suspect" and trace[-1].fired
    for ground, value in (
        ("peer_clear_share", 0.8),
        ("peer_establish_share", 0.7),
        ("years_after_planting", EV.establish_years),
    ):
        grounded = bare.copy()
        grounded[ground] = value
        assert apply_rules(PLOT, grounded, EV)[0] == ["NO_PLANTING_EVIDENCE"], ground
    few = bare.copy()
    few["peer_establish_share"] = 0.2  # the peers of its land and growth class have not either
    assert apply_rules(PLOT, few, EV)[0] == ["ESTABLISHMENT_NOT_YET_VISIBLE"]


def test_apply_rules__years_refute_only_where_no_like_plantings_are_read():
    old = GOOD.copy()
    old["planted_share"] = 0.0
    old[["prep_ndvi_drop", "prep_bsi_rise", "prep_work_share", "prep_drop_z"]] = 0.0
    old["establish_rise"], old["peer_clear_share"] = 0.15, float("nan")  # a slow rise, bare land
    old["years_after_planting"], old["peer_establish_share"] = EV.establish_years, float("nan")
    assert apply_rules(PLOT, old, EV)[0] == ["NO_PLANTING_EVIDENCE"]  # no peers: the years
    old["peer_establish_share"] = 0.2  # most plantings like it do not show by now either
    assert apply_rules(PLOT, old, EV)[0] == ["ESTABLISHMENT_NOT_YET_VISIBLE"]


def test_apply_rules__pit_sized_site_work_is_not_refuted_by_cleared_peers():
    pits = GOOD.copy()
    pits["planted_share"] = 0.0
    pits[["prep_bsi_rise", "establish_rise", "peer_establish_share"]] = 0.0
    pits["prep_ndvi_drop"], pits["peer_clear_share"], pits["years_after_planting"] = 0.09, 0.8, 1
    pits["prep_work_share"], pits["prep_drop_z"] = 0.45, 4.0  # a third of theirs, out of noise
    codes, trace = apply_rules(PLOT, pits, EV)
    assert codes == ["ESTABLISHMENT_NOT_YET_VISIBLE"]  # unknown work is not no work: suspect
    assert {"prep_work_share", "prep_drop_z"} <= {c.metric for c in trace}
    for metric, value in (
        ("prep_work_share", 0.1),
        ("prep_drop_z", 1.5),
        ("prep_drop_z", math.nan),
    ):
        nothing = pits.copy()
        nothing[metric] = value  # too small beside its peers' clearing, or within its own scatter
        assert apply_rules(PLOT, nothing, EV)[0] == ["NO_PLANTING_EVIDENCE"], (metric, value)


def test_apply_rules__a_loss_without_an_own_drop_is_no_loss():
    swing = GOOD.copy()
    swing["loss_drop"], swing["loss_z"], swing["loss_drop_spread"] = 0.8, 12.0, 8.0
    swing["loss_own_drop"] = 0.01  # only the peers moved (their spring green-up)
    assert apply_rules(PLOT, swing, EV)[0] == []
    swing["loss_own_drop"] = 0.5  # the plot's own level fell too
    assert apply_rules(PLOT, swing, EV)[0] == ["VEGETATION_LOSS"]


def test_apply_rules__loss_is_read_before_the_planting_evidence():
    gone = GOOD.copy()
    gone["planted_share"] = 0.0
    gone[["prep_ndvi_drop", "prep_bsi_rise", "establish_rise"]] = 0.0
    gone["peer_clear_share"] = 0.9
    gone["loss_drop"], gone["loss_z"], gone["loss_drop_spread"] = 0.63, 31.0, 9.0
    gone["loss_own_drop"] = 0.6  # its own level fell as much: a clear loss
    assert apply_rules(PLOT, gone, EV)[0] == ["VEGETATION_LOSS"]
    gone["loss_own_drop"] = 0.2  # a step against growing peers, hardly its own: no planting
    assert apply_rules(PLOT, gone, EV)[0] == ["NO_PLANTING_EVIDENCE"]
    gone["loss_drop"] = 0.05
    assert apply_rules(PLOT, gone, EV)[0] == ["NO_PLANTING_EVIDENCE"]


def test_apply_rules__forest_like_land_cleared_and_planted_is_suspect_not_forest():
    dense = GOOD.copy()
    dense["baseline_forest_index"] = 0.71
    dense["prep_drop_index"] = 0.9  # the whole plot cleared in the prep window
    codes = apply_rules(PLOT, dense, EV)[0]
    assert codes == ["FOREST_CLEARED_REPLANTED"] and REASONS[codes[0]].status == "suspect"
    dense["prep_drop_index"], dense["prep_ndvi_drop"] = 0.2, 0.05  # the canopy stayed (林冠下造林)
    assert apply_rules(PLOT, dense, EV)[0] == ["PRE_EXISTING_FOREST"]
    dense["prep_drop_index"], dense["planted_share"] = 0.9, 0.3  # a clearing of a part only
    assert apply_rules(PLOT, dense, EV)[0] == ["PRE_EXISTING_FOREST"]


def test_apply_rules__forest_like_scrub_worked_in_strips_is_suspect_not_forest():
    """Strips cut through dense scrub: a drop at the site-preparation gate over the whole plot,
    lighter than a clear fell, is work seen on the plot (suspect), never 'already forest'."""
    scrub = GOOD.copy()
    scrub["baseline_forest_index"], scrub["prep_drop_index"] = 0.72, 0.4
    scrub["prep_ndvi_drop"], scrub["planted_share"] = EV.prep_ndvi_drop + 0.05, 0.9
    assert apply_rules(PLOT, scrub, EV)[0] == ["FOREST_CLEARED_REPLANTED"]
    scrub["prep_ndvi_drop"] = EV.prep_ndvi_drop / 3  # forest whose level hardly moved
    assert apply_rules(PLOT, scrub, EV)[0] == ["PRE_EXISTING_FOREST"]
    scrub["prep_ndvi_drop"], scrub["planted_share"] = EV.prep_ndvi_drop + 0.05, 0.3  # a part
    assert apply_rules(PLOT, scrub, EV)[0] == ["PRE_EXISTING_FOREST"]


def test_apply_rules__loss_silences_low_survival():
    bad = GOOD.copy()
    bad["loss_drop"], bad["loss_z"], bad["survival_gap_mean"] = 0.6, 9.0, -0.4
    bad["loss_drop_spread"], bad["loss_own_drop"] = 8.0, 0.6
    bad["canopy_level"] = math.nan  # a species without a canopy reading
    bad["survival_gap_z"] = -5.0
    assert apply_rules(PLOT, bad, EV)[0] == ["VEGETATION_LOSS"]
    bad["loss_z"] = 2.0  # a large step that the break statistic does not support
    assert apply_rules(PLOT, bad, EV)[0] == ["LOW_SURVIVAL"]
    bad["loss_drop"] = 0.0
    codes, trace = apply_rules(PLOT, bad, EV)
    assert codes == ["LOW_SURVIVAL"]
    gap = next(c for c in trace if c.metric == "survival_gap_mean")
    assert gap.threshold == -EV.survival_gap and gap.op == "<"


def test_apply_rules__a_loss_step_within_the_runs_spread_is_no_loss():
    bad = GOOD.copy()
    bad["loss_drop"], bad["loss_z"], bad["loss_drop_spread"] = 0.6, 9.0, 8.0
    bad["loss_own_drop"] = 0.6
    assert apply_rules(PLOT, bad, EV)[0] == ["VEGETATION_LOSS"]
    bad["loss_drop_spread"] = 1.5  # the run's honest plots step as much (a noisy landscape)
    assert apply_rules(PLOT, bad, EV)[0] == ["VEGETATION_LOSS"]  # but its own level fell 0.6
    bad["loss_own_drop"] = 0.16  # above the own-drop gate, not a sure fall of its own level
    assert apply_rules(PLOT, bad, EV)[0] == []
    bad["loss_own_drop"] = float("nan")  # own step not read: the spread decides
    assert apply_rules(PLOT, bad, EV)[0] == []


def test_apply_rules__design_plot_read_only_for_forest():
    forest = GOOD.copy()
    forest["planted_share"] = 0.0
    assert apply_rules(pd.Series({"is_design": True}), forest, EV)[0] == []
    forest["baseline_forest_index"] = 0.9
    assert apply_rules(pd.Series({"is_design": True}), forest, EV)[0] == ["PRE_EXISTING_FOREST"]


def test_apply_rules__an_added_rule_reads_a_model_column():
    model_rule = Rule("LOW_SURVIVAL", (Comparison("p_failed", ">=", "planted_share_full"),))
    values = pd.concat([GOOD, pd.Series({"p_failed": 0.9})])
    assert apply_rules(PLOT, values, EV, (*IMAGERY_RULES, model_rule))[0] == ["LOW_SURVIVAL"]


def test_model_rules__add_a_reason_only_above_the_threshold_and_keep_the_trace():
    values = pd.concat([GOOD, pd.Series({"p_LOW_SURVIVAL": 0.95})])
    rules = (*IMAGERY_RULES, *model_rules(["LOW_SURVIVAL"]))
    codes, trace = apply_rules(PLOT, values, EV, rules)
    assert codes == ["LOW_SURVIVAL"]
    plain, plain_trace = apply_rules(PLOT, values, EV)
    assert plain == [] and trace[: len(plain_trace)] == plain_trace
    values["p_LOW_SURVIVAL"] = 0.5
    assert apply_rules(PLOT, values, EV, rules)[0] == []


def test_apply_rules__a_fast_species_not_forest_like_when_due_is_low_survival():
    plot = GOOD.copy()
    plot["canopy_level"] = 0.8  # eucalyptus three seasons on: forest-like, as it should be
    assert apply_rules(PLOT, plot, EV)[0] == []
    plot["canopy_level"] = 0.1  # still like the open land around: few trees survived
    codes, trace = apply_rules(PLOT, plot, EV)
    assert codes == ["LOW_SURVIVAL"]
    hit = [c for c in trace if c.metric == "canopy_level"][-1]
    assert hit.threshold == EV.canopy_closed_index and hit.fired
    plot["planted_share"] = 0.5  # a partial planting's level is diluted: not read
    assert "LOW_SURVIVAL" not in apply_rules(PLOT, plot, EV)[0]


def test_apply_rules__no_canopy_reading_no_canopy_flag():
    plot = GOOD.copy()
    plot["canopy_level"] = math.nan  # a species not listed, or its season not yet come
    assert apply_rules(PLOT, plot, EV)[0] == []


def test_apply_rules__behind_the_peers_but_forest_like_itself_is_no_low_survival():
    """A eucalyptus planting on shrub land gains less than its peers on bare land (it started
    green), yet its own level reads forest-like once due: it survived."""
    plot = GOOD.copy()
    plot["survival_gap_mean"] = -0.3
    plot["survival_gap_z"] = -5.0
    plot["canopy_level"] = 0.9
    assert apply_rules(PLOT, plot, EV)[0] == []
    plot["canopy_level"] = 0.3  # behind the peers and not forest-like
    assert apply_rules(PLOT, plot, EV)[0] == ["LOW_SURVIVAL"]
    plot["canopy_level"] = math.nan  # no own reading (slow species, not yet due): the peers
    assert apply_rules(PLOT, plot, EV)[0] == ["LOW_SURVIVAL"]


def test_apply_rules__spared_trees_are_no_closed_canopy():
    """Eucalyptus in the gaps of sparse forest behind its peers reads half forest-like by its
    spared trees alone: the exemption reads how far the canopy went from where the plot
    started (canopy_closure), not the level."""
    plot = GOOD.copy()
    plot["survival_gap_mean"] = -0.2
    plot["survival_gap_z"] = -5.0
    plot["canopy_level"] = 0.57  # forest-like enough by level ...
    plot["canopy_closure"] = 0.03  # ... but the sparse forest started at 0.56
    assert apply_rules(PLOT, plot, EV)[0] == ["LOW_SURVIVAL"]
    plot["canopy_closure"] = 0.8  # the planting closed beyond the spared trees
    assert apply_rules(PLOT, plot, EV)[0] == []


def test_apply_rules__a_gap_within_the_run_scatter_is_no_low_survival():
    plot = GOOD.copy()
    plot["survival_gap_mean"] = -0.3
    plot["canopy_level"] = math.nan  # a species read against its peers only
    plot["survival_gap_z"] = -1.0  # a noisy run: like plots scatter by 0.3
    assert apply_rules(PLOT, plot, EV)[0] == []
    plot["survival_gap_z"] = -4.0  # the same gap in a quiet run stands out
    codes, trace = apply_rules(PLOT, plot, EV)
    assert codes == ["LOW_SURVIVAL"]
    hit = [c for c in trace if c.metric == "survival_gap_z"][-1]
    assert hit.threshold == -EV.survival_spread and hit.fired
    plot["survival_gap_z"] = math.nan  # no noise known (few plots): the gap alone reads
    assert apply_rules(PLOT, plot, EV)[0] == ["LOW_SURVIVAL"]

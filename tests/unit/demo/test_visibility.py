from __future__ import annotations

import datetime as dt

from pipeline.demo.visibility import (
    NOT_YET_VISIBLE,
    VISIBLE_CLEARING,
    cleared_cover,
    expected_reasons,
    last_dry_day,
)

END = dt.date(2024, 12, 31)
SLOW = 6.0 * 365.25, 0.72  # 马尾松: days to full canopy, closure


def test_expected_reasons__late_autumn_planting_on_bare_hill_is_not_yet_visible():
    prep, plant = dt.date(2023, 11, 20), dt.date(2023, 12, 10)
    got = expected_reasons("GENUINE", "bare", prep, plant, *SLOW, END)
    assert got == NOT_YET_VISIBLE


def test_expected_reasons__cleared_land_spring_work_or_grown_canopy_stay_genuine():
    prep, plant = dt.date(2023, 11, 20), dt.date(2023, 12, 10)
    assert expected_reasons("GENUINE", "shrub", prep, plant, *SLOW, END) == ""  # clearing shows
    spring = dt.date(2023, 2, 1), dt.date(2023, 3, 1)
    assert expected_reasons("GENUINE", "bare", *spring, *SLOW, END) == ""  # first summer shows
    early = dt.date(2021, 11, 1), dt.date(2021, 11, 20)
    assert expected_reasons("GENUINE", "bare", *early, *SLOW, END) == ""  # canopy by 2024


def test_expected_reasons__other_scenarios_and_design_plots_keep_their_own():
    prep, plant = dt.date(2023, 11, 20), dt.date(2023, 12, 10)
    assert expected_reasons("LOW_SURVIVAL", "bare", prep, plant, *SLOW, END) == "LOW_SURVIVAL"
    assert expected_reasons("GENUINE", "bare", None, None, *SLOW, END) == ""


def test_cleared_cover__bare_and_orchard_below_the_line_vegetated_land_above():
    assert cleared_cover("bare") < VISIBLE_CLEARING and cleared_cover("orchard") < VISIBLE_CLEARING
    for land in ("shrub", "grass", "sparse", "crop"):
        assert cleared_cover(land) > VISIBLE_CLEARING


def test_last_dry_day__of_a_summer_end_is_the_last_of_march():
    assert last_dry_day(dt.date(2024, 7, 15)) == dt.date(2024, 3, 31)
    assert last_dry_day(END) == END


# felled and low-survival plantings: their truth is what the imagery can show of them
from pipeline.demo.plots import LOW_SURVIVAL_SHARE, Plot  # noqa: E402
from pipeline.demo.visibility import season_reading_day, truth_reasons  # noqa: E402

PINE = {"grow_days": 6.0 * 365.25, "fmax": 0.72}  # slow: 马尾松
PLANT, FELLED = dt.date(2022, 3, 1), dt.date(2023, 6, 1)  # felled 1.25 years after planting


def _felled(base: str, herb_cap: float, **growth: float) -> Plot:
    return Plot(
        "VEGETATION_LOSS", None, base=base, plant=PLANT, prep=PLANT, loss=FELLED,
        herb_cap=herb_cap, **(growth or PINE),
    )  # fmt: skip


def _low(spared: float = 0.0) -> Plot:
    fmax = PINE["fmax"] * LOW_SURVIVAL_SHARE
    return Plot(
        "LOW_SURVIVAL", None, base="sparse" if spared else "bare", plant=PLANT, prep=PLANT,
        grow_days=PINE["grow_days"], fmax=fmax, spared=spared, herb_cap=0.2,
    )  # fmt: skip


def test_truth_reasons__unestablished_felling_on_bare_hill_is_what_the_imagery_shows():
    bare = _felled("bare", 0.2)  # canopy ≈ 0.07 and few herbs when felled: the felling hides
    assert truth_reasons(bare, dt.date(2023, 12, 31)) == NOT_YET_VISIBLE  # honest peers ≈ 0.11
    assert truth_reasons(bare, END) == "LOW_SURVIVAL"  # by late 2024 honest peers ≈ 0.22


def test_truth_reasons__felling_of_a_canopy_or_of_herb_cover_stays_a_loss():
    assert truth_reasons(_felled("shrub", 0.6), END) == "VEGETATION_LOSS"  # clears the herbs
    fast = _felled("bare", 0.2, grow_days=2.0 * 365.25, fmax=0.9)  # canopy ≈ 0.44 when felled
    assert truth_reasons(fast, END) == "VEGETATION_LOSS"


def test_truth_reasons__low_survival_shows_only_where_the_gap_to_an_honest_planting_does():
    assert truth_reasons(_low(), END) == "LOW_SURVIVAL"  # gap ≈ 0.18 in Nov–Dec 2024
    assert truth_reasons(_low(), END, north=True) == NOT_YET_VISIBLE  # snowy: Jan 2024, ≈ 0.10
    assert truth_reasons(_low(spared=0.4), END) == NOT_YET_VISIBLE  # in the gaps: ≈ 0.11


def test_truth_reasons__genuine_plots_keep_the_rule_of_expected_reasons():
    early = Plot("GENUINE", None, base="bare", plant=dt.date(2021, 11, 20), **PINE)
    early.prep = dt.date(2021, 11, 1)
    assert truth_reasons(early, END) == ""


def test_season_reading_day__south_reads_the_cut_season_north_the_last_whole_one():
    assert season_reading_day(END) == dt.date(2024, 12, 1)
    assert season_reading_day(END, north=True) == dt.date(2024, 1, 15)
    assert season_reading_day(dt.date(2024, 7, 15)) == dt.date(2024, 1, 15)

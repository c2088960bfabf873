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

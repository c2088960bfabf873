"""Wording of the run summary and the evaluation table title."""

from __future__ import annotations

from pipeline.workflow.cli import ingest_summary
from pipeline.workflow.cli_evidence import world_label


def test_ingest_summary__only_normalised_values_are_no_problems():
    ingest = {
        "records": 172,
        "records_with_findings": 172,
        "records_by_kind": {"repair": 0, "normalisation": 172, "problem": 0},
        "by_code": {"VALUE_NORMALISED": 172},
    }
    got = ingest_summary(ingest)
    assert "172 values normalised" in got and "no repairs or problems" in got
    assert "with problems" not in got


def test_ingest_summary__repairs_and_problems_are_counted_apart():
    ingest = {
        "records": 10,
        "records_by_kind": {"repair": 2, "normalisation": 5, "problem": 1},
        "by_code": {"GEOMETRY_REPAIRED": 2, "GEOMETRY_EMPTY": 1, "VALUE_NORMALISED": 5},
    }
    got = ingest_summary(ingest)
    assert "2 repaired" in got and "1 with problems" in got and "no repairs" not in got


def test_world_label__states_only_what_world_json_says():
    assert world_label({}) == ""
    assert world_label({"seed": 13, "world": "dry"}) == ""
    got = world_label({"climate": "south", "sensor": "s2", "planting_season": "autumn"})
    assert got == " (climate: south, sensor: s2, planting season: autumn)"

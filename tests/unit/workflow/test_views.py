"""Each step's params change exactly when a setting it reads changes; run options never."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.demo.settings import demo_settings
from pipeline.workflow.views import step_params

PREP = {"prep_start_month", "prep_end_month", "prep_late_months", "prep_ndvi_drop",
        "prep_bsi_rise", "winter_months", "establish_rise", "min_change_scale",
        "reference_pixels", "reference_stable_share",
        "fallback_forest_ndvi", "fallback_open_ndvi"}  # fmt: skip
SEARCH = {"source", "catalog", "stac", "sentinelhub", "local", "collection", "bands", "start",
          "max_tile_pixels",
          "end", "max_cloud_cover", "crs", "resolution", "tile_size_m"}  # fmt: skip


def _leaves(value, path=()):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, (*path, k))
    else:
        yield path, value


def _changed(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value % 12 + 1 if value <= 12 else value + 1
    if isinstance(value, float):
        return value / 2 if value > 0 else 0.5
    if isinstance(value, str):
        try:
            return (dt.date.fromisoformat(value) + dt.timedelta(days=1)).isoformat()
        except ValueError:
            return value + "x"
    if isinstance(value, list):
        return value[:-1] if value else [1]
    return None


def _with(raw: dict, path: tuple, value) -> dict:
    out = dict(raw)
    if len(path) == 1:
        out[path[0]] = value
    else:
        out[path[0]] = _with(raw[path[0]], path[1:], value)
    return out


def _expected(path: tuple, source: str) -> set[str]:
    section, key = path[0], path[1] if len(path) > 1 else ""
    steps = {"report"}
    if section == "plots" or (section == "layers" and key == "region"):
        steps.add("plan")
    if section == "imagery" and key in SEARCH:
        steps.add("plan")
    if section in ("layers", "desk"):
        steps.add("desk")
    if section == "imagery" or (section == "evidence" and key in PREP):
        steps.add("tile")
    if source == "sentinelhub-statistical" and path == ("evidence", "min_clear_share"):
        steps.add("tile")
    return steps  # output_dir: a new folder has no state, so everything runs there


@pytest.mark.parametrize("source", ["stac", "sentinelhub-statistical"])
def test_step_params__each_science_key_re_runs_exactly_the_steps_that_read_it(source):
    base = demo_settings(Path("/w"), Path("/r"))
    base = base.model_copy(update={"imagery": base.imagery.model_copy(update={"source": source})})
    raw = base.model_dump(mode="json")
    before = step_params(base)
    checked = 0
    for path, value in _leaves(base.science()):
        new = _changed(value)
        if new is None or path == ("imagery", "source"):
            continue
        try:
            changed = Settings.model_validate(_with(raw, path, new))
        except ValueError:
            continue  # a value the schema refuses cannot reach a run
        after = step_params(changed)
        rerun = {step for step in before if before[step] != after[step]}
        assert rerun == _expected(path, source), ".".join(path)
        checked += 1
    assert checked > 60


def test_step_params__report_settings_re_run_only_the_documents():
    base = demo_settings(Path("/w"), Path("/r"))
    reports = base.reports.model_copy(update={"compiling_unit": "市林业监测中心"})
    after = step_params(base.model_copy(update={"reports": reports}))
    before = step_params(base)
    assert {s for s in before if before[s] != after[s]} == {"documents"}


def test_step_params__run_options_re_run_nothing():
    base = demo_settings(Path("/w"), Path("/r"))
    run = base.run.model_copy(update={"date_chunk": 3, "cache": "on", "cache_dir": Path("/c")})
    assert step_params(base.model_copy(update={"run": run})) == step_params(base)

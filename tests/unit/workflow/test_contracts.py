from __future__ import annotations

import pytest

from pipeline.workflow.contracts import JobSpec, Plan, StepFileError, TileSpec


def _plan(jobs=()) -> Plan:
    tiles = tuple(TileSpec(tile_id=f"r0c{k}", bbox=(k, 0, k + 1, 1), n_plots=1) for k in range(3))
    return Plan(tiles=tiles, jobs=jobs, crs="EPSG:32650", plots={}, column_mapping={},
                seconds=0.0)  # fmt: skip


def test_plan_jobs__a_plan_without_jobs_has_one_job_per_tile():
    plan = _plan()
    assert plan.job_ids == ["r0c0", "r0c1", "r0c2"]
    assert [t.tile_id for t in plan.job("r0c1")] == ["r0c1"]


def test_plan_jobs__a_job_lists_its_tiles_in_plan_order():
    plan = _plan((JobSpec(job_id="r0c0+1", tile_ids=("r0c0", "r0c1")),
                  JobSpec(job_id="r0c2", tile_ids=("r0c2",))))  # fmt: skip
    assert plan.job_ids == ["r0c0+1", "r0c2"]
    assert [t.tile_id for t in plan.job("r0c0+1")] == ["r0c0", "r0c1"]
    with pytest.raises(StepFileError, match="not in the plan"):
        plan.job("r0c1")

"""The runner's recovery: damaged step files found in a failure are removed and re-made."""

from __future__ import annotations

from pipeline.layout import RunLayout
from pipeline.workflow.runner import (
    failure_detail,
    missing_step_files,
    remove_damaged,
    rules_to_redo,
    snakemake_command,
)


def test_remove_damaged__only_step_files_under_work(tmp_path):
    layout = RunLayout.of(tmp_path / "run")
    tile = layout.tile("r1c1").series
    for p in (tile, layout.plan, tmp_path / "mine.parquet"):
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"torn")
    text = (
        f"error: {tile} is damaged (Parquet magic bytes not found); re-run\n"
        f"StepFileError: {layout.plan} is damaged or from another version (...)\n"
        f"error: {tmp_path / 'mine.parquet'} is damaged\n"
    )
    removed = remove_damaged(layout, text)
    assert removed == [tile.resolve(), layout.plan.resolve()]
    assert not tile.exists() and not layout.plan.exists()
    assert (tmp_path / "mine.parquet").exists()  # not a step file: never touched
    redo = ["--forcerun", "plan", "all", str(tile.resolve())]
    assert rules_to_redo(layout, removed) == redo
    assert snakemake_command(layout, 1, False, redo)[-4:] == redo


def test_missing_step_files__only_for_a_finished_run(tmp_path):
    layout = RunLayout.of(tmp_path)
    assert missing_step_files(layout) == []  # nothing published yet: Snakemake makes it all
    for p in layout.deliverables():
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("x")
    layout.desk_meta.parent.mkdir(parents=True, exist_ok=True)
    layout.desk_meta.write_text("{}")
    missing = missing_step_files(layout)
    assert layout.plan.resolve() in missing and layout.desk_meta.resolve() not in missing
    assert rules_to_redo(layout, missing) == ["--forcerun", "desk", "plan"]


def test_failure_detail__snakemake_errors_without_its_banner():
    lines = ["SNAKEMAKE\n", "  Date: x\n", "Building DAG of jobs...\n",
             "  StepFileError: /r/work/plan.json is damaged (...); re-run `tushu run`\n",
             "Traceback:\n", '  File "x.py", line 1\n']  # fmt: skip
    assert (
        failure_detail(lines)
        == "StepFileError: /r/work/plan.json is damaged (...); re-run `tushu run`"
    )


def test_missing_step_files__grouped_tile_jobs_are_read_by_job(tmp_path):
    """Tiles that share a job have their step files in the job's folder: a finished run with
    grouped tiles misses nothing (reading them per tile asked Snakemake for jobs that the
    plan does not have: "tile job 'r1074c169' is not in the plan")."""
    from pipeline.workflow.contracts import JobSpec, Plan, TileSpec, write_record

    layout = RunLayout.of(tmp_path)
    box = (0.0, 0.0, 1.0, 1.0)
    tiles = [TileSpec(tile_id=t, bbox=box, n_plots=1) for t in ("r1c1", "r1c2", "r2c1")]
    jobs = (JobSpec(job_id="r1c1", tile_ids=("r1c1",)),
            JobSpec(job_id="r1c2+1", tile_ids=("r1c2", "r2c1")))  # fmt: skip
    plan = Plan(tiles=tuple(tiles), jobs=jobs, crs="EPSG:32650", plots={}, column_mapping=[],
                seconds=0.0)  # fmt: skip
    for p in (*layout.deliverables(), layout.items, layout.work_plots, layout.desk_table,
              layout.desk_meta):  # fmt: skip
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("x")
    write_record(plan, layout.plan)
    for job in plan.job_ids:
        for p in (layout.tile(job).series, layout.tile(job).pixels, layout.tile(job).meta):
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text("x")
    assert missing_step_files(layout) == []
    layout.tile("r1c2+1").series.unlink()
    assert missing_step_files(layout) == [layout.tile("r1c2+1").series.resolve()]

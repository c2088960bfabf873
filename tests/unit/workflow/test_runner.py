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

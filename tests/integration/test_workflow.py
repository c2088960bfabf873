"""End to end on the tiny demo world, through Snakemake, as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import yaml

from pipeline.codes import REASONS, STATUSES, split_reasons
from pipeline.demo import make_world
from tests.paths import REPO_ROOT

pytestmark = pytest.mark.workflow


def _tushu(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.workflow.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    make_world(root / "world", preset="tiny", seed=7)
    proc = _tushu(
        "demo",
        "--preset",
        "tiny",
        "--seed",
        "7",
        "--data-dir",
        "world",
        "--out",
        "results",
        cwd=root,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root, proc


def test_demo__every_plot_once_in_every_per_plot_output(demo_run):
    root, _ = demo_run
    source = gpd.read_file(root / "world" / "plots.gpkg", layer="plots")
    res = gpd.read_parquet(root / "results" / "plots.parquet")
    gpkg = gpd.read_file(root / "results" / "plots.gpkg", layer="plots")
    assert list(res["row"]) == list(range(len(source)))
    assert list(gpkg["序号"]) == list(range(len(source)))
    ids = source["图斑编号"].astype(str).tolist()
    assert res["plot_id"].fillna("").tolist() == [i if i != "None" else "" for i in ids]
    assert gpkg["图斑编号"].astype(str).tolist() == ids  # Chinese values survive
    assert set(res["status"]) <= set(STATUSES)
    assert all(set(split_reasons(r)) <= set(REASONS) for r in res["reasons"])
    # rows with a null geometry or missing attributes are still there, with a status
    assert res.loc[res.geometry.isna(), "reasons"].str.contains("INVALID_GEOMETRY").all()
    assert (res["reasons"].str.contains("MISSING_ATTRIBUTE")).any()


def test_demo__timeseries_summary_and_run_record(demo_run):
    root, proc = demo_run
    out = root / "results"
    res = gpd.read_parquet(out / "plots.parquet")
    ts = pd.read_parquet(out / "timeseries.parquet")
    with_geom = set(res.loc[res.geometry.notna() & ~res.geometry.is_empty, "row"])
    assert set(ts["row"]) == with_geom
    assert ts.groupby("row")["date"].nunique().min() > 10
    summary = pd.read_csv(out / "summary.csv", encoding="utf-8-sig")
    total = summary[summary["county"] == "合计"].iloc[0]
    assert total["n_plots"] == len(res)
    assert sum(total[f"n_{s}"] for s in STATUSES) == len(res)
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["imagery"]["item_ids"] and len(run["inputs"]["plots"]["sha256"]) == 64
    assert {"plan", "desk", "tiles", "evidence_and_decisions"} <= set(run["timings_s"])
    assert (out / "evaluation.json").is_file()
    ingest = pd.read_csv(out / "ingest_report.csv", encoding="utf-8-sig")
    assert set(ingest["row"]) <= set(res["row"]) and run["ingest"]["records"] == len(res)
    assert (ingest["code"] == "GEOMETRY_EMPTY").any()
    assert "图数一致" in proc.stdout  # the county status table was printed


def test_demo__config_change_reruns_only_what_it_touches(demo_run):
    root, _ = demo_run
    config = root / "results" / "config.yaml"
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    raw["evidence"]["loss_drop"] = 0.25
    changed = root / "changed.yaml"
    changed.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    snakefile = REPO_ROOT / "pipeline" / "workflow" / "Snakefile"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "--snakefile",
            str(snakefile),
            "--config",
            f"tushu_config={changed}",
            "--cores",
            "1",
            "--dry-run",
            "--quiet",
            "rules",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = proc.stdout + proc.stderr
    assert "report" in text
    assert "extract_tile" not in text and "desk" not in text.replace("desk.", "")


def test_run__bad_config_fails_naming_the_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "output_dir: r\nplots: {path: p.gpkg}\nimagery: {catalog: c, start: 2021-01-01,"
        " end: 2022-01-01, tile_size_m: -5}\n",
        encoding="utf-8",
    )
    proc = _tushu("run", "--config", str(bad), cwd=tmp_path)
    assert proc.returncode == 2
    assert "imagery.tile_size_m" in proc.stdout


def test_notebook__runs_on_a_finished_run(demo_run):
    """The analyst notebook only imports `pipeline` and works on a run's folder."""
    import nbformat

    root, _ = demo_run
    nb_path = REPO_ROOT / "notebooks" / "explore_results.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    namespace: dict = {}
    for cell in nb.cells:
        if cell.cell_type == "code":
            code = cell.source.replace("../results/demo", str(root / "results"))
            assert "def " not in code  # notebooks never define logic
            exec(compile(code, str(nb_path), "exec"), namespace)  # noqa: S102
    assert len(namespace["results"].plots) > 0

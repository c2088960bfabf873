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
GOLDEN = REPO_ROOT / "tests" / "integration" / "golden" / "demo_tiny_seed0.csv"


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
        "0",
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
    assert {"plan", "desk", "tiles", "judge", "write_outputs"} <= set(run["timings_s"])
    assert run["run_id"] and run["started"] and len(run["settings_hash"]) == 64
    assert (out / "evaluation.json").is_file()
    ingest = pd.read_csv(out / "ingest_report.csv", encoding="utf-8-sig")
    assert set(ingest["row"]) <= set(res["row"]) and run["ingest"]["records"] == len(res)
    assert (ingest["code"] == "GEOMETRY_EMPTY").any()
    assert "图数一致" in proc.stdout  # the county status table was printed


def test_demo__statuses_match_the_golden_output(demo_run):
    """Statuses, reasons and areas per plot on the tiny world (seed 0) are what they were
    before the restructuring (tests/integration/golden/demo_tiny_seed0.csv)."""
    root, _ = demo_run
    res = gpd.read_parquet(root / "results" / "plots.parquet")
    golden = pd.read_csv(GOLDEN, keep_default_na=False, na_values={"verified_area_mu": [""],
                         "planted_area_mu": [""]})  # fmt: skip
    got = res[golden.columns].copy()
    for col in ("verified_area_mu", "planted_area_mu"):
        got[col] = got[col].astype(float).round(3)
    got["plot_id"] = got["plot_id"].fillna("")
    pd.testing.assert_frame_equal(got.reset_index(drop=True), golden, check_dtype=False)


def test_demo__rule_trace_explains_every_imagery_reason(demo_run):
    """Every imagery code a plot carries has a fired rule in trace.parquet, with its numbers."""
    root, _ = demo_run
    res = gpd.read_parquet(root / "results" / "plots.parquet").set_index("row")
    trace = pd.read_parquet(root / "results" / "trace.parquet")
    fired = trace[trace["fired"]]
    assert (
        fired[["value", "threshold"]].notna().all(axis=None)
        or fired["code"].eq("INSUFFICIENT_DATA").any()
    )
    imagery = {r.code for r in REASONS.values() if r.stage == "imagery"}
    for row, codes in res["reasons"].fillna("").str.split(",").items():
        expected = {c for c in codes if c in imagery}
        assert expected == set(fired.loc[fired["row"] == row, "code"]), row


def _config(root: Path, out: str, **evidence) -> Path:
    """A config in ``root/cfg`` whose plot and output paths are relative to that folder."""
    settings = yaml.safe_load((root / "results" / "settings.yaml").read_text(encoding="utf-8"))
    settings["output_dir"] = out
    settings["plots"]["path"] = "../world/plots.gpkg"
    settings["evidence"].update(evidence)
    (root / "cfg").mkdir(exist_ok=True)
    path = root / "cfg" / "run.yaml"
    path.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    return path


def test_run__same_config_from_two_folders_with_a_changed_threshold_is_current(demo_run):
    """Snakemake's state lives in the run folder and relative paths resolve from the config's
    folder: a changed threshold is seen whichever folder `tushu run` starts from."""
    root, _ = demo_run
    (root / "a").mkdir(exist_ok=True)
    (root / "b").mkdir(exist_ok=True)
    first = _tushu("run", "--config", str(_config(root, "../two")), cwd=root / "a")
    assert first.returncode == 0, first.stdout
    out = root / "two"
    before = gpd.read_parquet(out / "plots.parquet")
    assert before["reasons"].str.contains("VEGETATION_LOSS").any()
    again = _tushu("run", "--config", str(_config(root, "../two")), cwd=root / "b")
    assert again.returncode == 0 and "up to date" in again.stdout
    changed = _tushu("run", "--config", str(_config(root, "../two", loss_drop=0.9)), cwd=root / "b")
    assert changed.returncode == 0, changed.stdout
    assert "re-ran: report, publish" in " ".join(changed.stdout.split())
    after = gpd.read_parquet(out / "plots.parquet")
    assert not after["reasons"].str.contains("VEGETATION_LOSS").any()
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["settings"]["evidence"]["loss_drop"] == 0.9 and len(run["settings_hash"]) == 64
    assert not (root / "b" / ".snakemake").exists() and (out / ".snakemake").is_dir()


def test_run__run_options_and_cores_re_run_nothing(demo_run):
    root, _ = demo_run
    cfg = _config(root, "../two")
    assert _tushu("run", "--config", str(cfg), cwd=root).returncode == 0
    raw = yaml.safe_load(cfg.read_text(encoding="utf-8"))
    raw["run"] = {"date_chunk": 3, "cache": "on", "retry": {"attempts": 2}}
    cfg.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    proc = _tushu("run", "--config", str(cfg), "--cores", "1", cwd=root)
    assert proc.returncode == 0 and "up to date" in proc.stdout, proc.stdout


def test_run__min_clear_share_re_runs_what_reads_it(demo_run):
    """On a cube source the tile step does not read min_clear_share (the report step does)."""
    root, _ = demo_run
    assert _tushu("run", "--config", str(_config(root, "../two")), cwd=root).returncode == 0
    proc = _tushu("run", "--config", str(_config(root, "../two", min_clear_share=0.8)), cwd=root)
    assert proc.returncode == 0, proc.stdout
    assert "re-ran: report, publish" in " ".join(proc.stdout.split())


def test_run__refuses_a_foreign_non_empty_output_folder(demo_run, tmp_path):
    root, _ = demo_run
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    proc = _tushu("run", "--config", str(_config(root, str(tmp_path / "mine"))), cwd=root)
    assert proc.returncode == 2 and "not a Tushu run" in " ".join(proc.stdout.split())
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["notes.txt"]


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

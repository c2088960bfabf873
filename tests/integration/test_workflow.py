"""End to end on the tiny demo world, through Snakemake, as a user runs it."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import yaml

from pipeline.codes import REASONS, STATUS_LABELS, STATUSES, split_reasons
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
    umask = os.umask(0o022)  # as on a typical shared server (see the permissions test)
    try:
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
    finally:
        os.umask(umask)
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
    total = summary[summary["县"] == "合计"].iloc[0]
    assert total["图斑数"] == len(res)
    assert sum(total[f"图斑数_{STATUS_LABELS[s]}"] for s in STATUSES) == len(res)
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["imagery"]["item_ids"] and len(run["inputs"]["plots"]["sha256"]) == 64
    assert {"plan", "desk", "tiles", "judge", "write_outputs"} <= set(run["timings_s"])
    assert run["run_id"] and run["started"] and len(run["settings_hash"]) == 64
    assert (out / "evaluation.json").is_file()
    ingest = pd.read_csv(out / "ingest_report.csv", encoding="utf-8-sig")
    assert set(ingest["row"]) <= set(res["row"]) and run["ingest"]["records"] == len(res)
    assert (ingest["code"] == "GEOMETRY_EMPTY").any()
    assert "图数一致" in proc.stdout  # the county status table was printed


def test_demo__outputs_are_readable_by_group_and_others_under_umask_022(demo_run):
    """Every file of the run (deliverables, step files, cache) gets ``0644`` under umask 022,
    not the owner-only mode of a temporary file."""
    root, _ = demo_run
    out = root / "results"
    files = [
        p
        for p in [*out.glob("*.*"), *out.rglob("*.npz"), *(out / "work").rglob("*.*")]
        if p.is_file()
    ]
    assert len(files) > 10
    assert {str(p): stat.S_IMODE(p.stat().st_mode) for p in files} == {str(p): 0o644 for p in files}


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
    assert "re-ran: report, publish, documents" in " ".join(changed.stdout.split())
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


def _start_run(cfg: Path, cwd: Path) -> subprocess.Popen:
    """`tushu run` in a session of its own (so the test can kill it and all it started)."""
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline.workflow.cli", "run", "--config", str(cfg),
         "--cores", "1"],
        cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip


def _when_tiles_done(proc: subprocess.Popen, out: Path, n: int) -> dict[Path, int]:
    """Wait until ``n`` tiles are finished; their series files and modification times."""
    while proc.poll() is None and len(list(out.glob("work/tiles/*/tile.json"))) < n:
        time.sleep(0.1)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    return {p: p.stat().st_mtime_ns for p in out.glob("work/tiles/*/series.parquet")}


def _group_gone(pgid: int, wait_s: float = 20.0) -> bool:
    end = time.monotonic() + wait_s
    while time.monotonic() < end:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    return False


def _same_results(out: Path, reference: Path) -> None:
    got, ref = gpd.read_parquet(out / "plots.parquet"), gpd.read_parquet(reference)
    cols = ["geometry", "tile"]  # the tile ids depend on the tile size, nothing else does
    pd.testing.assert_frame_equal(got.drop(columns=cols), ref.drop(columns=cols))
    assert list(got.geometry.to_wkb()) == list(ref.geometry.to_wkb())


def _small_tiles(root: Path, out: str) -> Path:
    """The demo config with 800 m tiles (several tile jobs to interrupt); tiling changes no
    result (each plot is read whole from the tile holding its representative point)."""
    cfg = _config(root, out)
    raw = yaml.safe_load(cfg.read_text(encoding="utf-8"))
    raw["imagery"]["tile_size_m"] = 800
    path = cfg.with_name(f"{Path(out).name.split()[0]}.yaml")
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_run__hard_kill_then_run_again_resumes_and_gives_the_same_results(demo_run):
    """SIGKILL to `tushu run`, Snakemake and the step at once (a power cut, the OOM killer):
    the next `tushu run` removes the stale Snakemake lock by itself, keeps the finished tiles
    and makes the same results as an uninterrupted run. The run folder's name has a space
    and Chinese characters: the file named like its first word is untouched."""
    root, _ = demo_run
    (root / "killed").write_text("a user's file")  # a shell would split the path here
    cfg = _small_tiles(root, "../killed 结果")
    proc = _start_run(cfg, root)
    done = _when_tiles_done(proc, root / "killed 结果", 1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    again = _tushu("run", "--config", str(cfg), "--cores", "1", cwd=root)
    assert again.returncode == 0, again.stdout
    assert "tile" in again.stdout  # the unfinished tiles were made now
    assert {p: p.stat().st_mtime_ns for p in done} == done  # the finished ones were kept
    _same_results(root / "killed 结果", root / "results" / "plots.parquet")
    assert (root / "killed").read_text() == "a user's file"


def test_run__ctrl_c_stops_snakemake_and_a_damaged_tile_is_re_made(demo_run):
    """Ctrl-C: Snakemake is stopped (no process left) and the message says how to resume.
    A tile file torn afterwards is found damaged, re-made, and the results are the same."""
    root, _ = demo_run
    cfg = _small_tiles(root, "../stopped")
    proc = _start_run(cfg, root)
    done = _when_tiles_done(proc, root / "stopped", 1)
    proc.send_signal(signal.SIGINT)
    shown, _ = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "run the same command again" in " ".join(shown.split())
    assert _group_gone(proc.pid)
    torn = next(iter(done))
    torn.write_bytes(torn.read_bytes()[:100])
    again = _tushu("run", "--config", str(cfg), "--cores", "1", cwd=root)
    assert again.returncode == 0, again.stdout
    kept = {p: m for p, m in done.items() if p != torn}
    assert {p: p.stat().st_mtime_ns for p in kept} == kept
    assert torn.stat().st_size > 100  # re-made
    _same_results(root / "stopped", root / "results" / "plots.parquet")

"""Fault injection against the stand-in services: retries lose no data, fatal faults say what
to fix, an unreadable scene is skipped and counted, a killed run resumes from the cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pandas as pd
import pytest

from pipeline.errors import ImageryError
from pipeline.layout import RunLayout
from pipeline.workflow import inprocess
from tests.paths import REPO_ROOT
from tests.servers.runs import settings_for

FAST_RETRY = {"attempts": 4, "backoff_s": 0.05, "timeout_s": 2.0}
ROOT = REPO_ROOT


def _sh(world, out, standin, **more):
    sh = {"base_url": standin.base}
    return settings_for(world, out, source="sentinelhub", sentinelhub=sh, retry=FAST_RETRY, **more)


def _planned(settings) -> str:
    """Plan the run and return its biggest tile."""
    plan = inprocess.plan_in_process(settings)
    return max(plan.tiles, key=lambda t: t.n_plots).tile_id


def _tile(settings, tile: str) -> tuple[pd.DataFrame, dict]:
    inprocess.tile_in_process(settings, tile)
    d = RunLayout.of(settings.output_dir).tile(tile).dir
    series = pd.read_parquet(d / "series.parquet").sort_values(["row", "date"])
    return series.reset_index(drop=True), json.loads((d / "tile.json").read_text())


@pytest.fixture(scope="module")
def clean_sh(tiny_world, standin, tmp_path_factory):
    """An undisturbed Sentinel Hub run of the biggest tile (the expected answer)."""
    from pipeline.testing.standin import CLIENT_ID, CLIENT_SECRET

    env = {"SH_CLIENT_ID": CLIENT_ID, "SH_CLIENT_SECRET": CLIENT_SECRET}
    env["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        s = _sh(tiny_world, tmp_path_factory.mktemp("clean"), standin)
        tile = _planned(s)
        series, _ = _tile(s, tile)
    finally:
        for k, v in old.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    return tile, series


def test_process_api__transient_faults_lose_no_data(clean_sh, sh_env, tiny_world, tmp_path):
    tile, expected = clean_sh
    s = _sh(tiny_world, tmp_path, sh_env)
    _planned(s)
    for kind in ("429", "500", "truncate", "slow", "expire"):
        sh_env.inject(kind, "/api/v1/process", times=2 if kind != "expire" else 1, delay_s=3)
    series, meta = _tile(s, tile)
    assert all(f.times == 0 for f in sh_env.faults)  # every fault was hit
    assert meta["imagery"]["skipped_scenes"] == {}
    pd.testing.assert_frame_equal(series, expected)


def test_stac_assets__transient_faults_lose_no_data(tiny_world, standin, tmp_path):
    standin.faults.clear()
    standin.epoch += 1
    s = settings_for(tiny_world, tmp_path / "a", catalog=f"{standin.base}/stac", retry=FAST_RETRY)
    tile = _planned(s)
    expected, _ = _tile(s, tile)
    standin.epoch += 1  # new URLs: nothing comes from GDAL's in-memory cache
    s2 = settings_for(tiny_world, tmp_path / "b", catalog=f"{standin.base}/stac", retry=FAST_RETRY)
    _planned(s2)
    standin.inject("500", "/assets/", times=3)
    standin.inject("truncate", "/assets/", times=3)
    series, meta = _tile(s2, tile)
    assert all(f.times == 0 for f in standin.faults)
    assert meta["imagery"]["skipped_scenes"] == {}
    pd.testing.assert_frame_equal(series, expected)


def test_unreadable_scene__is_skipped_logged_and_counted(clean_sh, sh_env, tiny_world, tmp_path):
    tile, expected = clean_sh
    s = _sh(tiny_world, tmp_path, sh_env)
    _planned(s)
    # every attempt (4 service retries x 4 piece retries) of the first dates the 2 threads take
    sh_env.inject("500", "/api/v1/process", times=2 * FAST_RETRY["attempts"] ** 2)
    series, meta = _tile(s, tile)
    skipped = meta["imagery"]["skipped_scenes"]
    assert len(skipped) >= 1
    lost = pd.to_datetime(list(skipped))
    kept = ~expected["date"].isin(lost)
    same = series[kept].reset_index(drop=True)
    # the plots' own values are untouched; the reference levels are read from all the dates
    # seen, so a lost date moves them a little
    refs = ["ref_forest", "ref_open"]
    want = expected[kept].reset_index(drop=True)
    pd.testing.assert_frame_equal(same.drop(columns=refs), want.drop(columns=refs))
    assert (same[refs] - want[refs]).abs().max().max() < 0.05
    assert series.loc[~kept, "ndvi"].isna().all()  # the skipped dates: no observation
    n_obs = series.groupby("row")["ndvi"].count()
    assert (n_obs <= expected.groupby("row")["ndvi"].count()).all()


def test_bad_credentials__error_names_the_setting(sh_env, tiny_world, tmp_path, monkeypatch):
    monkeypatch.setenv("SH_CLIENT_SECRET", "wrong")
    with pytest.raises(ImageryError, match="SH_CLIENT_SECRET"):
        inprocess.plan_in_process(_sh(tiny_world, tmp_path, sh_env))


def test_exhausted_quota__error_names_the_fix(clean_sh, sh_env, tiny_world, tmp_path):
    tile, _ = clean_sh
    s = _sh(tiny_world, tmp_path, sh_env)
    _planned(s)
    sh_env.inject("403", "/api/v1/process", times=1000)
    with pytest.raises(ImageryError, match="processing units"):
        inprocess.tile_in_process(s, tile)


def test_no_scene_in_period__error_names_the_dates(sh_env, tiny_world, tmp_path):
    s = _sh(tiny_world, tmp_path, sh_env, start="2030-01-01", end="2030-12-31")
    with pytest.raises(ImageryError, match=r"imagery\.start/end"):
        inprocess.plan_in_process(s)


KILLABLE = """
import sys
from pathlib import Path
from pipeline.workflow import inprocess
from pipeline.config import load_settings
inprocess.tile_in_process(load_settings(sys.argv[1]), sys.argv[2])
"""


def test_killed_download__rerun_fetches_only_missing_dates(clean_sh, sh_env, tiny_world, tmp_path):
    from pipeline.config import dump_settings

    tile, expected = clean_sh
    s = _sh(tiny_world, tmp_path, sh_env, cache="on")
    _planned(s)
    cfg = tmp_path / "settings.yaml"
    dump_settings(s, cfg)
    n_dates = expected["date"].nunique()
    sh_env.inject("slow", "/api/v1/process", times=10_000, delay_s=0.1)
    before = sh_env.count("/api/v1/process")
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLABLE, str(cfg), tile], cwd=ROOT, env=dict(os.environ)
    )
    deadline = time.time() + 60
    while sh_env.count("/api/v1/process") - before < n_dates // 3 and time.time() < deadline:
        time.sleep(0.05)
    proc.kill()  # SIGKILL mid-download: no clean-up code runs
    proc.wait()
    sh_env.faults.clear()
    # finished entries only: a write cut by the kill leaves a ".tmp-*.npz" that is never trusted
    cached = [p for p in (tmp_path / "cache").rglob("*.npz") if not p.name.startswith(".")]
    assert 0 < len(cached) < n_dates
    assert not (RunLayout.of(s.output_dir).tile(tile).series).exists()
    mid = sh_env.count("/api/v1/process")
    series, meta = _tile(s, tile)
    assert meta["imagery"]["n_cached"] == len(cached)
    assert meta["imagery"]["n_fetched"] == n_dates - len(cached)
    assert sh_env.count("/api/v1/process") - mid == n_dates - len(cached)
    pd.testing.assert_frame_equal(series, expected)
    again, meta = _tile(s, tile)  # a third run downloads nothing
    assert meta["imagery"]["n_fetched"] == 0
    pd.testing.assert_frame_equal(again, expected)

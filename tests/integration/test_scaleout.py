"""Scale-out: the Snakemake profiles (dry runs) and reading scenes on a dask cluster."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from odc.geo.geobox import GeoBox

from pipeline.config import Evidence, RunOptions, Settings
from pipeline.demo.settings import demo_settings
from pipeline.imagery.cache import FetchReport, PieceCache
from pipeline.imagery.compute import open_executor
from pipeline.imagery.extract import extract_tile
from pipeline.imagery.sources import open_source
from pipeline.layout import RunLayout
from pipeline.workflow.runner import SNAKEFILE, claim_output_dir, write_run_settings
from tests.paths import REPO_ROOT

UTM = "EPSG:32650"


def _settings(world, out) -> Settings:
    return demo_settings(world, out, "tiny")


@pytest.mark.parametrize("profile", ["local", "slurm"])
def test_profile__snakemake_dry_run_plans_the_workflow(tiny_world, tmp_path, profile):
    if profile == "slurm" and importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        pytest.skip("snakemake-executor-plugin-slurm is not installed (pip install tushu[cluster])")
    settings = _settings(tiny_world, tmp_path / "run")
    layout = RunLayout.of(settings.output_dir)
    claim_output_dir(layout)
    write_run_settings(settings, layout)
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--profile", str(REPO_ROOT / "profiles" / profile),
         "--snakefile", str(SNAKEFILE), "--directory", str(layout.root),
         "--config", f"tushu_settings={layout.settings}", "--cores", "2", "--dry-run"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0, text[-3000:]
    for rule in ("plan", "desk", "report", "publish"):  # the job stats table
        assert re.search(rf"^{rule}\s+1\s*$", text, re.M), rule
    if profile == "slurm":
        assert "slurm_partition=normal" in text  # the profile's resources reached the jobs


def test_dask_local_cluster__reads_give_the_same_series_as_the_job_itself(tiny_world, tmp_path):
    pytest.importorskip("distributed")
    imagery = _settings(tiny_world, tmp_path / "run").imagery
    x0, y0 = 561_200.0, 2_931_000.0
    plots = gpd.GeoDataFrame(
        {"row": [0, 1], "planting_year": [2022, 2022]},
        geometry=[shapely.box(x0 + 50, y0 + 50, x0 + 140, y0 + 120),
                  shapely.box(x0 + 300, y0 + 200, x0 + 370, y0 + 290)],
        crs=UTM,
    )  # fmt: skip
    geobox = GeoBox.from_bbox((x0, y0, x0 + 400, y0 + 320), crs=UTM, resolution=10)
    source = open_source(imagery)
    items = source.find_items((117.61, 26.49, 117.63, 26.51), imagery.start, imagery.end)
    prep = Evidence()

    def extract(executor):
        report = FetchReport()
        out = extract_tile(source, plots, items, geobox, imagery, prep, PieceCache(None), report,
                           date_chunk=8, executor=executor)  # fmt: skip
        return out, report

    alone, rep1 = extract(None)
    with open_executor(RunOptions(dask="local", threads=2)) as executor:
        clustered, rep2 = extract(executor)
    pd.testing.assert_frame_equal(alone.series, clustered.series, check_exact=True)
    pd.testing.assert_frame_equal(alone.pixels, clustered.pixels, check_exact=True)
    assert len(alone.series) == 2 * alone.n_dates > 0
    assert sorted(rep1.fetched) == sorted(rep2.fetched)

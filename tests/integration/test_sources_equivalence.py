"""The demo world's plots get the same answer from every imagery source."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.servers.runs import run_steps, settings_for, write_local_folder


@pytest.fixture(scope="module")
def reference(tiny_world, tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "static"
    return out, run_steps(settings_for(tiny_world, out))


def _same_statuses(ref: pd.DataFrame, other: pd.DataFrame) -> None:
    assert list(other["row"]) == list(ref["row"])
    diff = (other["status"] != ref["status"]) | (other["reasons"] != ref["reasons"])
    shown = ref.loc[diff, ["row", "status", "reasons"]].assign(got=other.loc[diff, "reasons"])
    assert not diff.any(), shown.to_string()


def test_stac_api__same_statuses_as_static_catalog(reference, standin, tiny_world, tmp_path):
    standin.faults.clear()
    out, ref = reference
    got = run_steps(settings_for(tiny_world, tmp_path, catalog=f"{standin.base}/stac"), out)
    _same_statuses(ref, got)
    assert standin.count("/assets/", "GET") > 0  # pixels really came over HTTP


def test_static_catalog_over_http__same_statuses_as_from_disk(
    reference, standin, tiny_world, tmp_path
):
    """A catalog.json URL is walked like the file on disk (not searched as a STAC API)."""
    standin.faults.clear()
    out, ref = reference
    url = f"{standin.base}/static/catalog.json"
    got = run_steps(settings_for(tiny_world, tmp_path, catalog=url), out)
    _same_statuses(ref, got)
    assert standin.count("/static/S2_DEMO_", "GET") > 0  # items and pixels came over HTTP


def test_local_files__same_statuses_as_static_catalog(reference, tiny_world, tmp_path):
    out, ref = reference
    folder = write_local_folder(tiny_world, tmp_path / "scenes")
    s = settings_for(tiny_world, tmp_path / "run", source="local", local={"path": folder})
    _same_statuses(ref, run_steps(s, out))


def test_sentinelhub_process__same_statuses_as_static_catalog(
    reference, sh_env, tiny_world, tmp_path
):
    out, ref = reference
    s = settings_for(
        tiny_world, tmp_path, source="sentinelhub", sentinelhub={"base_url": sh_env.base}
    )
    _same_statuses(ref, run_steps(s, out))
    assert sh_env.count("/api/v1/process") > 0


def test_sentinelhub_statistical__plot_means_match_local(reference, sh_env, tiny_world, tmp_path):
    """Per plot and date within 0.01 NDVI (95 %), per plot over its dates within 0.01.

    The service counts the pixels whose centre is in the plot; the raster path weights every
    pixel by its exact coverage: mixed edge pixels make single dates differ by up to ~0.03.
    """
    out, _ = reference
    s = settings_for(
        tiny_world,
        tmp_path,
        source="sentinelhub-statistical",
        sentinelhub={"base_url": sh_env.base},
    )
    run_steps(s, out)
    a = pd.read_parquet(out / "timeseries.parquet")
    b = pd.read_parquet(tmp_path / "timeseries.parquet")
    m = a.merge(b, on=["row", "date"], suffixes=("_l", "_s"))
    m = m[(m["clear_share_l"] >= 0.6) & (m["clear_share_s"] >= 0.6)]
    assert len(m) > 500
    diff = (m["ndvi_l"] - m["ndvi_s"]).abs()
    assert diff.median() < 0.005 and diff.quantile(0.95) <= 0.01
    per_plot = m.groupby("row")[["ndvi_l", "ndvi_s"]].mean()
    assert (per_plot["ndvi_l"] - per_plot["ndvi_s"]).abs().max() < 0.01

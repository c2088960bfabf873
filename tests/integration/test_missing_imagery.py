"""Missing imagery is never evidence against a plot: the tiny world with the scenes of its
planting year (2022) removed gives INSUFFICIENT_DATA, naming the missing window, where the
full catalog finds no planting; nothing is refuted on the few autumn scenes of 2021."""

from __future__ import annotations

import pandas as pd
import pystac

from pipeline.codes import split_reasons
from tests.servers.runs import run_steps, settings_for


def _catalog_without(world, year: int, folder) -> str:
    """A copy of the world's static catalog without the scenes of ``year`` (assets kept where
    they are)."""
    root = pystac.read_file(str(world / "stac" / "catalog.json"))
    out = pystac.Catalog("without", f"tiny world without {year}")
    for item in root.get_items(recursive=True):
        if item.datetime.year == year:
            continue
        for asset in item.assets.values():
            asset.href = asset.get_absolute_href()
        out.add_item(item.clone())
    out.normalize_hrefs(str(folder))
    out.save(pystac.CatalogType.SELF_CONTAINED)
    return str(folder / "catalog.json")


def test_planting_year_removed__insufficient_data_never_no_planting_evidence(tiny_world, tmp_path):
    catalog = _catalog_without(tiny_world, 2022, tmp_path / "stac")
    got = run_steps(settings_for(tiny_world, tmp_path / "run", catalog=catalog))
    truth = pd.read_csv(tiny_world / "truth.csv", keep_default_na=False)
    reasons = got["reasons"].map(split_reasons).map(set)
    refuted = {"NO_PLANTING_EVIDENCE", "PARTIAL_PLANTING", "VEGETATION_LOSS", "LOW_SURVIVAL"}
    assert not any(r & refuted for r in reasons), got.loc[reasons.map(bool), "reasons"]
    # the plots the full catalog shows unplanted are now plots the imagery cannot judge
    unplanted = truth["scenario"].eq("NO_PLANTING_EVIDENCE").to_numpy()
    assert unplanted.any() and all("INSUFFICIENT_DATA" in r for r in reasons[unplanted])
    assert (got.loc[unplanted, "status"] == "insufficient_data").all()
    trace = pd.read_parquet(tmp_path / "run" / "trace.parquet")
    named = trace[trace["fired"] & (trace["code"] == "INSUFFICIENT_DATA")]
    assert set(named.loc[named["row"].isin(got.loc[unplanted, "row"]), "metric"]) == {
        "n_planting_year_obs"
    }
    # a forest baseline (2021) is still seen
    forest = truth["scenario"].eq("PRE_EXISTING_FOREST").to_numpy()
    assert all("PRE_EXISTING_FOREST" in r for r in reasons[forest])

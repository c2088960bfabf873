"""Attribute tables of the demo world (plots, priors, counties, farmland, truth) and
deterministic GeoPackage writing."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from pipeline.demo.grid import CRS_PLOTS, CRS_UTM, Grid
from pipeline.demo.landscape import TOWNSHIPS, Background
from pipeline.demo.plots import Plot, Prior
from pipeline.demo.presets import GENUINE, MU_M2
from pipeline.demo.visibility import expected_reasons

PLOT_COLUMNS = [
    "图斑编号",
    "县",
    "乡镇",
    "阶段",
    "造林年度",
    "上报面积",
    "造林类型",
    "树种",
    "备注",
]
TRUTH_COLUMNS = [
    "row",
    "plot_id",
    "scenario",
    "reasons",
    "planted_share",
    "planting_date",
    "loss_date",
    "land",
]
REMARKS = ("穴状整地", "块状整地", "补植", "已抚育")
FIXED_DATE = "2025-01-01T00:00:00.000Z"  # gpkg_contents.last_change, for byte-identical files


def _claimed_mu(plot: Plot, rng: np.random.Generator) -> float:
    """Reported area, 亩 rounded to 0.1: true area ±0.8 % (inflated 40–80 % if mismatched)."""
    true_mu = plot.land.area / MU_M2
    if plot.scenario == "AREA_MISMATCH":
        return round(true_mu * rng.uniform(1.4, 1.8), 1)
    claimed = round(true_mu * (1 + rng.uniform(-0.008, 0.008)), 1)
    if abs(claimed / true_mu - 1) > 0.015:
        claimed = round(true_mu, 1)
    return claimed


def build_plot_tables(
    plots: list[Plot],
    bg: Background,
    grid: Grid,
    rng: np.random.Generator,
    end: dt.date | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """plots layer (EPSG:4490, shuffled rows) and the matching truth table.

    ``end``: the last imagery date; with it, a genuine planting that 10 m imagery cannot show
    by then gets the reason ESTABLISHMENT_NOT_YET_VISIBLE in the truth
    (:mod:`pipeline.demo.visibility`)."""
    order = rng.permutation(len(plots))
    seq: dict[tuple[str, int], int] = {}
    ids: dict[int, str] = {}
    recs, truth, geoms = [], [], []
    for row, i in enumerate(order):
        p = plots[int(i)]
        county = 1 - p.county if p.scenario == "OUTSIDE_REGION" else p.county
        name, code = bg.counties[county][0], bg.counties[county][1]
        if p.pair in ids and p.scenario == "DUPLICATE_ID":
            pid = ids[p.pair]
        else:
            seq[(code, p.year)] = seq.get((code, p.year), 0) + 1
            pid = f"{code}-{p.year}-{seq[(code, p.year)]:04d}"
        ids[int(i)] = pid
        if p.land is not None:
            town = bg.township_at(county, p.land.centroid.y, grid)
        else:
            town = str(rng.choice(TOWNSHIPS[name]))
        stage = "设计施工" if p.design else ("造林验收" if rng.random() < 0.85 else "纳入造林")
        kind = "人工造林" if rng.random() < 0.88 else "更新造林"
        remark = str(rng.choice(REMARKS)) if rng.random() < 0.12 else ""
        claimed = _claimed_mu(p, rng) if p.land is not None else round(rng.uniform(8, 30), 1)
        recs.append(
            {
                "图斑编号": pid,
                "县": None if p.missing == "县" else name,
                "乡镇": town,
                "阶段": stage,
                "造林年度": pd.NA if p.missing == "造林年度" else p.year,
                "上报面积": np.nan if p.missing == "上报面积" else claimed,
                "造林类型": kind,
                "树种": p.species,
                "备注": remark,
            }
        )
        geoms.append(p.geom)
        truth.append(
            {
                "row": row,
                "plot_id": pid,
                "scenario": p.scenario,
                "reasons": (
                    expected_reasons(p.scenario, p.base, p.prep, p.plant, p.grow_days, p.fmax, end)
                    if end is not None and not p.design
                    else ("" if p.scenario == GENUINE else p.scenario)
                ),
                "planted_share": round(p.share, 4),
                "planting_date": p.plant.isoformat() if p.plant else "",
                "loss_date": p.loss.isoformat() if p.loss else "",
                "land": p.base,
            }
        )
    table = pd.DataFrame(recs, columns=PLOT_COLUMNS)
    table["造林年度"] = table["造林年度"].astype("Int64")
    table["上报面积"] = table["上报面积"].astype("float64")
    layer = gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geoms, crs=CRS_UTM).to_crs(CRS_PLOTS))
    return layer, pd.DataFrame(truth, columns=TRUTH_COLUMNS)


def build_prior_table(priors: list[Prior], bg: Background) -> gpd.GeoDataFrame:
    """prior_plots layer (EPSG:4490)."""
    seq: dict[tuple[str, int], int] = {}
    recs = []
    for p in priors:
        name, code = bg.counties[p.county][0], bg.counties[p.county][1]
        seq[(code, p.year)] = seq.get((code, p.year), 0) + 1
        recs.append(
            {
                "图斑编号": f"{code}-{p.year}-{seq[(code, p.year)]:04d}",
                "造林年度": p.year,
                "县": name,
            }
        )
    geoms = gpd.GeoSeries([p.geom for p in priors], crs=CRS_UTM).to_crs(CRS_PLOTS)
    return gpd.GeoDataFrame(
        pd.DataFrame(recs, columns=["图斑编号", "造林年度", "县"]), geometry=geoms
    )


def build_reference_tables(bg: Background) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """counties and farmland layers (EPSG:4490)."""
    counties = gpd.GeoDataFrame(
        {"县名": [c[0] for c in bg.counties], "县代码": [c[1] for c in bg.counties]},
        geometry=gpd.GeoSeries([c[2] for c in bg.counties], crs=CRS_UTM).to_crs(CRS_PLOTS),
    )
    farmland = gpd.GeoDataFrame(
        {"DLBM": [code for _, code in bg.farmland], "类型": "永久基本农田"},
        geometry=gpd.GeoSeries([g for g, _ in bg.farmland], crs=CRS_UTM).to_crs(CRS_PLOTS),
    )
    return counties, farmland


@contextlib.contextmanager
def _fixed_gpkg_date() -> Iterator[None]:
    old = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": FIXED_DATE})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": old})


def write_gpkg(layer: gpd.GeoDataFrame, path: Path, name: str) -> Path:
    """Write a single-layer GeoPackage byte-identically for identical input."""
    path.unlink(missing_ok=True)
    with _fixed_gpkg_date():
        layer.to_file(path, layer=name, driver="GPKG", engine="pyogrio")
    return path

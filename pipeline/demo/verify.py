"""Re-check a written demo world against the promises its truth relies on."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pipeline.demo.grid import CRS_UTM
from pipeline.demo.presets import GENUINE, MU_M2, REASON_CODES, SCENARIOS
from pipeline.demo.records import PLOT_COLUMNS, TRUTH_COLUMNS
from pipeline.demo.visibility import NOT_YET_VISIBLE

GAP = 20.0 - 1e-3  # m, promised clearance (minus round-off of the EPSG:4490 round trip)


def _valid(g: shapely.Geometry | None) -> shapely.Geometry | None:
    return None if g is None else (g if g.is_valid else shapely.make_valid(g))


def check_world(root: Path) -> list[str]:
    """Problems found in the world written under root (empty list = contract holds)."""
    root = Path(root)
    plots = gpd.read_file(root / "plots.gpkg", layer="plots")
    truth = pd.read_csv(root / "truth.csv", dtype={"reasons": str}, keep_default_na=False)
    priors = gpd.read_file(root / "prior_plots.gpkg", layer="prior_plots").to_crs(CRS_UTM)
    counties = gpd.read_file(root / "counties.gpkg", layer="counties").to_crs(CRS_UTM)
    farm = gpd.read_file(root / "farmland.gpkg", layer="farmland").to_crs(CRS_UTM)
    out: list[str] = []
    if list(plots.columns) != PLOT_COLUMNS + ["geometry"]:
        out.append(f"plots columns {list(plots.columns)}")
    if plots.crs is None or plots.crs.to_epsg() != 4490:
        out.append(f"plots CRS {plots.crs}")
    if list(truth.columns) != TRUTH_COLUMNS or len(truth) != len(plots):
        return out + ["truth columns or length do not match plots"]
    if (truth["row"].to_numpy() != np.arange(len(truth))).any():
        out.append("truth rows are not 0..n-1")
    if (truth["plot_id"].to_numpy() != plots["图斑编号"].to_numpy()).any():
        out.append("truth plot_id differs from 图斑编号")
    for i, t in truth.iterrows():
        reasons = [r for r in t["reasons"].split(";") if r]
        known = REASON_CODES + (NOT_YET_VISIBLE,)  # the truth's outcome for what imagery hides
        if t["scenario"] not in SCENARIOS or any(r not in known for r in reasons):
            out.append(f"row {i}: unknown scenario/reason {t['scenario']!r} {reasons}")
        # genuine: none or not-yet-visible; others: their own, or what imagery shows of them
        fits = reasons in ([], [NOT_YET_VISIBLE]) if t["scenario"] == GENUINE else bool(reasons)
        if not fits:
            out.append(f"row {i}: reasons {reasons} do not fit scenario {t['scenario']}")
    geoms = [_valid(g) for g in plots.to_crs(CRS_UTM).geometry]
    scen = truth["scenario"].to_numpy()
    out += _check_geometry(plots, geoms, scen)
    out += _check_neighbours(geoms, scen, priors, farm)
    out += _check_attributes(plots, geoms, scen, counties)
    return out


def _check_geometry(plots: gpd.GeoDataFrame, geoms: list, scen: np.ndarray) -> list[str]:
    out = []
    for i, (raw, g) in enumerate(zip(plots.geometry, geoms, strict=True)):
        bad = raw is None or not raw.is_valid
        if bad != (scen[i] == "INVALID_GEOMETRY"):
            out.append(f"row {i}: validity does not fit scenario {scen[i]}")
        if g is None:
            continue
        mu = g.area / MU_M2
        if scen[i] == "TOO_SMALL" and not 0.38 <= mu <= 0.92:
            out.append(f"row {i}: TOO_SMALL plot has {mu:.2f} 亩")
        if scen[i] != "TOO_SMALL" and mu < 3.0:
            out.append(f"row {i}: plot of {mu:.2f} 亩 is below 3 亩")
        claimed = plots["上报面积"].iloc[i]
        if pd.notna(claimed):
            ratio = claimed / mu
            if scen[i] == "AREA_MISMATCH" and ratio < 1.3:
                out.append(f"row {i}: AREA_MISMATCH claim only ×{ratio:.3f}")
            if scen[i] != "AREA_MISMATCH" and abs(ratio - 1) > 0.02:
                out.append(f"row {i}: claim off by {ratio - 1:+.3%}")
    return out


def _check_neighbours(geoms: list, scen: np.ndarray, priors, farm) -> list[str]:
    out = []
    idx = [i for i, g in enumerate(geoms) if g is not None]
    farm_union = shapely.union_all(farm.geometry.to_numpy())
    for i in idx:
        g = geoms[i]
        for j in idx:
            if j <= i:
                continue
            h = geoms[j]
            if scen[i] == "OVERLAP" and scen[j] == "OVERLAP" and g.intersects(h):
                if g.intersection(h).area < 0.2 * min(g.area, h.area):
                    out.append(f"rows {i},{j}: OVERLAP below 20 %")
            elif g.distance(h) < GAP:
                out.append(f"rows {i},{j}: closer than 20 m")
        d_prior = [g.distance(p) for p in priors.geometry]
        cover = [g.intersection(p).area / p.area for p in priors.geometry]
        if scen[i] == "DUPLICATE_PRIOR" and max(cover, default=0) < 0.8:
            out.append(f"row {i}: DUPLICATE_PRIOR covers only {max(cover, default=0):.0%}")
        if scen[i] != "DUPLICATE_PRIOR" and min(d_prior, default=1e9) < GAP:
            out.append(f"row {i}: closer than 20 m to a prior plot")
        on_farm = g.intersection(farm_union).area / g.area
        if scen[i] == "RESTRICTED_LAND" and on_farm < 0.5:
            out.append(f"row {i}: RESTRICTED_LAND only {on_farm:.0%} on farmland")
        if scen[i] != "RESTRICTED_LAND" and g.distance(farm_union) < GAP:
            out.append(f"row {i}: closer than 20 m to farmland")
    n_pairs = sum(1 for s in scen if s == "OVERLAP") // 2
    found = sum(
        1
        for i in idx
        for j in idx
        if j > i and scen[i] == scen[j] == "OVERLAP" and geoms[i].intersects(geoms[j])
    )
    if found != n_pairs:
        out.append(f"{found} overlapping pairs, expected {n_pairs}")
    return out


def _check_attributes(plots, geoms: list, scen: np.ndarray, counties) -> list[str]:
    out = []
    ids = plots["图斑编号"]
    dup = ids.duplicated(keep=False).to_numpy()
    if (dup != (scen == "DUPLICATE_ID")).any():
        out.append("duplicated ids do not match DUPLICATE_ID rows")
    fields = ["造林年度", "上报面积", "县"]
    n_missing = plots[fields].isna().sum(axis=1).to_numpy()
    if ((n_missing > 0) != (scen == "MISSING_ATTRIBUTE")).any() or n_missing.max() > 1:
        out.append("missing attributes do not match MISSING_ATTRIBUTE rows")
    inner = {r["县名"]: r.geometry.buffer(-GAP) for _, r in counties.iterrows()}
    for i, g in enumerate(geoms):
        name = plots["县"].iloc[i]
        if g is None or pd.isna(name):
            continue
        inside = inner[name].contains(g)
        if scen[i] == "OUTSIDE_REGION":
            others = [c for n, c in inner.items() if n != name]
            if inside or not any(c.contains(g) for c in others):
                out.append(f"row {i}: OUTSIDE_REGION plot is not wholly in the other county")
        elif not inside:
            out.append(f"row {i}: not 20 m inside its county {name}")
    return out

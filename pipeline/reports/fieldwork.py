"""Field work: the visit list (KML for phones and Google Earth, GPX waypoints for handheld
GNSS) of the plots needing a visit, and a stratified random sample of plots for field checks
with the estimated compliance rate and its confidence interval."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.special import ndtri  # the normal quantile (scipy.stats costs 0.5 s to import)

from pipeline.codes import STATUS_LABELS, label_actions, label_reasons
from pipeline.files import write_atomic
from pipeline.reports.summary import county_of


def visit_list(result: gpd.GeoDataFrame, statuses: tuple[str, ...]) -> gpd.GeoDataFrame:
    """Plots with a status in ``statuses`` and a geometry, in WGS 84, with a name and a
    Chinese description (status, reasons, action)."""
    sel = result[result["status"].isin(statuses) & result.geometry.notna()]
    sel = sel[~sel.geometry.is_empty]
    desc = (
        county_of(sel)
        + " "
        + sel["township"].fillna("")
        + "；"
        + sel["status"].map(STATUS_LABELS)
        + "："
        + sel["reasons"].map(label_reasons)
        + "；整改："
        + sel["reasons"].map(label_actions)
    )
    names = sel["plot_id"].fillna("").where(sel["plot_id"].notna(), "#" + sel["row"].astype(str))
    out = gpd.GeoDataFrame(
        {"Name": names.to_numpy(), "Description": desc.to_numpy()},
        geometry=sel.geometry.to_numpy(),
        crs=result.crs,
    )
    return out.to_crs(4326)


def write_visit_files(visits: gpd.GeoDataFrame, kml: Path, gpx: Path) -> None:
    """KML polygons and GPX waypoints (a point inside each plot)."""
    write_atomic(Path(kml), lambda p: visits.to_file(p, driver="KML", engine="pyogrio"))
    points = gpd.GeoDataFrame(
        {"name": visits["Name"], "desc": visits["Description"]},
        geometry=visits.geometry.representative_point(),
        crs=visits.crs,
    )

    def write_gpx(p: Path) -> None:
        p.unlink(missing_ok=True)
        points.to_file(p, driver="GPX", engine="pyogrio", layer="waypoints")

    write_atomic(Path(gpx), write_gpx)


def draw_sample(result: pd.DataFrame, size: int, seed: int) -> pd.DataFrame:
    """Stratified random sample (strata: county), proportional allocation with at least one
    plot per stratum. Columns: ``stratum``, ``row``, ``plot_id``, ``status``, ``weight``
    (stratum plots / sampled plots), ``N_h``, ``n_h``, ``compliant`` (the run's provisional
    outcome: status consistent; field crews replace it with what they find)."""
    rng = np.random.default_rng(seed)
    strata = county_of(result)
    sizes = strata.value_counts().sort_index()
    alloc = np.maximum(1, np.round(size * sizes / sizes.sum())).astype(int).clip(upper=sizes)
    parts = []
    for name, n_h in alloc.items():
        idx = result.index[strata == name]
        pick = np.sort(rng.choice(len(idx), size=int(n_h), replace=False))
        g = result.loc[idx[pick]]
        parts.append(
            pd.DataFrame(
                {
                    "stratum": name,
                    "row": g["row"].to_numpy(),
                    "plot_id": g["plot_id"].fillna("").to_numpy(),
                    "status": g["status"].to_numpy(),
                    "N_h": int(sizes[name]),
                    "n_h": int(n_h),
                    "compliant": (g["status"] == "consistent").to_numpy(),
                }
            )
        )
    sample = pd.concat(parts, ignore_index=True)
    sample["weight"] = sample["N_h"] / sample["n_h"]
    return sample


def estimate_rate(sample: pd.DataFrame, confidence: float = 0.95) -> dict[str, float]:
    """Stratified estimate of the compliance rate (share of plots whose ``compliant`` is true)
    with its normal-approximation interval (finite-population corrected), clipped to [0, 1]."""
    g = sample.groupby("stratum")
    N_h = g["N_h"].first()
    n_h = g["n_h"].first()
    p_h = g["compliant"].mean()
    W_h = N_h / N_h.sum()
    rate = float((W_h * p_h).sum())
    s2 = (p_h * (1 - p_h) * n_h / (n_h - 1).clip(lower=1)).fillna(0)
    var = float((W_h**2 * (1 - n_h / N_h) * s2 / n_h).sum())
    z = float(ndtri(0.5 + confidence / 2))  # = scipy.stats.norm.ppf
    half = z * var**0.5
    return {
        "rate": rate,
        "low": max(0.0, rate - half),
        "high": min(1.0, rate + half),
        "confidence": confidence,
        "n_sampled": int(n_h.sum()),
        "n_plots": int(N_h.sum()),
    }


def sample_table(sample: pd.DataFrame) -> pd.DataFrame:
    """The sample for field crews (Chinese headers; 实地结果 to fill in)."""
    return pd.DataFrame(
        {
            "层(县)": sample["stratum"],
            "图斑编号": sample["plot_id"],
            "行号": sample["row"],
            "核查结论": sample["status"].map(STATUS_LABELS),
            "层内图斑数": sample["N_h"],
            "层内抽样数": sample["n_h"],
            "权重": sample["weight"].round(4),
            "实地结果(合格/不合格)": "",
        }
    )

"""Writing the run's deliverables: GeoParquet, GeoPackage (Chinese names), CSV, JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from pipeline.codes import REASONS, STATUS_LABELS, STATUSES, label_reasons, split_reasons
from pipeline.files import write_atomic

# Result fields as GIS users read them (the plot's own attributes keep their source names).
GPKG_NAMES: dict[str, str] = {
    "row": "序号",
    "status": "核查状态",
    "status_label": "核查结论",
    "reasons": "问题代码",
    "reason_labels": "问题说明",
    "geom_area_mu": "图形面积_亩",
    "claimed_area_mu": "上报面积_亩",
    "verified_area_mu": "核实面积_亩",
    "planted_area_mu": "影像造林面积_亩",
    "geom_status": "图形状态",
    "geom_area_change_mu": "修复面积变化_亩",
    "area_diff_mu": "面积差_亩",
    "area_tolerance_mu": "面积容差_亩",
    "overlap_with": "重叠图斑",
    "overlap_area_mu": "重叠面积_亩",
    "prior_match": "往年图斑",
    "prior_share": "往年重叠比例",
    "region_share": "辖区内比例",
    "restricted_area_mu": "占用耕地面积_亩",
    "restricted_with": "占用耕地图层",
    "prior_layer": "往年图层",
    "region_actual": "实际所在县",
    "township_share": "乡镇内比例",
    "source_file": "来源文件",
    "source_row": "来源行号",
    "tile": "影像分块",
    "n_clear_obs": "有效观测数",
    "n_baseline_obs": "基线期观测数",
    "n_prep_obs": "整地期观测数",
    "baseline_winter_ndvi": "基线旱季NDVI",
    "baseline_summer_ndvi": "基线夏季NDVI",
    "prep_ndvi_drop": "整地NDVI降幅",
    "prep_bsi_rise": "整地裸土指数升幅",
    "reference_contrast": "参照林地与空地差值",
    "baseline_dry_index": "基线旱季类林度",
    "baseline_growing_index": "基线生长季类林度",
    "baseline_forest_index": "基线类林度",
    "establish_rise": "旱季成林升幅",
    "establish_trend": "旱季成林年趋势",
    "establish_vs_peers": "成林升幅与同批差值",
    "planted_share": "造林面积比例",
    "data_share": "有数据面积比例",
    "winter_index_last": "最近旱季类林度",
    "winter_gap_peers": "与同批图斑差值",
    "years_observed": "造林后年数",
    "loss_drop": "植被损失降幅",
    "loss_z": "损失检验统计量",
    "loss_confidence": "损失置信度",
    "loss_date": "损失日期",
}
# Normalised copies of the claims: in the GeoPackage the source columns already hold them.
GPKG_DROP = (
    "plot_id",
    "county",
    "township",
    "stage",
    "planting_year",
    "planting_type",
    "species",
    "is_design",
)


def write_plots(result: gpd.GeoDataFrame, out_dir: Path) -> None:
    """``plots.parquet`` (GeoParquet, English names) and ``plots.gpkg`` (Chinese result names)."""
    out_dir = Path(out_dir)
    write_atomic(out_dir / "plots.parquet", lambda p: result.to_parquet(p, index=False))
    gpkg = result.drop(columns=[c for c in GPKG_DROP if c in result.columns])
    gpkg = gpkg.assign(
        status_label=gpkg["status"].map(STATUS_LABELS),
        reason_labels=gpkg["reasons"].map(label_reasons),
    )
    if "loss_date" in gpkg.columns:
        gpkg["loss_date"] = gpkg["loss_date"].astype(str).replace({"NaT": None})
    gpkg = gpkg.rename(columns={k: v for k, v in GPKG_NAMES.items() if k in gpkg.columns})
    write_atomic(
        out_dir / "plots.gpkg",
        lambda p: gpkg.to_file(p, layer="plots", driver="GPKG", engine="pyogrio"),
    )


def summarize_counties(result: pd.DataFrame) -> pd.DataFrame:
    """Per county (and a 合计 total row): plots and 亩 by status and by reason."""
    df = result.assign(county=result["county"].fillna("(未填)"))
    groups = []
    for county, g in [*df.groupby("county", sort=True), ("合计", df)]:
        row: dict[str, Any] = {
            "county": county,
            "n_plots": len(g),
            "claimed_area_mu": g["claimed_area_mu"].sum(),
            "geom_area_mu": g["geom_area_mu"].sum(),
            "verified_area_mu": g["verified_area_mu"].sum(),
        }
        claimed = row["claimed_area_mu"]
        row["verified_rate"] = row["verified_area_mu"] / claimed if claimed else float("nan")
        for status in STATUSES:
            sel = g["status"] == status
            row[f"n_{status}"] = int(sel.sum())
            row[f"area_{status}_mu"] = g.loc[sel, "geom_area_mu"].sum()
        codes = g["reasons"].map(split_reasons)
        for code in REASONS:
            sel = codes.map(lambda cs, c=code: c in cs)
            row[f"n_{code}"] = int(sel.sum())
            row[f"area_{code}_mu"] = g.loc[sel, "geom_area_mu"].sum()
        groups.append(row)
    return pd.DataFrame(groups)


class RunResults:
    """A finished run's outputs, read back for analysis (plots, time series, summary, record)."""

    def __init__(self, out_dir: Path) -> None:
        out_dir = Path(out_dir)
        self.out_dir = out_dir
        self.plots = gpd.read_parquet(out_dir / "plots.parquet")
        self.timeseries = pd.read_parquet(out_dir / "timeseries.parquet")
        self.summary = pd.read_csv(out_dir / "summary.csv", encoding="utf-8-sig")
        self.run = json.loads((out_dir / "run.json").read_text(encoding="utf-8"))


def read_results(out_dir: Path) -> RunResults:
    """Read a run's output folder (what notebooks use)."""
    return RunResults(out_dir)

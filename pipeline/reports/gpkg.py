"""``plots.gpkg`` for QGIS and ArcGIS: result fields first under Chinese names, statuses in
Chinese with the code beside, the plot's own attributes with their source types, no empty
placeholder columns, and a QGIS style (colour by status) stored in ``layer_styles``."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from xml.sax.saxutils import escape

import geopandas as gpd
import pandas as pd

from pipeline.codes import STATUS_COLORS, STATUS_LABELS, label_actions, label_reasons
from pipeline.files import write_atomic
from pipeline.plots.normalize import STANDARD_COLUMNS

LAYER = "plots"
STATUS_FIELD = "核查状态"

# Result fields first, in this order, as GIS users read them.
FRONT_NAMES: dict[str, str] = {
    "row": "序号",
    "status_label": STATUS_FIELD,
    "status": "状态代码",
    "reason_labels": "问题说明",
    "reasons": "问题代码",
    "action_labels": "整改措施",
    "claimed_area_mu": "上报面积_亩",
    "geom_area_mu": "图形面积_亩",
    "verified_area_mu": "核实面积_亩",
    "planted_area_mu": "影像造林面积_亩",
}
# Metrics after the plot's own attributes.
METRIC_NAMES: dict[str, str] = {
    "geom_status": "图形状态",
    "geom_area_change_mu": "修复面积变化_亩",
    "area_diff_mu": "面积差_亩",
    "area_tolerance_mu": "面积容差_亩",
    "overlap_with": "重叠图斑",
    "overlap_area_mu": "重叠面积_亩",
    "prior_match": "往年图斑",
    "prior_share": "往年重叠比例",
    "prior_layer": "往年图层",
    "region_share": "辖区内比例",
    "region_actual": "实际所在县",
    "township_share": "乡镇内比例",
    "restricted_area_mu": "占用耕地面积_亩",
    "restricted_with": "占用耕地图层",
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
    "planted_share_rate": "同类地块造林像元检出率",
    "planted_share_rel": "相对造林面积比例",
    "data_share": "有数据面积比例",
    "winter_index_last": "最近旱季类林度",
    "winter_gap_peers": "与同批图斑差值",
    "years_observed": "造林后年数",
    "loss_drop": "植被损失降幅",
    "loss_z": "损失检验统计量",
    "loss_confidence": "损失置信度",
    "loss_date": "损失日期",
    "n_planting_year_obs": "造林年观测数",
    "n_survival_winter_obs": "成活期旱季观测数",
    "missing_winter": "缺观测旱季",
    "survival_gap_mean": "成活期与同批平均差值",
    "survival_seasons": "成活期旱季数",
    "survival_gap_growing": "生长季与同批差值",
    "survival_gap_z": "成活差值离群度",
    "loss_drop_spread": "损失降幅离群度",
    "site_work_late": "秋冬整地",
    "prep_drop_index": "整地降幅_类林度",
    "loss_own_drop": "自身植被降幅",
    "canopy_level": "郁闭期旱季类林度",
    "canopy_closure": "郁闭期成林进度",
    "peer_clear_share": "同类地块整地比例",
    "peer_establish_share": "同类图斑成林比例",
    "years_after_planting": "造林后旱季年数",
    "prep_work_share": "整地降幅占同类比例",
    "prep_drop_z": "整地降幅噪声倍数",
    "oversize": "超大图斑",
}
GPKG_NAMES: dict[str, str] = {**FRONT_NAMES, **METRIC_NAMES}
# Normalised copies of the claims: in the GeoPackage the source columns already hold them.
NORMALISED = tuple(c for c in STANDARD_COLUMNS if c not in GPKG_NAMES)


def _restore_year_types(df: pd.DataFrame, result: pd.DataFrame) -> pd.DataFrame:
    """Source columns read as float only because of a null (a year column holding the plots'
    planting years) become nullable integers again."""
    years = result.get("planting_year")
    for col in df.columns:
        if col in GPKG_NAMES or not pd.api.types.is_float_dtype(df[col]):
            continue
        vals = df[col]
        known = vals.notna()
        if not known.any() or (vals[known] % 1 != 0).any():
            continue
        if years is not None and (vals[known] == years[known].astype("float")).all():
            df[col] = vals.astype("Int64")
    return df


def gpkg_frame(result: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The result table as the GeoPackage holds it (Chinese names, result fields first)."""
    df = result.drop(columns=[c for c in NORMALISED if c in result.columns])
    df = df.assign(
        status_label=df["status"].map(STATUS_LABELS),
        reason_labels=df["reasons"].map(label_reasons),
        action_labels=df["reasons"].map(label_actions),
    )
    if "loss_date" in df.columns:
        df["loss_date"] = df["loss_date"].astype(str).replace({"NaT": None})
    df = _restore_year_types(df, result)
    front = [c for c in FRONT_NAMES if c in df.columns]
    metrics = [c for c in METRIC_NAMES if c in df.columns]
    own = [c for c in df.columns if c not in front and c not in metrics and c != "geometry"]
    df = df[front + own + metrics + ["geometry"]]
    empty = [c for c in metrics if df[c].isna().all()]
    df = df.drop(columns=empty)
    return df.rename(columns={k: v for k, v in GPKG_NAMES.items() if k in df.columns})


def style_qml(field: str = STATUS_FIELD) -> str:
    """A QGIS style (QML) colouring polygons by the Chinese status in ``field``."""
    cats, symbols = [], []
    for i, (status, label) in enumerate(STATUS_LABELS.items()):
        color = STATUS_COLORS[status].lstrip("#")
        rgb = ",".join(str(int(color[k : k + 2], 16)) for k in (0, 2, 4))
        text = escape(label)
        cats.append(f'<category render="true" symbol="{i}" value="{text}" label="{text}"/>')
        symbols.append(
            f'<symbol type="fill" name="{i}" alpha="0.6" force_rhr="0" clip_to_extent="1">'
            '<layer class="SimpleFill" enabled="1" locked="0" pass="0">'
            f'<Option type="Map"><Option type="QString" name="color" value="{rgb},255"/>'
            f'<Option type="QString" name="outline_color" value="{rgb},255"/>'
            '<Option type="QString" name="outline_width" value="0.4"/>'
            '<Option type="QString" name="style" value="solid"/></Option>'
            f'<prop k="color" v="{rgb},255"/><prop k="outline_color" v="{rgb},255"/>'
            '<prop k="outline_width" v="0.4"/><prop k="style" v="solid"/>'
            "</layer></symbol>"
        )
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
        '<qgis version="3.28.0" styleCategories="Symbology|Labeling">'
        f'<renderer-v2 type="categorizedSymbol" attr="{escape(field)}" enableorderby="0" '
        'forceraster="0" symbollevels="0">'
        f"<categories>{''.join(cats)}</categories>"
        f"<symbols>{''.join(symbols)}</symbols>"
        "</renderer-v2>"
        '<labeling type="simple"><settings calloutType="simple">'
        '<text-style fieldName="图斑编号" fontSize="8" textColor="0,0,0,255"/>'
        "</settings></labeling>"
        "</qgis>"
    )


def add_layer_style(path: Path, layer: str = LAYER) -> None:
    """Store :func:`style_qml` as the default style of ``layer`` (QGIS ``layer_styles``)."""
    con = sqlite3.connect(path)
    try:
        geom_col = con.execute(
            "SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (layer,)
        ).fetchone()[0]
        con.execute(
            "CREATE TABLE IF NOT EXISTS layer_styles (id INTEGER PRIMARY KEY AUTOINCREMENT, "
            "f_table_catalog TEXT, f_table_schema TEXT, f_table_name TEXT, "
            "f_geometry_column TEXT, styleName TEXT, styleQML TEXT, styleSLD TEXT, "
            "useAsDefault BOOLEAN, description TEXT, owner TEXT, ui TEXT, "
            "update_time DATETIME DEFAULT CURRENT_TIMESTAMP)"
        )
        con.execute(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
            "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, owner) "
            "VALUES ('', '', ?, ?, ?, ?, '', 1, ?, 'tushu')",
            (layer, geom_col, "按核查状态着色", style_qml(), "核查状态着色 (Tushu)"),
        )
        con.execute(
            "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier) "
            "VALUES ('layer_styles', 'attributes', 'layer_styles')"
        )
        con.commit()
    finally:
        con.close()


def write_gpkg(result: gpd.GeoDataFrame, path: Path) -> None:
    """``plots.gpkg``: layer ``plots`` (:func:`gpkg_frame`) with its style, atomically."""
    frame = gpkg_frame(result)

    def write(p: Path) -> None:
        p.unlink(missing_ok=True)
        frame.to_file(p, layer=LAYER, driver="GPKG", engine="pyogrio")
        add_layer_style(p)

    write_atomic(Path(path), write)

"""The run's HTML report: one self-contained offline file (images embedded) with a status map,
charts by county and reason, the county table, the flagged plots linked to their evidence
packs, the method and thresholds in words, and the run's provenance. Charts come from
:mod:`pipeline.results.charts` (shared with the review app and notebooks)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.codes import REASONS, STATUS_COLORS, STATUS_LABELS, STATUSES, label_reasons
from pipeline.config import Settings
from pipeline.errors import TushuError
from pipeline.reports.html import data_uri, figure_png
from pipeline.reports.summary import TOTAL, county_of


def method_paragraphs(s: Settings) -> list[tuple[str, str]]:
    """The method and its thresholds in words (Chinese), from the run's settings."""
    d, e = s.desk, s.evidence
    return [
        ("图形与属性检查",
         f"图斑面积小于 {d.min_area_mu} 亩判为面积过小；上报面积与图形面积之差同时超过图形面积的 "
         f"{d.area_rel_tol:.0%} 和 {d.area_buffer_m} 米边界缓冲的面积变化时判为面积不符；与本批其他图斑"
         f"重叠不少于 {d.overlap_min_mu} 亩判为图斑重叠；与往年图斑重叠比例不低于 {d.prior_min_share:.0%}"
         f" 判为重复上报；落在所报县内的比例低于 {d.region_min_share:.0%} 判为超出辖区；占用耕地或"
         f"永久基本农田不少于 {d.restricted_min_mu} 亩判为占用耕地。"),
        ("影像与云处理",
         f"使用 Sentinel-2 L2A 影像（{s.imagery.resolution:g} 米，{s.imagery.start} 至 "
         f"{s.imagery.end}），按场景分类（SCL）去除云、云影和卷云；图斑内晴空比例不低于 "
         f"{e.min_clear_share:.0%} 的观测才参与判定，孤立的 NDVI 低值（降幅 {e.spike_ndvi}）作为"
         "残留云剔除。像元按其在图斑内的覆盖比例加权。"),
        ("造林迹象",
         f"在造林年度前一年 {e.prep_start_month} 月至造林年度 {e.prep_end_month} 月的整地期内，"
         f"像元 NDVI 下降不少于 {e.prep_ndvi_drop} 或裸土指数上升不少于 {e.prep_bsi_rise} 视为整地；"
         f"整地面积比例低于 {e.planted_share_none:.0%} 判为未见造林迹象，低于 "
         f"{e.planted_share_full:.0%} 判为部分造林。"),
        ("原有林地、成活与损失",
         f"造林前旱季（{'、'.join(str(m) for m in e.winter_months)} 月）NDVI 不低于 "
         f"{e.forest_winter_ndvi} 判为原有林地；造林 {e.survival_min_years} 年后旱季 NDVI 低于同造林"
         f"年度同批图斑（至少 {e.min_peers} 个）中位数超过 {e.survival_gap} 判为成活率低；造林后 NDVI "
         f"骤降不少于 {e.loss_drop} 且持续低于同批图斑判为植被损失。"),
        ("不能判定的情形",
         f"图形面积小于 {e.min_judge_area_mu} 亩、基线期晴空观测少于 {e.min_baseline_obs} 次或整地期"
         f"少于 {e.min_prep_obs} 次的图斑不做影像判定，结论为数据不足或存疑，需实地核实。10 米影像"
         "无法清点造林后头两年的苗木成活，成活情况以同批图斑的旱季植被信号相对比较。"),
        ("面积口径",
         "核实面积为影像确认造林的面积（部分造林按整地比例计）；不一致图斑核实面积为 0；"
         "面积核实率 = 核实面积 ÷ 上报面积；合格率分别按核实面积和上报面积计算。"),
    ]  # fmt: skip


def _counts(result: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    county = county_of(result)
    by_status = pd.crosstab(county, result["status"]).reindex(columns=list(STATUSES), fill_value=0)
    by_status.columns = [STATUS_LABELS[s] for s in by_status.columns]
    codes = result["reasons"].fillna("").str.split(";").explode()
    codes = codes[codes != ""]
    by_reason = pd.crosstab(codes.map(lambda c: REASONS[c].label), county.loc[codes.index])
    return by_status.rename_axis(None), by_reason.rename_axis(None)


def report_images(run) -> dict[str, str]:
    """The map and charts as embedded PNGs (``data:`` URIs)."""
    from pipeline.results.charts import draw_counts, draw_status_map, use_cjk_font

    use_cjk_font()
    result = run.plots
    try:
        boundaries = run.reference("region")
    except (TushuError, OSError):
        boundaries = None
    colors = {STATUS_LABELS[s]: c for s, c in STATUS_COLORS.items()}
    by_status, by_reason = _counts(result)
    images = {
        "map": draw_status_map(result, boundaries=boundaries, title="图斑核查结论分布"),
        "counties": draw_counts(by_status, title="各县图斑核查结论（个）", colors=colors),
    }
    if len(by_reason):
        from matplotlib import colormaps
        from matplotlib.colors import to_hex

        palette = {c: to_hex(colormaps["tab10"](i % 10)) for i, c in enumerate(by_reason.columns)}
        images["reasons"] = draw_counts(by_reason, title="问题类型（个，按县）", colors=palette)
    return {k: data_uri(figure_png(fig), "image/png") for k, fig in images.items()}


def provenance_rows(run_record: dict) -> list[tuple[str, str]]:
    """The run's provenance as label / value pairs (from ``run.json``)."""
    img = run_record.get("imagery", {})
    plots = run_record.get("inputs", {}).get("plots", {})
    return [
        ("运行编号", str(run_record.get("run_id", ""))),
        ("开始 / 结束", f"{run_record.get('started', '')} / {run_record.get('finished', '')}"),
        (
            "程序版本",
            f"{run_record.get('tushu_version', '')} ({run_record.get('code_version', '')})",
        ),
        ("参数哈希", str(run_record.get("settings_hash", ""))),
        ("图斑文件", f"{plots.get('path', plots.get('files', ''))}"),
        ("图斑文件 SHA-256", str(plots.get("sha256", ""))),
        ("影像目录", f"{img.get('catalog', '')}（{img.get('source', '')}，{img.get('crs', '')}）"),
        ("影像景数", str(img.get("n_items", ""))),
    ]


def write_html_report(
    run, path: Path, figures: pd.DataFrame, context: dict, packs: dict[int, str], render
) -> Path:
    """Write the report; ``packs`` maps a plot row to its evidence pack (relative href)."""
    result = run.plots
    flagged = result[result["status"] != "consistent"]
    rows = [
        {
            "row": int(r["row"]),
            "plot_id": r["plot_id"] or "",
            "county": c,
            "status": r["status"],
            "status_label": STATUS_LABELS[r["status"]],
            "reasons": label_reasons(r["reasons"]),
            "href": packs.get(int(r["row"])),
        }
        for (_, r), c in zip(flagged.iterrows(), county_of(flagged), strict=True)
    ]
    total = figures[figures["county"] == TOTAL].iloc[0].to_dict()
    record = run.provenance
    return render(
        "report.html.j2",
        Path(path),
        **context,
        images=report_images(run),
        figures=figures.to_dict("records"),
        total=total,
        statuses=[(s, STATUS_LABELS[s], STATUS_COLORS[s], int(total[f"n_{s}"])) for s in STATUSES],
        flagged=rows,
        method=method_paragraphs(run.settings),
        provenance=provenance_rows(record),
        item_ids=record.get("imagery", {}).get("item_ids", []),
    )

"""The county workbook (``.xlsx``) a forestry bureau exchanges: a title, the unit line
(单位：亩), compiling unit and date; a summary sheet (one row per county and a 合计 row); one
detail sheet per county; the 整改清单; a legend. Numbers are cells with formats (0.00 亩,
0.0 %), so they add up in Excel as they do in ``plots.parquet``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import xlsxwriter

from pipeline.codes import ACTIONS, REASON_ACTIONS, REASONS, STATUS_LABELS
from pipeline.files import write_atomic
from pipeline.reports.rectification import COLUMNS as RECT_COLUMNS
from pipeline.reports.summary import (
    AREA_LABELS,
    FIGURE_LABELS,
    RATES,
    SHARES,
    TOTAL,
    plot_areas,
    plot_identity,
)

SUMMARY_SHEET = "汇总"
RECT_SHEET = "整改清单"
LEGEND_SHEET = "说明"
HISTORY_SHEET = "回头看"
SUMMARY_COLUMNS = (
    "county",
    "n_plots",
    "n_planted",
    *AREA_LABELS,
    *RATES,
    "planted_task_mu",
    "planted_task_share",
    "n_design",
    "design_claimed_mu",
    "design_task_mu",
    "design_task_share",
)
DETAIL_HEADERS = ("序号", "乡镇", "村", "图斑编号", "阶段", *AREA_LABELS.values(), "核查结论",
                  "问题类型", "整改措施", "备注", "行号")  # fmt: skip


def detail_table(result: pd.DataFrame) -> pd.DataFrame:
    """Per plot, the detail-sheet columns (Chinese headers, areas to 0.01 亩) and ``县``."""
    from pipeline.codes import label_actions, label_reasons

    areas = plot_areas(result)
    ident = plot_identity(result).rename(columns=RECT_COLUMNS)
    df = ident.assign(
        **{
            **{label: areas[key] for key, label in AREA_LABELS.items()},
            "核查结论": result["status"].map(STATUS_LABELS),
            "问题类型": result["reasons"].map(label_reasons),
            "整改措施": result["reasons"].map(label_actions),
            "备注": result["备注"].fillna("").astype(str) if "备注" in result else "",
            "行号": result["row"],
        }
    )
    return df


def _formats(wb: xlsxwriter.Workbook) -> dict:
    base = {"font_name": "宋体", "font_size": 11, "border": 1, "valign": "vcenter"}
    return {
        "title": wb.add_format(
            {
                "font_name": "黑体",
                "font_size": 16,
                "bold": True,
                "align": "center",
                "valign": "vcenter",
            }
        ),  # fmt: skip
        "meta": wb.add_format({"font_name": "宋体", "font_size": 11}),
        "unit": wb.add_format({"font_name": "宋体", "font_size": 11, "align": "right"}),
        "head": wb.add_format(
            {**base, "bold": True, "align": "center", "text_wrap": True, "bg_color": "#E2EFDA"}
        ),  # fmt: skip
        "text": wb.add_format(base),
        "int": wb.add_format({**base, "num_format": "0"}),
        "area": wb.add_format({**base, "num_format": "0.00"}),
        "pct": wb.add_format({**base, "num_format": "0.0%"}),
        "total_text": wb.add_format({**base, "bold": True}),
        "total_int": wb.add_format({**base, "bold": True, "num_format": "0"}),
        "total_area": wb.add_format({**base, "bold": True, "num_format": "0.00"}),
        "total_pct": wb.add_format({**base, "bold": True, "num_format": "0.0%"}),
    }


def _kind(key: str) -> str:
    if key in RATES or key in SHARES:
        return "pct"
    if key.endswith("_mu"):
        return "area"
    if key.startswith("n_") or key == "行号" or key == "序号":
        return "int"
    return "text"


def _write_cell(ws, r: int, c: int, value, fmt) -> None:
    if value is None or (isinstance(value, float) and value != value):
        ws.write_blank(r, c, None, fmt)
    else:
        ws.write(r, c, value, fmt)


def _heading(ws, fmts: dict, title: str, meta: str, n_cols: int) -> int:
    """Title row, meta line and unit line; returns the header row index."""
    ws.merge_range(0, 0, 0, max(n_cols - 1, 1), title, fmts["title"])
    ws.set_row(0, 30)
    ws.merge_range(1, 0, 1, max(n_cols - 1, 1), meta, fmts["meta"])
    ws.write(2, 0, "单位：亩", fmts["meta"])
    return 3


def _widths(ws, headers, rows: list[list]) -> None:
    """Column widths for Chinese text (a CJK character is two columns wide)."""

    def width(v) -> int:
        s = f"{v:.2f}" if isinstance(v, float) else str(v)
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)

    for c, h in enumerate(headers):
        w = max([width(h)] + [width(r[c]) for r in rows[:500]])
        ws.set_column(c, c, min(max(w + 2, 6), 40))


def _table(ws, fmts, top: int, headers, keys, rows: list[list], total_rows: set[int]) -> None:
    for c, h in enumerate(headers):
        ws.write(top, c, h, fmts["head"])
    ws.set_row(top, 32)
    for i, row in enumerate(rows):
        prefix = "total_" if i in total_rows else ""
        for c, (key, v) in enumerate(zip(keys, row, strict=True)):
            _write_cell(ws, top + 1 + i, c, v, fmts[prefix + _kind(key)])
    _widths(ws, headers, rows)
    ws.freeze_panes(top + 1, 1)


def build_workbook(
    path: Path,
    figures: pd.DataFrame,
    result: pd.DataFrame,
    rectification: pd.DataFrame,
    title: str,
    meta: str,
    history: pd.DataFrame | None = None,
) -> None:
    """Write the workbook at ``path`` (not atomic; see :func:`write_workbook`); ``history``
    (:func:`pipeline.reports.history.history_table`) adds a 回头看 sheet."""
    wb = xlsxwriter.Workbook(str(path), {"nan_inf_to_errors": False})
    fmts = _formats(wb)
    keys = [k for k in SUMMARY_COLUMNS if k in figures.columns]
    headers = [FIGURE_LABELS[k] for k in keys]
    ws = wb.add_worksheet(SUMMARY_SHEET)
    top = _heading(ws, fmts, f"{title}汇总表", meta, len(keys))
    rows = figures[keys].astype(object).values.tolist()
    total = {i for i, c in enumerate(figures["county"]) if c == TOTAL}
    _table(ws, fmts, top, headers, keys, rows, total)

    detail = detail_table(result)
    for county, g in detail.groupby("县", sort=True):
        ws = wb.add_worksheet(_sheet_name(county))
        dkeys = ["序号", *[c for c in DETAIL_HEADERS if c != "序号"]]
        g = g.assign(序号=range(1, len(g) + 1))
        rows = g[dkeys].astype(object).values.tolist()
        sums = [TOTAL if k == "序号" else "" for k in dkeys]
        for j, k in enumerate(dkeys):
            if k in AREA_LABELS.values():
                sums[j] = round(float(g[k].sum()), 2)
        rows.append(sums)
        akeys = [_area_key(k) for k in dkeys]
        top = _heading(ws, fmts, f"{title}明细表（{county}）", meta, len(dkeys))
        _table(ws, fmts, top, dkeys, akeys, rows, {len(rows) - 1})

    ws = wb.add_worksheet(RECT_SHEET)
    rect = rectification.rename(columns=RECT_COLUMNS)
    rkeys = ["序号", *rect.columns]
    rows = rect.assign(序号=range(1, len(rect) + 1))[rkeys].astype(object).values.tolist()
    top = _heading(ws, fmts, f"{title}整改清单", meta, len(rkeys))
    _table(ws, fmts, top, rkeys, [_area_key(k) for k in rkeys], rows, set())

    if history is not None:
        ws = wb.add_worksheet(HISTORY_SHEET)
        hkeys = list(history.columns)
        rows = history.fillna("").astype(object).values.tolist()
        top = _heading(ws, fmts, f"{title}回头看（各次核查结论）", meta, len(hkeys))
        _table(ws, fmts, top, hkeys, hkeys, rows, set())

    _legend(wb.add_worksheet(LEGEND_SHEET), fmts)
    wb.close()


def _area_key(header: str) -> str:
    return "x_mu" if header in (*AREA_LABELS.values(), "上报面积", "整改面积") else header


def _sheet_name(name: str) -> str:
    """Excel sheet names: at most 31 characters, none of ``[]:*?/\\``."""
    for ch in "[]:*?/\\":
        name = name.replace(ch, "_")
    return name[:31] or "未填"


def _legend(ws, fmts: dict) -> None:
    rows = [["核查结论", label, code, ""] for code, label in STATUS_LABELS.items()]
    for r in REASONS.values():
        action = ACTIONS[REASON_ACTIONS[r.code]]
        rows.append(["问题类型", r.label, r.code, f"{STATUS_LABELS[r.status]}；整改：{action}"])
    notes = {
        "上报面积": "县级上报的面积（亩）",
        "图形面积": "图斑多边形的椭球面积（亩）",
        "核实面积": "影像核实的造林面积；不一致图斑为 0",
        "合格面积": "核查结论为图数一致的图斑的核实面积",
        "待补植面积": "部分造林图斑未造林部分，或成活率低图斑的图形面积",
        "不合格面积": "核查结论为不一致的图斑的图形面积",
        "核减面积": "上报面积减核实面积（影像可判定的图斑）",
        "面积核实率": "核实面积 ÷ 上报面积",
        "合格率": "合格面积 ÷ 核实面积，及合格面积 ÷ 上报面积",
        "设计施工": "设计施工阶段图斑单列，不计入造林面积",
    }
    rows += [["指标", k, "", v] for k, v in notes.items()]
    ws.write(0, 0, "说明", fmts["title"])
    _table(ws, fmts, 1, ["类别", "名称", "代码", "说明"], ["a", "b", "c", "d"], rows, set())


def write_workbook(path: Path, **kwargs) -> Path:
    """:func:`build_workbook` written atomically."""
    write_atomic(Path(path), lambda p: build_workbook(p, **kwargs))
    return Path(path)

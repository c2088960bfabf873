"""The run's HTML report: one self-contained offline file (images embedded) with a status map,
charts by county and reason, the county table, the flagged plots linked to their evidence
packs, the method and thresholds in words, and the run's provenance. Charts come from
:mod:`pipeline.results.charts` (shared with the review app and notebooks)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.codes import REASONS, STATUS_COLORS, STATUS_LABELS, STATUSES, label_reasons
from pipeline.errors import TushuError
from pipeline.reports.html import data_uri, figure_png
from pipeline.reports.summary import TOTAL, county_of


def _counts(result: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    county = county_of(result)
    by_status = pd.crosstab(county, result["status"]).reindex(columns=list(STATUSES), fill_value=0)
    by_status.columns = [STATUS_LABELS[s] for s in by_status.columns]
    codes = result["reasons"].fillna("").str.split(";").explode()
    codes = codes[codes != ""]
    # one entry per (plot, code): a plot with two codes repeats its index, so pass arrays
    by_reason = pd.crosstab(
        codes.map(lambda c: REASONS[c].label).to_numpy(), county.loc[codes.index].to_numpy()
    )
    return by_status.rename_axis(None), by_reason.rename_axis(None)


def report_images(run, results) -> dict[str, str]:
    """The map (plots by status over the run's imagery) and charts as embedded PNGs (``data:``
    URIs); ``results``: the :mod:`pipeline.results` package (``charts``, ``chips``)."""
    from matplotlib.figure import Figure

    charts = results.charts
    charts.use_cjk_font()
    draw_counts, draw_status_map = charts.draw_counts, charts.draw_status_map
    result = run.plots
    try:
        boundaries = run.reference("region")
    except (TushuError, OSError):
        boundaries = None
    colors = {STATUS_LABELS[s]: c for s, c in STATUS_COLORS.items()}
    by_status, by_reason = _counts(result)
    # not a pyplot figure: geopandas redraws a pyplot figure after each layer it plots
    fig = Figure(figsize=(8, 8), layout="constrained")
    ax = fig.add_subplot()
    dates = results.chips.draw_backdrop(
        run.layout, run.settings, run.grid, run.series, run.plots, run.items, ax
    )
    grid = result.to_crs(run.grid.crs)
    title = (
        f"图斑核查结论分布（底图：Sentinel-2 真彩色 {min(dates)}–{max(dates)}）" if dates else None
    )
    images = {
        "map": draw_status_map(
            grid, ax=ax, boundaries=boundaries, title=title or "图斑核查结论分布"
        ),
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
    run, results, path: Path, figures: pd.DataFrame, context: dict, packs: dict[int, str], render
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
        images=report_images(run, results),
        figures=figures.to_dict("records"),
        total=total,
        statuses=[(s, STATUS_LABELS[s], STATUS_COLORS[s], int(total[f"n_{s}"])) for s in STATUSES],
        flagged=rows,
        d=run.settings.desk,
        e=run.settings.evidence,
        img=run.settings.imagery,
        provenance=provenance_rows(record),
        item_ids=record.get("imagery", {}).get("item_ids", []),
    )

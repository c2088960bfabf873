"""Evidence pack per flagged plot (one offline HTML file each, linked from the report): the
claims, the rule trace, before / after chips in true and false colour, a strip of dates with
their cloud state, the index series with clear and cloudy points and the peer band, and the
scene (STAC item) ids. The run is a :class:`pipeline.results.Run`: its chips and series chart
are the functions the review app and notebooks use."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.codes import REASONS, STATUS_COLORS, STATUS_LABELS, label_actions, split_reasons
from pipeline.errors import TushuError
from pipeline.reports.html import data_uri

CLAIMS = {
    "plot_id": "图斑编号",
    "county": "县",
    "township": "乡镇",
    "village": "村",
    "stage": "阶段",
    "planting_year": "造林年度",
    "species": "树种",
    "planting_type": "造林类型",
    "claimed_area_mu": "上报面积（亩）",
    "geom_area_mu": "图形面积（亩）",
    "verified_area_mu": "核实面积（亩）",
    "source_file": "来源文件",
    "source_row": "来源行号",
}
CLOUD_LABELS = {"clear": "晴空", "partly cloudy": "部分云", "cloudy": "云覆盖", "no data": "无数据"}
ROLE_LABELS = {"before": "造林前", "after": "造林后", "strip": "时间序列"}
KIND_LABELS = {"true": "真彩色", "false": "假彩色"}


def flagged_rows(plots: pd.DataFrame) -> list[int]:
    """The plots that get an evidence pack: every status but ``consistent`` (by tile, then
    row, so that plots sharing imagery come one after another)."""
    flagged = plots.loc[plots["status"] != "consistent"]
    if "tile" in flagged:
        flagged = flagged.sort_values(["tile", "row"], na_position="last", kind="stable")
    return [int(r) for r in flagged["row"]]


def _value(v: Any) -> str:
    if v is None or (isinstance(v, float) and v != v) or v is pd.NA:
        return ""
    if isinstance(v, float):
        return f"{v:.2f}"
    return str(v)


def trace_rows(run, row: int) -> list[dict] | None:
    """The plot's rule trace (code, label, metric, value, op, threshold, fired), or None when
    the run has no ``trace.parquet``."""
    try:
        trace = run.trace(row)
    except TushuError:
        return None
    out = []
    for t in trace.to_dict("records"):
        reason = REASONS.get(t["code"])
        out.append(
            {
                **{k: _value(v) for k, v in t.items()},
                "label": reason.label if reason else "",
                "fired": bool(t.get("fired")),
            }
        )
    return out


def pack_context(run, row: int, memory: dict | None = None) -> dict:
    """Everything one evidence pack shows (chips read from the run's imagery; ``memory``: a
    dict shared across packs keeps the dates read, see
    :func:`pipeline.results.chips.read_chips`)."""
    plot = run.plot_row(row)
    codes = split_reasons(plot["reasons"])
    chips = []
    try:
        chip_list = run.chips(row, memory=memory)
    except TushuError as err:
        chip_list, chip_error = [], str(err)
    else:
        chip_error = "" if chip_list else "图斑无有效图形，无影像切片"
    for c in chip_list:
        chips.append(
            {
                "src": data_uri(c.png(), "image/png"),
                "date": f"{c.date:%Y-%m-%d}",
                "kind": KIND_LABELS.get(c.kind, c.kind),
                "role": ROLE_LABELS.get(c.role, c.role),
                "cloud": CLOUD_LABELS.get(c.cloud, c.cloud),
                "item_id": c.item_id,
            }
        )
    series = ""
    if plot.geometry is not None and not plot.geometry.is_empty and row in run.series["plot"]:
        series = data_uri(run.plot_png(row), "image/png")
    return {
        "row": row,
        "plot_id": _value(plot.get("plot_id")),
        "status": plot["status"],
        "status_label": STATUS_LABELS[plot["status"]],
        "status_color": STATUS_COLORS[plot["status"]],
        "reasons": [(c, REASONS[c].label, REASONS[c].trigger) for c in codes],
        "actions": label_actions(plot["reasons"]),
        "claims": [
            (label, _value(plot.get(k))) for k, label in CLAIMS.items() if _value(plot.get(k))
        ],  # fmt: skip
        "trace": trace_rows(run, row),
        "chips": [c for c in chips if c["role"] != ROLE_LABELS["strip"]],
        "strip": [c for c in chips if c["role"] == ROLE_LABELS["strip"]],
        "chip_error": chip_error,
        "series": series,
        "items": sorted({(c["date"], c["item_id"]) for c in chips}),
    }


def write_evidence_pack(
    run, row: int, path: Path, context: dict, render, memory: dict | None = None
) -> Path:
    """Write the pack of plot ``row`` to ``path`` (``render`` from :mod:`.html`)."""
    pack = pack_context(run, row, memory)
    return render("evidence_pack.html.j2", Path(path), **context, **pack)


_FORKED: dict[str, Any] = {}  # what forked workers inherit (set just before the pool starts)


def _write_chunk(rows: list[int]) -> list[str]:
    run, path_of, context, render = (_FORKED[k] for k in ("run", "path_of", "context", "render"))
    tiles = run.plots["tile"] if "tile" in run.plots else pd.Series(dtype=object)
    memory: dict = {}  # imagery dates read, shared by the packs of one tile
    done, tile = [], None
    for r in rows:
        this = tiles.get(r, None)
        this = None if pd.isna(this) else this
        if this != tile:  # rows come by tile: the dates of the tile before are done with
            memory.clear()
            tile = this
        done.append(str(write_evidence_pack(run, r, path_of(r), context, render, memory)))
    return done


def write_evidence_packs(
    run, rows: list[int], path_of, context: dict, render, workers: int = 1
) -> list[Path]:
    """The packs of ``rows`` (in that order: plots of one tile together), ``path_of(row)``
    giving each file; with ``workers`` > 1, in that many processes (this one and ``workers`` - 1
    forked ones), each taking a run of consecutive rows."""
    chunks = [list(c) for c in np.array_split(np.asarray(rows, dtype=int), max(workers, 1))]
    chunks = [[int(r) for r in c] for c in chunks if len(c)]
    for name in ("series", "items", "used"):  # read once here, shared by the forked workers
        getattr(run, name, None)
    _FORKED.update(run=run, path_of=path_of, context=context, render=render)
    try:
        if workers <= 1 or len(rows) < 2 * workers or "fork" not in mp.get_all_start_methods():
            done = [_write_chunk(c) for c in chunks]
        else:
            with mp.get_context("fork").Pool(len(chunks) - 1) as pool:
                rest = pool.map_async(_write_chunk, chunks[1:])
                done = [_write_chunk(chunks[0]), *rest.get()]  # this process takes a chunk too
    finally:
        _FORKED.clear()
    return [Path(p) for chunk in done for p in chunk]

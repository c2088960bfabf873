"""Decisions out and back: columns for plots.parquet / plots.gpkg, an Excel sheet, labels.

The export adds review columns to the run's plot deliverables (English names in GeoParquet,
Chinese in the GeoPackage) and writes ``reports/review.xlsx``, one row per plot. Reviewers may
fill that sheet offline; :func:`import_sheet` records its changed rows as decisions (with the
version check: a row whose plot was decided by someone else since the export is reported as a
conflict, not applied). :func:`read_labels` gives the decisions as training labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from pipeline.codes import REASONS, STATUS_LABELS, label_reasons, split_reasons
from pipeline.files import write_atomic
from pipeline.layout import RunLayout
from pipeline.reports.gpkg import write_gpkg
from pipeline.review.states import PlotReview, review_table
from pipeline.review.store import Context, Decision, DecisionConflict, ReviewError, ReviewStore
from pipeline.review.vocabulary import (
    CONFIDENCE,
    DECISION_BY_LABEL,
    DECISIONS,
    LABEL_OF_DECISION,
    REVIEW_STATES,
)

REVIEW_COLUMNS: dict[str, str] = {
    "review_state": "复核状态",
    "review_decision": "复核结论",
    "review_reasons": "复核问题代码",
    "review_comment": "复核说明",
    "review_confidence": "复核置信度",
    "review_by": "复核人",
    "review_at": "复核时间",
    "review_version": "复核版本",
}
"""Review column (plots.parquet) → its name in plots.gpkg and the Excel sheet."""

SHEET = "复核"
SHEET_KEYS = {"row": "序号", "plot_id": "图斑编号", "county": "县", "township": "乡镇"}


def review_columns(plots: pd.DataFrame, reviews: dict[int, PlotReview]) -> pd.DataFrame:
    """One row per plot (index aligned with ``plots``): the review columns, codes as stored."""
    out = []
    for r in plots["row"]:
        rev = reviews[int(r)]
        d = rev.final or rev.slots.get("primary")
        version = max((s.version for s in rev.slots.values()), default=0)
        counted = rev.final is not None
        out.append(
            {
                "review_state": rev.state,
                "review_decision": d.decision if counted and d else None,
                "review_reasons": ";".join(d.reasons) if counted and d else None,
                "review_comment": d.comment if counted and d else None,
                "review_confidence": d.confidence if counted and d else None,
                "review_by": d.user if counted and d else None,
                "review_at": d.at if counted and d else None,
                "review_version": version,
            }
        )
    return pd.DataFrame(out, index=plots.index)


def labelled_columns(columns: pd.DataFrame) -> pd.DataFrame:
    """The review columns with Chinese words for people (state, decision, confidence)."""
    return columns.assign(
        review_state=columns["review_state"].map(REVIEW_STATES),
        review_decision=columns["review_decision"].map(DECISIONS),
        review_confidence=columns["review_confidence"].map(CONFIDENCE),
    )


def current_reviews(plots: pd.DataFrame, store: ReviewStore) -> dict[int, PlotReview]:
    return review_table(pd.Index(plots["row"]), store.decisions(), store.samples("double"))


def export_decisions(layout: RunLayout, plots: gpd.GeoDataFrame, store: ReviewStore) -> Path:
    """Rewrite plots.parquet / plots.gpkg with the review columns; write ``reports/review.xlsx``.

    Returns the workbook's path.
    """
    cols = review_columns(plots, current_reviews(plots, store))
    base = plots.drop(columns=[c for c in REVIEW_COLUMNS if c in plots.columns])
    words = labelled_columns(cols).rename(columns=REVIEW_COLUMNS)
    # the GeoPackage carries people's words under Chinese names, the GeoParquet the codes
    write_gpkg(pd.concat([base, words], axis=1), layout.plots_gpkg)
    coded = pd.concat([base, cols], axis=1)
    write_atomic(layout.plots_parquet, lambda p: coded.to_parquet(p, index=False))
    return write_sheet(layout.reports / "review.xlsx", plots, cols)


def write_sheet(path: Path, plots: pd.DataFrame, cols: pd.DataFrame) -> Path:
    """The review sheet: keys, the run's finding, then the review columns in Chinese words."""
    sheet = pd.DataFrame({label: plots[key] for key, label in SHEET_KEYS.items()})
    sheet["核查结论"] = plots["status"].map(STATUS_LABELS)
    sheet["问题说明"] = plots["reasons"].map(label_reasons)
    words = labelled_columns(cols).rename(columns=REVIEW_COLUMNS)
    sheet = pd.concat([sheet, words], axis=1)

    def write(p: Path) -> None:
        with pd.ExcelWriter(p, engine="openpyxl") as xl:
            sheet.to_excel(xl, sheet_name=SHEET, index=False)
            ws = xl.sheets[SHEET]
            ws.freeze_panes = "C2"
            for col in ws.columns:
                ws.column_dimensions[col[0].column_letter].width = 14

    write_atomic(Path(path), write)
    return Path(path)


@dataclass
class ImportOutcome:
    """What an import did: rows recorded, rows unchanged, conflicts and errors by sheet row."""

    recorded: list[int] = field(default_factory=list)
    unchanged: int = 0
    conflicts: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _cell(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def import_sheet(
    path: Path, plots: pd.DataFrame, store: ReviewStore, user: str, context: Context
) -> ImportOutcome:
    """Record the decisions filled into a review sheet as ``user``'s first reviews.

    A row is applied when its 复核结论 is filled and differs from the stored decision; its
    复核版本 must still be the plot's version (else: a conflict, reported and logged).
    """
    sheet = pd.read_excel(path, sheet_name=SHEET, dtype=object)
    missing = [c for c in (SHEET_KEYS["row"], REVIEW_COLUMNS["review_decision"]) if c not in sheet]
    if missing:
        raise ReviewError(f"{path}: sheet {SHEET!r} lacks columns {missing}; export it again")
    reviews = current_reviews(plots, store)
    ids = dict(zip(plots["row"].astype(int), plots["plot_id"], strict=True))
    label_of_confidence = {v: k for k, v in CONFIDENCE.items()}
    outcome = ImportOutcome()
    for i, rec in sheet.iterrows():
        where = f"sheet row {i + 2}"
        label = _cell(rec.get(REVIEW_COLUMNS["review_decision"])).strip()
        if not label:
            continue
        try:
            row = int(rec[SHEET_KEYS["row"]])
        except (TypeError, ValueError):
            outcome.errors.append(f"{where}: 序号 {rec[SHEET_KEYS['row']]!r} is not a number")
            continue
        if row not in reviews:
            outcome.errors.append(f"{where}: 序号 {row} is not a plot of this run")
            continue
        decision = DECISION_BY_LABEL.get(label, label if label in DECISIONS else None)
        if decision is None:
            outcome.errors.append(
                f"{where}: 复核结论 {label!r}; use one of {list(DECISIONS.values())}"
            )
            continue
        codes = split_reasons(_cell(rec.get(REVIEW_COLUMNS["review_reasons"])))
        bad = [c for c in codes if c not in REASONS]
        if bad:
            outcome.errors.append(f"{where}: unknown reason codes {bad}")
            continue
        conf = _cell(rec.get(REVIEW_COLUMNS["review_confidence"])).strip()
        conf = label_of_confidence.get(conf, conf)
        comment = _cell(rec.get(REVIEW_COLUMNS["review_comment"]))
        current = reviews[row].slots.get("primary")
        if current and (current.decision, current.reasons, current.comment) == (
            decision,
            tuple(codes),
            comment,
        ):
            outcome.unchanged += 1
            continue
        version_cell = _cell(rec.get(REVIEW_COLUMNS["review_version"])) or "0"
        new = Decision(
            row, "primary", decision, tuple(codes), comment, conf, user, plot_id=ids[row]
        )
        try:
            store.record(new, int(float(version_cell)), context, action="import")
            outcome.recorded.append(row)
        except DecisionConflict as err:
            outcome.conflicts.append(f"{where} (序号 {row}): {err}")
        except ReviewError as err:
            outcome.errors.append(f"{where}: {err}")
    return outcome


def read_labels(results_dir: Path, db: Path | None = None) -> pd.DataFrame:
    """Reviewers' decisions as training labels: ``row``, ``plot_id``, ``label`` (1 problem,
    0 none), ``decision``, ``reasons``, ``confidence``, ``user``, ``at`` — only plots whose
    counted decision is 确认问题 or 误报 (what ``tushu train`` reads)."""
    layout = RunLayout.of(results_dir)
    db = Path(db) if db is not None else layout.review_db
    cols = ["row", "plot_id", "label", "decision", "reasons", "confidence", "user", "at"]
    if not db.is_file():
        return pd.DataFrame(columns=cols)
    plots = pd.read_parquet(layout.plots_parquet, columns=["row", "plot_id", "status"])
    store = ReviewStore(db)
    out = []
    for r, rev in current_reviews(plots, store).items():
        d = rev.final
        if d is None or LABEL_OF_DECISION[d.decision] is None:
            continue
        out.append(
            [
                r,
                d.plot_id,
                LABEL_OF_DECISION[d.decision],
                d.decision,
                ";".join(d.reasons),
                d.confidence,
                d.user,
                d.at,
            ]  # fmt: skip
        )
    return pd.DataFrame(out, columns=cols)

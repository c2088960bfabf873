"""The ingest report: every repair, normalisation and problem met while reading plots, per record.

:class:`IngestLog` is filled while files are read and normalised
(``pipeline/plots/normalize.py``) and becomes ``ingest_report.csv`` (one line per record and
finding; ``row`` is the plot's row in the combined table, ``source_file`` / ``source_row``
where it came from) plus the counts that
go into ``plan.json`` under ``ingest``. Type-only conversions (``2021.0`` → ``2021``) and unit
conversions of a whole column (hectares → 亩, stated in the column mapping) are not listed per
record.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

REPORT_COLUMNS = (
    "row",
    "source_file",
    "source_row",
    "plot_id",
    "kind",
    "code",
    "field",
    "original",
    "value",
    "message",
)
KINDS = ("repair", "normalisation", "problem")


class IngestLog:
    """Findings per record of every plot file, in file order, plus per-file facts."""

    def __init__(self) -> None:
        self._frames: list[pd.DataFrame] = []
        self._files: list[tuple[int, str, int]] = []  # base row, file, n records
        self._ids: dict[int, np.ndarray] = {}
        self.mapping: dict[str, dict] = {}
        self.files: dict[str, dict] = {}

    def start_file(self, name: str, n: int) -> int:
        """Register a file of ``n`` records; returns the combined row of its first record."""
        base = sum(k for _, _, k in self._files)
        self._files.append((base, name, n))
        return base

    def set_ids(self, base: int, ids: pd.Series) -> None:
        self._ids[base] = ids.to_numpy(dtype=object)

    def add(self, base: int, rows, kind: str, code: str, field: str, original, value, message):
        """Add findings for ``rows`` (positions within the file)."""
        rows = np.asarray(rows, dtype=np.int64)
        if not len(rows):
            return
        n = len(rows)

        def col(v):
            return list(v) if isinstance(v, list | np.ndarray | pd.Series) else [v] * n

        self._frames.append(
            pd.DataFrame(
                {
                    "row": rows + base,
                    "kind": kind,
                    "code": code,
                    "field": field,
                    "original": col(original),
                    "value": col(value),
                    "message": col(message),
                }
            )
        )

    def values(self, base: int, field: str, original: pd.Series, parsed: pd.Series) -> None:
        """Log values that normalisation changed, and values it could not read."""
        orig = original.to_numpy(dtype=object)
        new = parsed.to_numpy(dtype=object)
        seen: dict = {}
        changed, lost = [], []
        for i, (o, p) in enumerate(zip(orig, new, strict=True)):
            key = (_plain(o), _plain(p))
            verdict = seen.get(key)
            if verdict is None:
                verdict = seen[key] = (
                    "lost" if key[0] and not key[1] else "changed" if key[0] != key[1] else "-"
                )
            if verdict == "changed":
                changed.append(i)
            elif verdict == "lost":
                lost.append(i)
        o_txt = [_plain(o) for o in orig]
        p_txt = [_plain(p) for p in new]
        self.add(
            base, changed, "normalisation", "VALUE_NORMALISED", field,
            [o_txt[i] for i in changed], [p_txt[i] for i in changed],
            [f"{field}: {o_txt[i]!r} read as {p_txt[i]!r}" for i in changed],
        )  # fmt: skip
        self.add(
            base, lost, "problem", "UNREADABLE_VALUE", field, [o_txt[i] for i in lost], "",
            f"{field} value cannot be read; left empty (MISSING_ATTRIBUTE if required)",
        )  # fmt: skip

    def problems(self, base, mask: pd.Series, code, field, original, message) -> None:
        """Log a problem for every record where ``mask`` is true."""
        rows = np.flatnonzero(np.asarray(mask, dtype=bool))
        orig = "" if original is None else [_plain(v) for v in original.to_numpy()[rows]]
        self.add(base, rows, "problem", code, field, orig, "", message)

    def geometry(self, base, status, reasons, change, drawn, dup_vertices) -> None:
        """Log geometry repairs (make_valid, repeated vertices) and empty geometries."""
        rep = np.flatnonzero(status == "repaired")
        self.add(
            base, rep, "repair", "GEOMETRY_REPAIRED", "geometry", list(reasons[rep]),
            [f"{c:+.3f}" for c in change[rep]],
            [f"invalid ({r}); repaired with make_valid, area change {c:+.3f} 亩"
             for r, c in zip(reasons[rep], change[rep], strict=True)],
        )  # fmt: skip
        dup = np.flatnonzero((dup_vertices > 0) & (status != "empty"))
        self.add(
            base, dup, "repair", "REPEATED_VERTICES_REMOVED", "geometry", "", "",
            [f"{int(k)} repeated vertices removed" for k in dup_vertices[dup]],
        )  # fmt: skip
        empty = np.flatnonzero(status == "empty")
        kinds = []
        for g in drawn[empty]:
            if g is None:
                kinds.append("null geometry")
            elif shapely.is_empty(g):
                kinds.append("empty geometry")
            else:
                kinds.append(f"no polygonal part ({g.geom_type})")
        self.add(
            base, empty, "problem", "GEOMETRY_EMPTY", "geometry", kinds, "",
            [f"{k}; record kept without geometry, flagged INVALID_GEOMETRY" for k in kinds],
        )  # fmt: skip

    def table(self) -> pd.DataFrame:
        """The report: one line per record and finding, ordered by row."""
        if not self._frames:
            return pd.DataFrame(columns=list(REPORT_COLUMNS))
        df = pd.concat(self._frames, ignore_index=True)
        bases = np.array([b for b, _, _ in self._files])
        which = np.searchsorted(bases, df["row"].to_numpy(), side="right") - 1
        df["source_file"] = [self._files[k][1] for k in which]
        df["source_row"] = df["row"].to_numpy() - bases[which]
        ids = np.concatenate(
            [self._ids.get(b, np.full(n, None, dtype=object)) for b, _, n in self._files]
        )
        df["plot_id"] = ids[df["row"].to_numpy()]
        order = {k: i for i, k in enumerate(KINDS)}
        df["_k"] = df["kind"].map(order)
        df = df.sort_values(["row", "_k", "code"], kind="stable").drop(columns="_k")
        return df[list(REPORT_COLUMNS)].reset_index(drop=True)

    def counts(self) -> dict:
        """Findings by kind and code, records with any finding, per-file facts."""
        df = self.table()
        return {
            "records": sum(k for _, _, k in self._files),
            "records_with_findings": int(df["row"].nunique()),
            "records_by_kind": {k: int(df.loc[df["kind"] == k, "row"].nunique()) for k in KINDS},
            "by_kind": {k: int(v) for k, v in df["kind"].value_counts().items()},
            "by_code": {k: int(v) for k, v in df["code"].value_counts().items()},
            "files": self.files,
        }


def _plain(v: object) -> str:
    """A value as text for comparison and the report: ints without ``.0``, stripped text."""
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, float | np.floating):
        return str(int(v)) if float(v).is_integer() else repr(float(v))
    if isinstance(v, int | np.integer):
        return str(int(v))
    return str(v).strip()

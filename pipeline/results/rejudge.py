"""Judge a finished run again with changed evidence thresholds, from its stored tables.

The report step's inputs stay in the run folder (``work/``): the planned plot table, the desk
table and each tile's series and per-pixel shares. Re-judging calls the same
:func:`pipeline.judgement.judge.judge_plots` on them with new :class:`Evidence` settings, so no
imagery is read. Thresholds the tile step applies per pixel (the site-preparation keys, and
``min_clear_share`` for a per-plot series source) are baked into the stored tables: changing
them needs a new run, and :func:`rejudge_run` says so.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd
from pydantic import ValidationError

from pipeline.codes import STATUSES, split_reasons
from pipeline.config import Evidence, PrepSettings, SeriesPrepSettings, Settings
from pipeline.errors import ConfigError
from pipeline.imagery.sources import source_reads_series
from pipeline.judgement.judge import judge_with_trace
from pipeline.layout import RunLayout
from pipeline.results.stored import read_grid, read_judgement_inputs


def _per_pixel(settings: Settings) -> PrepSettings:
    """The evidence keys the tile step applies while reading imagery (as the tile step's view)."""
    kind = SeriesPrepSettings if source_reads_series(settings.imagery) else PrepSettings
    return kind.of(settings.evidence)


def changed_settings(settings: Settings, **evidence_overrides: Any) -> Settings:
    """``settings`` with ``evidence`` keys replaced (validated); refuses keys whose change
    would alter the stored per-tile tables (those need ``tushu run``)."""
    unknown = sorted(set(evidence_overrides) - set(Evidence.model_fields))
    if unknown:
        raise ConfigError(
            f"unknown evidence setting(s) {', '.join(unknown)}; re-judging takes the keys of "
            f"the evidence section: {', '.join(Evidence.model_fields)}"
        )
    try:
        evidence = Evidence.model_validate({**settings.evidence.model_dump(), **evidence_overrides})
    except ValidationError as err:
        raise ConfigError(f"invalid evidence override: {err}") from None
    new = settings.model_copy(update={"evidence": evidence})
    if _per_pixel(new) != _per_pixel(settings):
        per_pixel = type(_per_pixel(settings)).model_fields
        fixed = sorted(k for k in evidence_overrides if k in per_pixel)
        raise ConfigError(
            f"evidence.{', evidence.'.join(fixed)} is applied per pixel when the imagery is "
            "read, so the stored tables already hold it; change it in the config and run "
            "`tushu run` again"
        )
    return new


def rejudge_run(
    layout: RunLayout, settings: Settings, **evidence_overrides: Any
) -> gpd.GeoDataFrame:
    """The plot results of the run in ``layout`` (made with ``settings``) judged again with
    ``evidence_overrides`` (e.g. ``survival_gap=0.1``): the same table as ``plots.parquet`` of
    a full run with those thresholds, in input order, every plot once."""
    return rejudge_with_trace(layout, settings, **evidence_overrides)[0]


def rejudge_with_trace(
    layout: RunLayout, settings: Settings, **evidence_overrides: Any
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """As :func:`rejudge_run`, with the new rule trace (as ``trace.parquet``)."""
    changed = changed_settings(settings, **evidence_overrides)
    inputs = read_judgement_inputs(layout, read_grid(layout.plan))
    return judge_with_trace(
        inputs.plots, inputs.desk, inputs.series, inputs.pixels, changed.evidence
    )


def compare_results(before: pd.DataFrame, after: pd.DataFrame, on: str = "row") -> pd.DataFrame:
    """Per plot (joined on ``on``: ``row`` for the same submission, ``plot_id`` across
    submissions): status and reasons before and after, what changed (``status_changed``,
    ``reasons_added``, ``reasons_removed``) and the verified area change. Plots found in only
    one side have ``presence`` ``before_only`` / ``after_only``."""
    judged = [on, "status", "reasons", "verified_area_mu"]
    ids = [c for c in ("row", "plot_id", "county") if c != on and c in before.columns]
    merged = pd.merge(
        pd.DataFrame(before[judged + ids]),
        pd.DataFrame(after[judged]),
        on=on,
        how="outer",
        suffixes=("_before", "_after"),
        indicator="presence",
    )
    merged["presence"] = merged["presence"].map(
        {"both": "both", "left_only": "before_only", "right_only": "after_only"}
    )
    before_codes = merged["reasons_before"].fillna("").map(lambda r: set(split_reasons(r)))
    after_codes = merged["reasons_after"].fillna("").map(lambda r: set(split_reasons(r)))
    merged["status_changed"] = merged["status_before"] != merged["status_after"]
    merged["reasons_added"] = (after_codes - before_codes).map(lambda c: ";".join(sorted(c)))
    merged["reasons_removed"] = (before_codes - after_codes).map(lambda c: ";".join(sorted(c)))
    merged["verified_area_change_mu"] = merged["verified_area_mu_after"].fillna(0) - merged[
        "verified_area_mu_before"
    ].fillna(0)
    return merged


def status_moves(comparison: pd.DataFrame) -> pd.DataFrame:
    """Plot counts by status before (rows) and after (columns), every status listed."""
    return pd.crosstab(
        pd.Categorical(comparison["status_before"], categories=STATUSES),
        pd.Categorical(comparison["status_after"], categories=STATUSES),
        rownames=["before"],
        colnames=["after"],
        dropna=False,
    )

"""Evidence on one series (``tushu series``): dry-season levels per year, the establishment
trend and a loss break, from the same functions the pipeline uses.

Without a reference the break test fits level, trend and an annual harmonic on a long history
(the season is modelled); with a reference series (e.g. stable forest or peer plots of the
same imagery) the test runs on the difference, whose season the reference has removed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pipeline.config import Evidence
from pipeline.imagery.reference import dry_season_label
from pipeline.judgement.breaks import detect_break

SERIES_HISTORY_DAYS = 3 * 365  # history of the single-series break test (season + trend)


def dry_season_levels(
    dates: pd.DatetimeIndex, values: np.ndarray, months: tuple[int, ...]
) -> dict[int, float]:
    """Median value per dry season (label = the year of its January), ≥ 2 observations."""
    label = dry_season_label(dates, months)
    out = {}
    for k in np.unique(label[label > 0]):
        v = values[(label == k) & np.isfinite(values)]
        if len(v) >= 2:
            out[int(k)] = float(np.median(v))
    return out


def establishment_trend(levels: dict[int, float], since: int | None = None) -> dict[str, Any]:
    """Least-squares slope per year of the dry-season levels (from season ``since`` on) and
    the rise of the highest later level over the first."""
    ks = sorted(k for k in levels if since is None or k >= since)
    if len(ks) < 2:
        return {"seasons": len(ks), "slope_per_year": None, "rise": None}
    v = np.array([levels[k] for k in ks])
    slope = float(np.polyfit(np.array(ks, float), v, 1)[0])
    return {"seasons": len(ks), "slope_per_year": slope, "rise": float(v[1:].max() - v[0])}


def read_series(
    dates: pd.DatetimeIndex,
    values: np.ndarray,
    reference: pd.Series | None = None,
    ev: Evidence | None = None,
    min_drop: float = 0.15,
    planting_year: int | None = None,
) -> dict[str, Any]:
    """Evidence of one NDVI series (``dates`` sorted, ``values`` NaN where not clear).

    ``reference``: values indexed by date (interpolated onto ``dates``); ``min_drop``: the
    break's magnitude gate in the series' units. Returns a JSON-able dict.
    """
    ev = ev or Evidence()
    dates = pd.DatetimeIndex(dates)
    values = np.asarray(values, float)
    y = values
    if reference is not None:
        ref = reference.sort_index()
        both = ref.index.union(dates)
        on = ref.reindex(both).interpolate("time", limit_area="inside").reindex(dates)
        y = values - on.to_numpy(float)
    ok = np.isfinite(y)
    t = dates.values.astype("datetime64[D]").astype(float)[ok]
    hit = detect_break(
        t,
        y[ok],
        min_drop=min_drop,
        min_z=ev.loss_z,
        min_obs=ev.loss_min_obs,
        before_days=SERIES_HISTORY_DAYS if reference is None else ev.loss_before_days,
        after_days=ev.loss_after_days,
        trend=True,
        season=reference is None,
        min_history_days=365 if reference is None else 0,
    )
    levels = dry_season_levels(dates, values, ev.winter_months)
    loss = None
    if hit is not None and hit.passed:
        loss = {
            "date": str(np.datetime64(int(hit.day), "D")),
            "magnitude": hit.step,
            "z": hit.z,
            "confidence": hit.confidence,
        }
    since = planting_year + 1 if planting_year else None
    return {
        "n_obs": int(np.isfinite(values).sum()),
        "dry_season_levels": {str(k): v for k, v in levels.items()},
        "establishment": establishment_trend(levels, since),
        "loss": loss,
        "largest_step": None if hit is None else {"magnitude": hit.step, "z": hit.z},
    }

"""The run record (``run.json``): what ran, on what, with which settings, and what came out."""

from __future__ import annotations

import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

import pipeline
from pipeline.config import Settings


def build_run_record(
    settings: Settings,
    result: pd.DataFrame,
    plan: Any,
    desk: Any,
    tiles: list[Any],
    items: list[dict],
    timings: dict[str, float],
    run_id: str | None = None,
    started: str | None = None,
) -> dict[str, Any]:
    """``run.json`` content. ``plan``/``desk``/``tiles``: the steps' typed records; ``items``:
    the STAC items used; ``run_id``/``started`` from ``tushu run`` (else made here)."""
    now = datetime.now().astimezone()
    skipped = sorted(
        {(day, why) for t in tiles for day, why in t.imagery.get("skipped_scenes", {}).items()}
    )
    return {
        "run_id": run_id or now.strftime("%Y%m%dT%H%M%S") + "-report",
        "started": started or now.isoformat(timespec="seconds"),
        "finished": now.isoformat(timespec="seconds"),
        "settings_hash": settings.science_hash(),
        "tushu_version": pipeline.__version__,
        "code_version": code_version(),
        "settings": settings.science(),
        "inputs": {"plots": plan.plots, **desk.inputs},
        "column_mapping": plan.column_mapping,
        "ingest": plan.ingest,
        "desk_thresholds": desk.thresholds,
        "skipped_checks": desk.skipped_checks,
        "imagery": {
            "catalog": settings.imagery.catalog,
            "source": settings.imagery.source,
            "crs": plan.crs,
            "n_items": len(items),
            "item_ids": [it["id"] for it in items],
            "skipped_scenes": [{"date": d, "error": why} for d, why in skipped],
        },
        "model": model_record(settings),
        "counts": {
            "plots": len(result),
            "by_status": result["status"].value_counts().to_dict(),
        },
        "timings_s": {
            "plan": plan.seconds,
            "desk": desk.seconds,
            "tiles": {t.tile_id: t.seconds for t in tiles},
            **timings,
        },
    }


def model_record(settings: Settings) -> dict[str, Any] | None:
    """The model the run used (from its card: path, name, SHA-256, creation, version,
    reasons, combination policy), or None for a rules-only run."""
    folder = settings.evidence.model
    if folder is None:
        return None
    import json

    card = json.loads((Path(folder) / "card.json").read_text(encoding="utf-8"))
    keys = ("name", "sha256", "created", "tushu_version", "sklearn_version", "reasons")
    return {
        "path": str(folder),
        **{k: card.get(k) for k in keys},
        "policy": settings.evidence.model_policy,
    }


def code_version() -> str:
    """``git describe`` of the source tree when it is a checkout, else the package version."""
    here = Path(pipeline.__file__).resolve().parent.parent
    if not (here / ".git").exists():
        return pipeline.__version__
    try:
        rev = subprocess.run(
            ["git", "-C", str(here), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        return rev.stdout.strip() or pipeline.__version__
    except (OSError, subprocess.SubprocessError):
        return pipeline.__version__

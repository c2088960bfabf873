"""What every page of the review app shares: templates, rendering, the open run, safe paths."""

from __future__ import annotations

import math
from pathlib import Path

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from pipeline.codes import REASONS, STATUS_LABELS
from pipeline.review import auth
from pipeline.review.review_run import ReviewRun
from pipeline.review.vocabulary import (
    ACTIONS,
    CONFIDENCE,
    DECISIONS,
    REVIEW_STATES,
    ROLES,
    SLOTS,
)
from pipeline.review.worklist import SORTS, Filters

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.globals.update(
    DECISIONS=DECISIONS,
    CONFIDENCE=CONFIDENCE,
    REVIEW_STATES=REVIEW_STATES,
    ROLES=ROLES,
    SLOTS=SLOTS,
    ACTIONS=ACTIONS,
    REASONS=REASONS,
    STATUS_LABELS=STATUS_LABELS,
    SORTS=SORTS,
)


def show(value: object) -> str:
    """A cell value for people: blanks for missing values, floats to 3 significant decimals."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if abs(value) < 1e6 else f"{value:.0f}"
    return str(value)


templates.env.filters["show"] = show


def render(request: Request, name: str, status_code: int = 200, **context) -> HTMLResponse:
    """A template with the user, the CSRF token and the run in its context."""
    review: ReviewRun = request.app.state.review
    context |= {
        "user": auth.current_user(request),
        "csrf": auth.csrf_token(request),
        "run_id": review.run_id,
        "results_dir": str(review.layout.root),
    }
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def get_review(request: Request) -> ReviewRun:
    return request.app.state.review


def read_filters(request: Request) -> Filters:
    q = request.query_params
    return Filters(**{k: q.get(k, "") for k in Filters.__dataclass_fields__ if q.get(k)})


def inside_run(root: Path, path: str) -> Path:
    """``root / path`` if it is a file inside ``root`` (after resolving ``..`` and links);
    404 otherwise."""
    root = root.resolve()
    target = (root / path).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        raise HTTPException(status_code=404, detail="no such file in the run folder")
    return target

"""The review app: factory, login, worklist, progress, disagreements, audit log, export.

``create_app(results_dir, db, settings)`` returns a FastAPI app; the plot page's routes are in
:mod:`pipeline.review.plotpage`. Every route sits behind :func:`pipeline.review.auth.guard`
(login, CSRF); templates autoescape everything from the plot data.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from pipeline.review import auth, evidence
from pipeline.review.exchange import export_decisions
from pipeline.review.plotpage import router as plot_router
from pipeline.review.review_run import open_review
from pipeline.review.settings import ReviewSettings
from pipeline.review.states import estimate_misses
from pipeline.review.web import HERE, get_review, inside_run, read_filters, render
from pipeline.review.worklist import filter_worklist, progress_by_county


def create_app(
    results_dir: Path, db: Path | None = None, settings: ReviewSettings | None = None
) -> FastAPI:
    """The review app for the finished run in ``results_dir`` (database ``db``, default
    ``RunLayout.review_db``)."""
    review = open_review(Path(results_dir), db, settings or ReviewSettings())
    app = FastAPI(
        title="Tushu review",
        dependencies=[Depends(auth.guard)],
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.review = review
    evidence.warm_up()
    app.add_middleware(
        SessionMiddleware,
        secret_key=review.store.secret(),
        session_cookie="tushu_review",
        same_site="strict",
        max_age=12 * 3600,
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.exception_handler(auth.LoginRequired)
    async def to_login(request: Request, exc: auth.LoginRequired) -> Response:
        return RedirectResponse("/login", status_code=303)

    app.include_router(routes)
    app.include_router(plot_router)
    return app


routes = APIRouter()


@routes.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    return render(request, "login.html")


@routes.post("/login")
def login(request: Request, name: str = Form(...), password: str = Form(...)) -> Response:
    review = get_review(request)
    row = review.store.user(name)
    if row is None or not auth.verify_password(password, row["pw_hash"]):
        return render(request, "login.html", 401, error="用户名或密码错误 (wrong name or password)")
    auth.log_in(request, row["name"], row["role"])
    return RedirectResponse("/", status_code=303)


@routes.post("/logout")
def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


def worklist_context(request: Request) -> dict:
    review = get_review(request)
    user = auth.current_user(request)
    f = read_filters(request)
    table = review.worklist()
    rows = filter_worklist(table, f, user.name if user else "")
    limit = review.settings.worklist_limit
    return {
        "filters": f,
        "rows": rows.head(limit).to_dict("records"),
        "n_rows": len(rows),
        "limit": limit,
        "counties": sorted(table["county"].dropna().astype(str).unique()),
        "townships": sorted(table["township"].dropna().astype(str).unique()),
        "assignees": sorted({a for a in table["assignee"] if a}),
        "progress": progress_by_county(table).to_dict("records"),
        "has_probability": table["probability"].notna().any(),
    }


@routes.get("/", response_class=HTMLResponse)
def worklist(request: Request) -> HTMLResponse:
    return render(request, "worklist.html", **worklist_context(request))


@routes.get("/rows", response_class=HTMLResponse)
def worklist_rows(request: Request) -> HTMLResponse:
    """The worklist's rows only (htmx swaps them in when a filter changes)."""
    return render(request, "_rows.html", **worklist_context(request))


@routes.get("/progress", response_class=HTMLResponse)
def progress(request: Request) -> HTMLResponse:
    review = get_review(request)
    table = review.worklist()
    samples = review.samples()
    n_unflagged = int((review.plots["status"] == "consistent").sum())
    misses = estimate_misses(review.reviews(samples["double"]), samples["blind"], n_unflagged)
    states = table.loc[table["double"], "state"].value_counts().to_dict()
    return render(
        request,
        "progress.html",
        progress=progress_by_county(table).to_dict("records"),
        misses=misses,
        n_blind=len(samples["blind"]),
        n_double=len(samples["double"]),
        double_states=states,
        settings=review.settings,
    )


@routes.get("/disagreements", response_class=HTMLResponse)
def disagreements(request: Request) -> HTMLResponse:
    review = get_review(request)
    reviews = review.reviews()
    rows = []
    for r, rev in reviews.items():
        if rev.state == "disagreement":
            rows.append({"row": r, "plot": review.plot(r), "slots": rev.slots})
    return render(request, "disagreements.html", rows=rows)


@routes.get("/audit", response_class=HTMLResponse)
def audit(request: Request, row: int | None = None) -> HTMLResponse:
    review = get_review(request)
    log = review.store.log(row=row)
    return render(request, "audit.html", log=log.to_dict("records"), row=row)


@routes.post("/export", response_class=HTMLResponse)
def export(request: Request) -> HTMLResponse:
    """Write the decisions into plots.parquet / plots.gpkg and reports/review.xlsx."""
    auth.require_role(request, "senior")
    review = get_review(request)
    sheet = export_decisions(review.layout, review.plots, review.store)
    files = [review.layout.plots_gpkg, review.layout.plots_parquet, sheet]
    names = [str(p.relative_to(review.layout.root)) for p in files]
    return render(request, "exported.html", files=names)


@routes.get("/files/{path:path}")
def run_file(request: Request, path: str) -> FileResponse:
    """A deliverable or a file under ``reports/`` of the run folder; nothing else (not the
    review database, not the settings)."""
    layout = get_review(request).layout
    target = inside_run(layout.root, path)
    allowed = {p.resolve() for p in layout.deliverables()}
    if target not in allowed and not target.is_relative_to(layout.reports.resolve()):
        raise HTTPException(status_code=404, detail="no such file in the run folder")
    return FileResponse(target)

"""The plot page: claims, rule trace, model output, series chart, chips, map; decide, assign.

Routes take the plot's ``row`` (its position in the run: unique even where plot ids repeat).
"""

from __future__ import annotations

import pandas as pd
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response

from pipeline.codes import REASONS
from pipeline.plots.normalize import STANDARD_COLUMNS
from pipeline.reports.gpkg import GPKG_NAMES
from pipeline.review import auth, evidence
from pipeline.review.states import next_slot
from pipeline.review.store import Context, Decision, DecisionConflict, ReviewError
from pipeline.review.vocabulary import DECISIONS
from pipeline.review.web import get_review, inside_run, read_filters, render
from pipeline.review.worklist import filter_worklist, neighbours

router = APIRouter()

# Shown in the page's header and finding, not in the attribute tables.
SHOWN_ABOVE = ("row", "plot_id", "status", "reasons", "geometry")


def split_attributes(plot: pd.Series) -> tuple[list[tuple[str, object]], list[tuple[str, object]]]:
    """The plot's original attributes as submitted (claims), and the normalised claims and
    metrics the run computed (labelled with their GeoPackage names)."""
    claims, metrics = [], []
    for k, v in plot.items():
        if k in SHOWN_ABOVE or str(k).startswith(("review_", "prob_", "model_")):
            continue
        if k in STANDARD_COLUMNS or k in GPKG_NAMES:
            value = "" if v is None or (isinstance(v, float) and pd.isna(v)) else v
            metrics.append((f"{GPKG_NAMES.get(k, k)} ({k})" if k in GPKG_NAMES else k, value))
        else:
            claims.append((k, v))
    return claims, metrics


def _row(request: Request, row: int) -> int:
    if row not in get_review(request).plots.index:
        raise HTTPException(status_code=404, detail=f"no plot with row {row}")
    return row


def plot_context(request: Request, row: int, draft: Decision | None = None) -> dict:
    """Everything the plot page shows (``draft``: the user's unsaved values after a conflict)."""
    review = get_review(request)
    user = auth.current_user(request)
    plot = review.plot(row)
    samples = review.samples()
    double, blind = row in samples["double"], row in samples["blind"]
    rev = review.reviews(samples["double"])[row]
    slot = next_slot(rev, user.name, double, user.can("senior"))
    mine = rev.slots.get(slot) if slot else None
    f = read_filters(request)
    before, after = neighbours(filter_worklist(review.worklist(), f, user.name), row)
    trace, trace_note = evidence.trace_table(review.run, row)
    hidden = blind and rev.final is None and not user.can("senior")
    claims, metrics = split_attributes(plot)
    return {
        "row": row,
        "plot": plot,
        "claims": claims,
        "metrics": metrics,
        "blind": blind,
        "hide_findings": hidden,
        "double": double,
        "review": rev,
        "slot": slot,
        "form": draft or mine,
        "version": mine.version if mine else 0,
        "trace": None if trace is None else trace.to_dict("records"),
        "trace_note": trace_note,
        "model": evidence.model_outputs(plot),
        "query": f.query(),
        "prev": before,
        "next": after,
        "assignee": review.store.assignments().get(row, ""),
        "users": [u["name"] for u in review.store.users()],
        "log": review.store.log(row=row, limit=50).to_dict("records"),
        "basemap_url": review.settings.basemap_url,
        "basemap_attribution": review.settings.basemap_attribution,
        "basemap_max_zoom": review.settings.basemap_max_zoom,
        "reason_codes": list(REASONS),
    }


@router.get("/plot/{row}", response_class=HTMLResponse)
def plot_page(request: Request, row: int) -> HTMLResponse:
    return render(request, "plot.html", **plot_context(request, _row(request, row)))


@router.post("/plot/{row}/decide")
async def decide(request: Request, row: int) -> Response:
    """Record the user's decision in the slot the form was opened for (version-checked)."""
    review = get_review(request)
    user = auth.current_user(request)
    row = _row(request, row)
    form = await request.form()
    decision, slot = str(form.get("decision", "")), str(form.get("slot", ""))
    if decision not in DECISIONS:
        raise HTTPException(status_code=400, detail="choose a decision")
    if slot == "final" and not user.can("senior"):
        raise HTTPException(status_code=403, detail="adjudication needs the senior role")
    rev = review.reviews()[row]
    first = rev.slots.get("primary")
    if slot == "second" and first is not None and first.user == user.name:
        raise HTTPException(status_code=403, detail="the second review must be someone else's")
    codes = tuple(c for c in form.getlist("reasons") if c in REASONS)
    items = tuple(i for i in str(form.get("items", "")).split(";") if i)
    draft = Decision(
        row=row,
        slot=slot,
        decision=decision,
        reasons=codes,
        comment=str(form.get("comment", ""))[:4000],
        confidence=str(form.get("confidence", "")),
        user=user.name,
        plot_id=str(review.plot(row)["plot_id"]),
    )
    context = Context(review.run_id, review.model_version, items)
    try:
        version = int(str(form.get("version", "0")))
        review.store.record(draft, version, context)
    except DecisionConflict as err:
        page = plot_context(request, row, draft)
        page["version"] = err.current.version if err.current else 0
        page["slot"] = slot
        return render(request, "plot.html", 409, conflict=str(err), theirs=err.current, **page)
    except (ReviewError, ValueError) as err:
        raise HTTPException(status_code=400, detail=str(err)) from None
    query = str(form.get("query", ""))
    return RedirectResponse(f"/plot/{row}?saved=1&{query}", status_code=303)


@router.post("/plot/{row}/assign")
async def assign(request: Request, row: int, assignee: str = Form("")) -> Response:
    user = auth.require_role(request, "senior")
    review = get_review(request)
    row = _row(request, row)
    if assignee and review.store.user(assignee) is None:
        raise HTTPException(status_code=400, detail=f"no user {assignee!r}")
    review.store.assign(row, assignee, user.name, str(review.plot(row)["plot_id"]))
    return RedirectResponse(f"/plot/{row}", status_code=303)


@router.get("/plot/{row}/chart.png")
def chart(request: Request, row: int) -> Response:
    png = evidence.chart_png(get_review(request).run, _row(request, row))
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=600"})


@router.get("/plot/{row}/chips", response_class=HTMLResponse)
def chips(request: Request, row: int) -> HTMLResponse:
    """The chips fragment (htmx loads it after the page; drawing reads imagery once)."""
    review = get_review(request)
    row = _row(request, row)
    try:
        entries, note = evidence.chip_index(review.run, row), ""
    except Exception as err:  # imagery unreachable: say so on the page, keep reviewing
        entries, note = [], f"影像切片无法生成 (chips could not be drawn): {err}"
    return render(request, "_chips.html", row=row, chips=entries, note=note)


@router.get("/chips/{path:path}")
def chip_file(request: Request, path: str) -> FileResponse:
    """A drawn chip image; paths cannot leave the review cache of the run folder."""
    root = get_review(request).layout.review_cache
    target = inside_run(root, path)
    if target.suffix != ".png":
        raise HTTPException(status_code=404, detail="not an image")
    return FileResponse(target, media_type="image/png")


@router.get("/plot/{row}/map.json")
def map_json(request: Request, row: int) -> JSONResponse:
    review = get_review(request)
    row = _row(request, row)
    layers = evidence.map_layers(review, row)
    if not review.settings.basemap_url:
        try:
            made = evidence.basemap(review.run, row)
        except Exception:  # no imagery: the map still shows the outlines
            made = None
        if made is not None:
            image, bounds = made
            rel = image.relative_to(review.layout.review_cache).as_posix()
            layers["basemap"] = {"url": f"/chips/{rel}", "bounds": bounds}
    return JSONResponse(layers)

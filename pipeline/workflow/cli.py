"""The ``tushu`` command: demo, run, evaluate, make-world, and the workflow's steps."""

from __future__ import annotations

import json
import re
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from pipeline.config import load_settings
from pipeline.errors import TushuError
from pipeline.workflow.cli_evidence import print_by_land
from pipeline.workflow.cli_evidence import register as register_evidence_commands

app = typer.Typer(
    help="Tushu (图数): check afforestation plots against Sentinel-2 imagery.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
step_app = typer.Typer(
    help="Single workflow steps (called by the Snakefile).", no_args_is_help=True
)
app.add_typer(step_app, name="step")
console = Console()
register_evidence_commands(app)


def _fail(err: Exception | str) -> None:
    """``error: <message>`` on one line (never wrapped, never read as markup), exit 2."""
    console.print(Text("error: ", style="bold red") + Text(str(err)), soft_wrap=True)
    raise typer.Exit(2)


@app.command()
def run(
    config: Path = typer.Option(..., "--config", "-c", help="run configuration (YAML)"),
    cores: int = typer.Option(2, min=1, help="CPU cores for Snakemake"),
    force: bool = typer.Option(False, help="re-run every step (e.g. after upgrading Tushu)"),
) -> None:
    """Run the whole pipeline for one configuration through Snakemake.

    Re-runs exactly the steps whose inputs or settings changed; says "up to date" otherwise.
    """
    try:
        settings = load_settings(config)
        check_inputs_exist(settings)
        outcome = run_workflow(settings, cores, force)
    except TushuError as err:
        _fail(err)
    console.print(f"[bold]{outcome.describe()}[/]")
    print_county_table(Path(settings.output_dir))


def check_inputs_exist(settings) -> None:
    """Every configured input file exists (a clear message instead of Snakemake's)."""
    from pipeline.errors import ConfigError

    named = [(f"plots.path / plots.files[{i}]", f.path) for i, f in enumerate(
        settings.plots.plot_files())]  # fmt: skip
    named += [("layers", src.path) for src in settings.layers.all_sources()]
    for key, path in named:
        if any(ch in str(path) for ch in "*?["):
            raise ConfigError(
                f"{key}: {path} is a pattern; list the files under plots.files instead"
            )
        if not Path(path).exists():
            raise ConfigError(
                f"{key}: {path} does not exist (relative paths are taken from the config "
                "file's folder); fix the path"
            )


def run_workflow(settings, cores: int, force: bool = False):
    """Run Snakemake with a live progress bar; returns the :class:`RunOutcome`."""
    from pipeline.layout import RunLayout
    from pipeline.workflow.runner import check_output_dir, run_snakemake

    check_output_dir(RunLayout.of(settings.output_dir))  # before the progress bar shows

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} steps"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task("Snakemake", total=None)

        def on_line(line: str) -> None:
            m = re.search(r"(\d+) of (\d+) steps", line)
            if m:
                progress.update(task, completed=int(m.group(1)), total=int(m.group(2)))
            rule = re.match(r"\s*(?:localrule|rule|checkpoint) (\w+):", line)
            if rule:
                progress.update(task, description=f"Snakemake: {rule.group(1)}")

        return run_snakemake(settings, cores, force, on_line)


def print_county_table(out_dir: Path) -> None:
    """Per-county status table from ``summary.csv``."""
    import pandas as pd

    summary = pd.read_csv(out_dir / "summary.csv", encoding="utf-8-sig")
    table = Table(title=f"Tushu results: {out_dir}")
    for col in (
        "县 county",
        "plots",
        "图数一致",
        "存疑",
        "不一致",
        "数据不足",
        "上报 亩",
        "核实 亩",
    ):
        table.add_column(col, justify="left" if col.startswith("县") else "right")
    for _, r in summary.iterrows():
        table.add_row(
            str(r["县"]),
            str(r["图斑数"]),
            *(str(r[f"图斑数_{label}"]) for label in ("图数一致", "存疑", "不一致", "数据不足")),
            f"{r['上报面积_亩']:.1f}",
            f"{r['核实面积_亩']:.1f}",
        )
    console.print(table)
    console.print(
        f"Outputs: {out_dir}/plots.gpkg, plots.parquet, timeseries.parquet, summary.csv, run.json"
        "; documents in reports/ (核查汇总表.xlsx, 进度通报.html, 整改清单_*.html, ...)"
    )
    run = json.loads((out_dir / "run.json").read_text(encoding="utf-8"))
    imagery = run.get("imagery", {})
    skipped = imagery.get("skipped_scenes", [])
    console.print(
        f"Imagery: {imagery.get('n_items', 0)} scenes"
        + (f"; {len(skipped)} dates skipped (unreadable): "
           + ", ".join(s["date"] for s in skipped[:8]) + (" …" if len(skipped) > 8 else "")
           + f" — see {out_dir}/run.json imagery.skipped_scenes" if skipped else "")
    )  # fmt: skip
    ingest = run.get("ingest", {})
    if ingest:
        console.print(f"Ingest: {ingest_summary(ingest)}; see {out_dir}/ingest_report.csv")
        for name, info in ingest.get("files", {}).items():
            for warning in info.get("warnings", []):
                console.print(Text(f"warning: {name}: {warning}"), soft_wrap=True)


def ingest_summary(ingest: dict) -> str:
    """The run's ingest counts in words: records with repairs and with problems apart from
    those whose values were only normalised (benign: "2023年" read as 2023, a stage code as
    its name), with the codes of each kind."""
    by_kind = ingest.get("records_by_kind", {})
    parts = [f"{ingest.get('records', 0)} records"]
    if not by_kind:  # a run.json of an older version: one count of every finding
        parts.append(f"{ingest.get('records_with_findings', 0)} with findings")
    words = {"normalisation": "values normalised", "repair": "repaired", "problem": "with problems"}
    for kind, word in words.items():
        if by_kind.get(kind):
            parts.append(f"{by_kind[kind]} {word}")
    if by_kind and not by_kind.get("repair") and not by_kind.get("problem"):
        parts.append("no repairs or problems")
    found = ", ".join(f"{k} {v}" for k, v in sorted(ingest.get("by_code", {}).items()))
    return ", ".join(parts) + (f" ({found})" if found else "")


@app.command()
def demo(
    preset: str = typer.Option("default", help="demo world preset: default or tiny"),
    seed: int = typer.Option(0, help="seed of the demo world"),
    cores: int = typer.Option(2, help="CPU cores for Snakemake"),
    data_dir: Path = typer.Option(None, help="where the world is (made if missing)"),
    out: Path = typer.Option(None, help="results folder"),
    force: bool = typer.Option(False, help="re-run every step"),
) -> None:
    """Make the built-in demo world if missing, run the pipeline on it, score it."""
    from pipeline.demo import make_world
    from pipeline.demo.settings import demo_settings

    name = "demo" if preset == "default" else f"demo-{preset}"
    name += "" if seed == 0 else f"-seed{seed}"
    data_dir = data_dir or Path("data") / name
    out = out or Path("results") / name
    try:
        meta = data_dir / "world.json"
        fresh = (
            meta.is_file()
            and json.loads(meta.read_text()).get("seed") == seed
            and json.loads(meta.read_text()).get("preset") == preset
        )
        if not fresh and not meta.is_file() and data_dir.is_dir() and any(data_dir.iterdir()):
            raise TushuError(
                f"--data-dir {data_dir} is a non-empty folder that is not a demo world (no "
                "world.json); choose a new folder so nothing of yours is overwritten"
            )
        if not fresh:
            with console.status(f"Making the demo world ({preset}, seed {seed}) in {data_dir} ..."):
                make_world(data_dir, preset=preset, seed=seed)
        settings = demo_settings(data_dir.absolute(), out.absolute(), preset)
        outcome = run_workflow(settings, cores, force)
    except TushuError as err:
        _fail(err)
    console.print(f"[bold]{outcome.describe()}[/]")
    print_county_table(out)
    _print_evaluation(out, data_dir / "truth.csv")


@app.command()
def evaluate(
    results_dir: Path = typer.Argument(..., help="a run's output folder"),
    truth: Path = typer.Option(..., help="truth.csv of the demo world"),
) -> None:
    """Score a run against a truth table (per reason, per status, planted area)."""
    try:
        _print_evaluation(results_dir, truth)
    except TushuError as err:
        _fail(err)


def _print_evaluation(results_dir: Path, truth_path: Path) -> None:
    import geopandas as gpd

    from pipeline.files import write_json
    from pipeline.judgement.evaluate import evaluate_run, read_truth

    if not (results_dir / "plots.parquet").is_file():
        raise TushuError(f"{results_dir}/plots.parquet not found; run the pipeline first")
    report = evaluate_run(gpd.read_parquet(results_dir / "plots.parquet"), read_truth(truth_path))
    write_json(results_dir / "evaluation.json", report)
    table = Table(title="Evaluation against the truth table")
    for col in ("reason", "true", "TP", "FP", "FN", "precision", "recall"):
        table.add_column(col, justify="right" if col != "reason" else "left")

    def fmt(v):
        return "-" if v is None else f"{v:.2f}"

    for code, r in report["reasons"].items():
        table.add_row(
            code,
            str(r["true"]),
            str(r["tp"]),
            str(r["fp"]),
            str(r["fn"]),
            fmt(r["precision"]),
            fmt(r["recall"]),
        )
    console.print(table)
    g = report["genuine"]
    shares = ", ".join(f"{k} {v:.1%}" for k, v in g["status_share"].items())
    console.print(f"Plots with no true reason (n={g['n']}): {shares}")
    a = report["planted_area"]
    console.print(
        f"Planted area: estimated {a['estimated_mu']:.1f} 亩 vs true {a['truth_mu']:.1f} "
        f"亩 on {a['n_judged']} judged plots; abs. error {a['rel_abs_error']:.1%}"
    )
    print_by_land(report, truth_path.parent / "world.json")


@app.command("make-world")
def make_world_cmd(
    out: Path = typer.Argument(..., help="folder to write the world into"),
    preset: str = typer.Option("default"),
    seed: int = typer.Option(0),
    force: bool = typer.Option(False, help="write into a non-empty folder, replacing a world"),
) -> None:
    """Write a demo world (STAC catalog of COGs, plots, reference layers, truth)."""
    from pipeline.demo import make_world

    try:
        if out.is_dir() and any(out.iterdir()) and not force:
            raise TushuError(
                f"{out} is not empty; choose a new folder, or pass --force to replace the "
                "demo world files in it"
            )
        paths = make_world(out, preset=preset, seed=seed)
    except TushuError as err:
        _fail(err)
    console.print(f"World written: {paths.root}")


def _step(fn, *args, **kwargs) -> None:
    """Run one step; a damaged step file it read is removed (the re-run re-makes it). An
    unexpected error leaves its traceback in the step's log and one ``error:`` line (what
    ``tushu run`` shows)."""
    import traceback

    from pipeline.workflow.contracts import StepFileError

    try:
        fn(*args, **kwargs)
    except StepFileError as err:
        if err.path is not None and "work" in Path(err.path).parts and Path(err.path).is_file():
            Path(err.path).unlink()
        _fail(err)
    except TushuError as err:
        _fail(err)
    except Exception as err:  # noqa: BLE001 - a bug or an input no check foresaw
        traceback.print_exc()
        _fail(
            f"unexpected {type(err).__name__} in step {getattr(fn, '__name__', fn)}: {err} "
            "(a Tushu bug or an input it does not handle; the traceback is above in this log — "
            "please report it with the log)"
        )


def _view(kind, text: str):
    from pipeline.workflow.views import read_view

    return read_view(kind, text)


def _run_options(text: str):
    from pipeline.config import RunOptions

    return RunOptions.model_validate_json(text)


@step_app.command("plan")
def step_plan(
    view: str = typer.Option(..., help="the plan view of the settings (JSON)"),
    run: str = typer.Option(
        "{}", envvar="TUSHU_RUN_OPTIONS", help="run options (JSON; never a reason to re-run)"
    ),
    plots_out: Path = typer.Option(...),
    items_out: Path = typer.Option(...),
    plan_out: Path = typer.Option(...),
    ingest_out: Path = typer.Option(...),
) -> None:
    """Read plots, find imagery, plan tiles."""
    from pipeline.workflow.steps import PlanFiles, plan_step
    from pipeline.workflow.views import PlanView

    files = PlanFiles(plots=plots_out, items=items_out, plan=plan_out, ingest=ingest_out)
    _step(plan_step, _view(PlanView, view), files, _run_options(run))


@step_app.command("desk")
def step_desk(
    view: str = typer.Option(..., help="the desk view of the settings (JSON)"),
    plots: Path = typer.Option(...),
    table_out: Path = typer.Option(...),
    meta_out: Path = typer.Option(...),
) -> None:
    """Desk checks."""
    from pipeline.workflow.steps import desk_step
    from pipeline.workflow.views import DeskView

    _step(desk_step, _view(DeskView, view), plots, table_out, meta_out)


@step_app.command("tile")
def step_tile(
    view: str = typer.Option(..., help="the tile view of the settings (JSON)"),
    run: str = typer.Option(
        "{}", envvar="TUSHU_RUN_OPTIONS", help="run options (JSON; never a reason to re-run)"
    ),
    tile: str = typer.Option(...),
    plots: Path = typer.Option(...),
    items: Path = typer.Option(...),
    plan: Path = typer.Option(...),
    series_out: Path = typer.Option(...),
    pixels_out: Path = typer.Option(...),
    meta_out: Path = typer.Option(...),
    output_dir: Path = typer.Option(..., help="the run folder (default cache location)"),
) -> None:
    """Imagery, indices and per-plot series for one tile."""
    import dask

    from pipeline.workflow.steps import TileInputs, tile_step
    from pipeline.workflow.views import TileView

    inputs = TileInputs(plots=plots, items=items, plan=plan)
    with dask.config.set(scheduler="threads", num_workers=1):
        _step(
            tile_step,
            _view(TileView, view),
            tile,
            inputs,
            series_out,
            pixels_out,
            meta_out,
            _run_options(run),
            output_dir.absolute(),
        )


@step_app.command("report")
def step_report(
    view: str = typer.Option(..., help="the report view of the settings (JSON)"),
    plots: Path = typer.Option(...),
    items: Path = typer.Option(...),
    plan: Path = typer.Option(...),
    desk_table: Path = typer.Option(...),
    desk_meta: Path = typer.Option(...),
    output_dir: Path = typer.Option(..., help="the run folder"),
    run_id: str = typer.Option(
        "", envvar="TUSHU_RUN_ID", help="id of the `tushu run` that asked for this"
    ),
    started: str = typer.Option(
        "", envvar="TUSHU_STARTED", help="when that run started (ISO 8601)"
    ),
) -> None:
    """Evidence, decisions and the deliverables (staged; `publish` puts them in place)."""
    from pipeline.layout import RunLayout
    from pipeline.workflow.contracts import read_plan
    from pipeline.workflow.steps import ReportInputs, report_step
    from pipeline.workflow.views import ReportView

    def go() -> None:
        layout = RunLayout.of(output_dir)
        tiles = tuple(layout.tile(t) for t in read_plan(plan).job_ids)
        inputs = ReportInputs(plots, items, plan, desk_table, desk_meta, tiles)
        report_step(_view(ReportView, view), inputs, layout, run_id or None, started or None)

    _step(go)


@step_app.command("publish")
def step_publish(output_dir: Path = typer.Option(..., help="the run folder")) -> None:
    """Put the staged deliverables in place (each replaced atomically)."""
    from pipeline.layout import RunLayout
    from pipeline.workflow.publish import publish_step

    _step(publish_step, RunLayout.of(output_dir))


@step_app.command("documents")
def step_documents(
    view: str = typer.Option(..., help="the documents view of the settings (JSON)"),
    output_dir: Path = typer.Option(..., help="the run folder"),
    threads: int = typer.Option(1, help="processes for the evidence packs"),
) -> None:
    """Workbook, 整改清单, bulletin, history, field lists, HTML report and evidence packs."""
    from pipeline.layout import RunLayout
    from pipeline.workflow.documents import documents_step
    from pipeline.workflow.views import DocumentsView

    _step(documents_step, _view(DocumentsView, view), RunLayout.of(output_dir), threads)


review_user_app = typer.Typer(help="Users of the review app (names, roles, passwords).")
app.add_typer(review_user_app, name="review-user")


def _review_db(results: Path | None, db: Path | None) -> Path:
    from pipeline.layout import RunLayout

    if db is None and results is None:
        raise TushuError("name the review database: --results RESULTS_DIR or --db FILE")
    return db if db is not None else RunLayout.of(results).review_db


@app.command()
def review(
    results_dir: Path = typer.Argument(..., help="a finished run's output folder"),
    port: int = typer.Option(8765, help="port to listen on"),
    host: str = typer.Option("127.0.0.1", help="address to listen on (0.0.0.0: the intranet)"),
    db: Path = typer.Option(None, help="review database (default: review.sqlite in the run)"),
    settings: Path = typer.Option(None, help="review settings YAML (samples, basemap)"),
) -> None:
    """Open the review app for verifiers on a finished run (a local web server)."""
    import sys

    import uvicorn

    from pipeline.review.app import create_app
    from pipeline.review.auth import hash_password
    from pipeline.review.settings import load_review_settings

    try:
        web = create_app(results_dir, db, load_review_settings(settings))
        store = web.state.review.store
        if not store.users():
            if not sys.stdin.isatty():
                raise TushuError(
                    "the review database has no users yet; add one first: "
                    f"tushu review-user add NAME --role admin --results {results_dir}"
                )
            console.print("No review users yet: create the first (an admin).")
            name = typer.prompt("Name", default="admin")
            password = typer.prompt("Password (8+ characters)", hide_input=True,
                                    confirmation_prompt=True)  # fmt: skip
            if len(password) < 8:
                raise TushuError("the password needs at least 8 characters")
            store.add_user(name, "admin", hash_password(password))
    except TushuError as err:
        _fail(err)
    console.print(f"Review app for {results_dir}: http://{host}:{port}/  (Ctrl-C stops it)")
    uvicorn.run(web, host=host, port=port, log_level="warning")


@review_user_app.command("add")
def review_user_add(
    name: str = typer.Argument(..., help="login name"),
    role: str = typer.Option("verifier", help="verifier, senior or admin"),
    results: Path = typer.Option(None, help="the run folder whose review database to use"),
    db: Path = typer.Option(None, help="a review database file instead"),
    password_stdin: bool = typer.Option(False, help="read the password from standard input"),
    replace: bool = typer.Option(False, help="reset an existing user's role and password"),
) -> None:
    """Create a review user with a hashed password (asked for unless --password-stdin)."""
    import sys

    from pipeline.review.auth import hash_password
    from pipeline.review.store import ReviewStore

    try:
        path = _review_db(results, db)
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        if len(password) < 8:
            raise TushuError("the password needs at least 8 characters")
        ReviewStore(path).add_user(name, role, hash_password(password), replace=replace)
    except TushuError as err:
        _fail(err)
    console.print(f"User {name} ({role}) saved in {path}")


@review_user_app.command("list")
def review_user_list(
    results: Path = typer.Option(None, help="the run folder whose review database to use"),
    db: Path = typer.Option(None, help="a review database file instead"),
) -> None:
    """List review users and roles."""
    from pipeline.review.store import ReviewStore

    try:
        store = ReviewStore(_review_db(results, db))
    except TushuError as err:
        _fail(err)
    for u in store.users():
        console.print(f"{u['name']}\t{u['role']}\t{u['created']}")


@app.command("review-export")
def review_export(
    results_dir: Path = typer.Argument(..., help="the run folder"),
    db: Path = typer.Option(None, help="review database (default: review.sqlite in the run)"),
) -> None:
    """Write review decisions into plots.parquet / plots.gpkg and reports/review.xlsx."""
    from pipeline.layout import RunLayout
    from pipeline.results import open_run
    from pipeline.review.exchange import export_decisions
    from pipeline.review.store import ReviewStore

    try:
        layout = RunLayout.of(results_dir)
        store = ReviewStore(db or layout.review_db)
        sheet = export_decisions(layout, open_run(results_dir).plots, store)
    except TushuError as err:
        _fail(err)
    console.print(f"Decisions written to {layout.plots_gpkg}, {layout.plots_parquet}, {sheet}")


@app.command("review-import")
def review_import(
    results_dir: Path = typer.Argument(..., help="the run folder"),
    sheet: Path = typer.Argument(..., help="a filled review.xlsx (sheet 复核)"),
    user: str = typer.Option(..., help="the review user who filled the sheet"),
    db: Path = typer.Option(None, help="review database (default: review.sqlite in the run)"),
) -> None:
    """Record the decisions filled into an exported review sheet (offline review)."""
    from pipeline.layout import RunLayout
    from pipeline.results import open_run
    from pipeline.review.exchange import import_sheet
    from pipeline.review.store import Context, ReviewStore

    try:
        layout = RunLayout.of(results_dir)
        store = ReviewStore(db or layout.review_db)
        if store.user(user) is None:
            raise TushuError(f"no review user {user!r}; add it with `tushu review-user add`")
        run = open_run(results_dir)
        context = Context(run_id=str(run.provenance.get("run_id", "")))
        outcome = import_sheet(sheet, run.plots, store, user, context)
    except TushuError as err:
        _fail(err)
    console.print(
        f"Recorded {len(outcome.recorded)} decisions, {outcome.unchanged} unchanged, "
        f"{len(outcome.conflicts)} conflicts, {len(outcome.errors)} errors"
    )
    for line in outcome.conflicts + outcome.errors:
        console.print(f"  {line}")
    if outcome.conflicts or outcome.errors:
        raise typer.Exit(1)


if __name__ == "__main__":
    app()

"""The ``tushu`` command: demo, run, evaluate, make-world, and the workflow's steps."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pipeline.config import dump_settings, load_settings
from pipeline.errors import TushuError

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
SNAKEFILE = Path(__file__).resolve().parent / "Snakefile"


def _fail(err: Exception) -> None:
    console.print(f"[bold red]error:[/] {err}")
    raise typer.Exit(2)


@app.command()
def run(
    config: Path = typer.Option(..., "--config", "-c", help="run configuration (YAML)"),
    cores: int = typer.Option(2, help="CPU cores for Snakemake"),
    force: bool = typer.Option(False, help="re-run every step (e.g. after upgrading Tushu)"),
) -> None:
    """Run the whole pipeline for one configuration through Snakemake."""
    try:
        settings = load_settings(config)
        run_workflow(config, cores, force)
    except TushuError as err:
        _fail(err)
    print_county_table(Path(settings.output_dir))


def run_workflow(config: Path, cores: int, force: bool = False) -> None:
    """Run Snakemake on the packaged Snakefile with a live progress bar.

    Snakemake re-runs a step when its inputs or the settings it reads change; ``force`` re-runs
    all steps (a new Tushu version is not a change Snakemake sees).
    """
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(SNAKEFILE),
        "--config",
        f"tushu_config={Path(config).resolve()}",
        "--cores",
        str(cores),
        "--rerun-incomplete",
        "--printshellcmds",
        *(["--forceall"] if force else []),
    ]
    log_lines: list[str] = []
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} steps"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task("Snakemake", total=None)
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert proc.stdout is not None
        for line in proc.stdout:
            log_lines.append(line)
            m = re.search(r"(\d+) of (\d+) steps", line)
            if m:
                progress.update(task, completed=int(m.group(1)), total=int(m.group(2)))
            rule = re.match(r"\s*(?:localrule|rule|checkpoint) (\w+):", line)
            if rule:
                progress.update(task, description=f"Snakemake: {rule.group(1)}")
        code = proc.wait()
    if code != 0:
        detail = _failure_detail(log_lines)
        raise TushuError(f"the workflow failed (Snakemake exit {code}).\n{detail}")


def _failure_detail(log_lines: list[str]) -> str:
    """The last lines of each failed step's log (where the real error is), else Snakemake's."""
    text = "".join(log_lines)
    logs = dict.fromkeys(re.findall(r"log: (\S+) \(check log file", text))
    parts = []
    for log in logs:
        path = Path(log)
        if path.is_file():
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
            parts.append(f"--- {log} (last lines)\n" + "\n".join(lines[-12:]))
    return "\n".join(parts) or "".join(log_lines[-40:])


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
            str(r["county"]),
            str(r["n_plots"]),
            str(r["n_consistent"]),
            str(r["n_suspect"]),
            str(r["n_inconsistent"]),
            str(r["n_insufficient_data"]),
            f"{r['claimed_area_mu']:.1f}",
            f"{r['verified_area_mu']:.1f}",
        )
    console.print(table)
    console.print(
        f"Outputs: {out_dir}/plots.gpkg, plots.parquet, timeseries.parquet, summary.csv, run.json"
    )
    run = json.loads((out_dir / "run.json").read_text(encoding="utf-8"))
    ingest = run.get("ingest", {})
    if ingest:
        found = ", ".join(f"{k} {v}" for k, v in sorted(ingest.get("by_code", {}).items()))
        console.print(
            f"Ingest: {ingest.get('records', 0)} records, "
            f"{ingest.get('records_with_findings', 0)} with repairs or problems"
            + (f" ({found})" if found else "")
            + f"; see {out_dir}/ingest_report.csv"
        )


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
        if not fresh:
            with console.status(f"Making the demo world ({preset}, seed {seed}) in {data_dir} ..."):
                make_world(data_dir, preset=preset, seed=seed)
        settings = demo_settings(data_dir, out, preset)
        out.mkdir(parents=True, exist_ok=True)
        config = out / "config.yaml"
        dump_settings(settings, config)
        run_workflow(config, cores, force)
    except TushuError as err:
        _fail(err)
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
    import pandas as pd

    from pipeline.files import write_json
    from pipeline.judgement.evaluate import evaluate_run

    if not (results_dir / "plots.parquet").is_file():
        raise TushuError(f"{results_dir}/plots.parquet not found; run the pipeline first")
    if not truth_path.is_file():
        raise TushuError(f"truth table {truth_path} not found")
    report = evaluate_run(
        gpd.read_parquet(results_dir / "plots.parquet"),
        pd.read_csv(truth_path, keep_default_na=False, na_values={"planted_share": [""]}),
    )
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


@app.command("make-world")
def make_world_cmd(
    out: Path = typer.Argument(..., help="folder to write the world into"),
    preset: str = typer.Option("default"),
    seed: int = typer.Option(0),
) -> None:
    """Write a demo world (STAC catalog of COGs, plots, reference layers, truth)."""
    from pipeline.demo import make_world

    try:
        paths = make_world(out, preset=preset, seed=seed)
    except TushuError as err:
        _fail(err)
    console.print(f"World written: {paths.root}")


def _step(fn, config: Path, *args) -> None:
    try:
        fn(load_settings(config), *args)
    except TushuError as err:
        _fail(err)


@step_app.command("plan")
def step_plan(config: Path = typer.Option(..., "--config")) -> None:
    """Read plots, find imagery, plan tiles."""
    from pipeline.workflow.steps import plan_run

    _step(plan_run, config)


@step_app.command("desk")
def step_desk(config: Path = typer.Option(..., "--config")) -> None:
    """Desk checks."""
    from pipeline.workflow.steps import desk_run

    _step(desk_run, config)


@step_app.command("tile")
def step_tile(config: Path = typer.Option(..., "--config"), tile: str = typer.Option(...)) -> None:
    """Imagery, indices and per-plot series for one tile."""
    import dask

    from pipeline.workflow.steps import extract_tile

    with dask.config.set(scheduler="threads", num_workers=1):
        _step(extract_tile, config, tile)


@step_app.command("report")
def step_report(config: Path = typer.Option(..., "--config")) -> None:
    """Evidence, decisions and the deliverables."""
    from pipeline.workflow.steps import report_run

    _step(report_run, config)


if __name__ == "__main__":
    app()

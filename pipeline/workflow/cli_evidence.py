"""``tushu train`` (a learned model beside the rules) and ``tushu series`` (evidence on one
series); registered on the main app by :func:`register`."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from pipeline.errors import TushuError

console = Console()


def _fail(err: Exception) -> None:
    console.print(f"[bold red]error:[/] {err}")
    raise typer.Exit(2)


def train(
    run: list[Path] = typer.Option(..., help="a judged run's output folder (repeat)"),
    truth: list[Path] = typer.Option(..., help="the truth.csv of each --run, in the same order"),
    name: str = typer.Option("evidence", help="model name: written to MODELS_DIR/NAME/"),
    models_dir: Path = typer.Option(Path("models"), help="folder of models"),
    seed: int = typer.Option(0),
    thresholds: bool = typer.Option(
        True, help="also fit the rule thresholds on the runs (thresholds.json in the folder)"
    ),
) -> None:
    """Fit the per-reason model on labelled plots; write model.joblib and card.json, and the
    rule thresholds fitted on the same plots (thresholds.json: load it with
    ``evidence.thresholds``)."""
    import geopandas as gpd
    import pandas as pd

    from pipeline.judgement.calibrate import LabelledRun, fit_thresholds, save_thresholds
    from pipeline.judgement.model import fit_model, save_model, training_table

    try:
        if len(run) != len(truth):
            raise TushuError("give one --truth per --run (same order)")
        pairs = []
        for r, t in zip(run, truth, strict=True):
            if not (r / "plots.parquet").is_file():
                raise TushuError(f"{r}/plots.parquet not found; give a run's output folder")
            if not t.is_file():
                raise TushuError(f"truth table {t} not found")
            pairs.append((gpd.read_parquet(r / "plots.parquet"), pd.read_csv(t)))
        model = fit_model(training_table(pairs), [str(r) for r in run], seed=seed)
        folder = save_model(model, models_dir / name)
        if thresholds:
            labelled = [LabelledRun(str(r), *pair) for r, pair in zip(run, pairs, strict=True)]
            fitted = fit_thresholds(labelled, start=_run_evidence(run[0]))
            save_thresholds(fitted, folder)
    except TushuError as err:
        _fail(err)
    card = json.loads((folder / "card.json").read_text(encoding="utf-8"))
    console.print(f"Model written: {folder} (sha256 {card['sha256'][:12]}…)")
    for code, m in card["metrics_out_of_fold"].items():
        if "recall" in m:
            console.print(
                f"  {code}: recall {m['recall']:.2f}, precision {m['precision']:.2f}, "
                f"Brier {m['brier']:.3f} (n+ = {m['positives']})"
            )
        else:
            console.print(f"  {code}: not fitted ({m['skipped']})")
    if thresholds:
        values = ", ".join(f"{k} {v:g}" for k, v in fitted.values.items())
        console.print(f"Rule thresholds written: {folder / 'thresholds.json'} ({values})")


def _run_evidence(run: Path):
    """The evidence settings a run was judged with (its ``run.json``), the start of the
    threshold search; the defaults when the run records none."""
    from pipeline.config import Evidence

    try:
        record = json.loads((run / "run.json").read_text(encoding="utf-8"))
        return Evidence.model_validate(record["settings"]["evidence"])
    except (OSError, ValueError, KeyError, TypeError):
        return Evidence()


def series(
    file: Path = typer.Argument(..., help="CSV with one observation per row"),
    date: str = typer.Option("date", help="date column"),
    value: str = typer.Option("ndvi", help="value column (NDVI or another index)"),
    reference: Path = typer.Option(None, help="CSV of a reference series (same columns)"),
    planting_year: int = typer.Option(None, help="claimed planting year (for the trend)"),
    min_drop: float = typer.Option(0.15, help="smallest drop reported as a loss (value units)"),
) -> None:
    """Print JSON evidence of one series: dry-season levels, establishment trend, loss."""
    import pandas as pd

    from pipeline.judgement.single import read_series

    def read(path: Path) -> pd.Series:
        if not path.is_file():
            raise TushuError(f"{path} not found")
        table = pd.read_csv(path)
        missing = [c for c in (date, value) if c not in table]
        if missing:
            raise TushuError(f"{path} has no column {missing[0]!r}; pass --date / --value")
        s = pd.Series(
            pd.to_numeric(table[value], errors="coerce").to_numpy(),
            index=pd.to_datetime(table[date]),
        )
        return s[~s.index.duplicated()].sort_index()

    try:
        s = read(file)
        ref = read(reference) if reference is not None else None
        out = read_series(
            s.index, s.to_numpy(), ref, min_drop=min_drop, planting_year=planting_year
        )
    except TushuError as err:
        _fail(err)
    typer.echo(json.dumps(out, ensure_ascii=False, indent=2))


def print_by_land(report: dict, world_json: Path) -> None:
    """Per starting land class (truth column ``land``): recall of each reason and the genuine
    plots' status shares; the world's climate, sensor and planting season when its world.json
    is beside the truth."""
    from rich.table import Table

    if not report.get("by_land"):
        return
    climate, sensor, season = "-", "-", "-"
    if world_json.is_file():
        info = json.loads(world_json.read_text(encoding="utf-8"))
        climate = info.get("climate", "south")
        sensor, season = info.get("sensor", "s2"), info.get("planting_season", "spring")
    table = Table(
        title=f"By starting land class (climate: {climate}, sensor: {sensor}, "
        f"planting season: {season})"
    )
    for col in ("land", "plots", "reasons found / true", "genuine n", "inconsistent", "suspect"):
        table.add_column(col)
    for land, r in report["by_land"].items():
        found = ", ".join(f"{c} {v['found']}/{v['true']}" for c, v in r["reasons"].items())
        g = r["genuine"]
        table.add_row(
            land,
            str(r["n_plots"]),
            found or "-",
            str(g["n"]),
            f"{g['inconsistent']:.0%}",
            f"{g['suspect']:.0%}",
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``train`` and ``series`` to the ``tushu`` app."""
    app.command()(train)
    app.command()(series)

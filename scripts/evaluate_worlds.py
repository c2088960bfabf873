"""Multi-world evaluation, held out: thresholds and a model fitted on two worlds, every world
scored with them.

For each world preset in ``--worlds`` (default: the seven ``pipeline.demo.presets.VARIANTS``)
the script makes the world (seed ``--seed``) and runs the pipeline in one process (reused when
``--work`` already holds them). The ``--train`` presets are also made with each of
``--train-seeds`` (under ``--work``/train/). On those training runs only it fits the rule
thresholds (:func:`pipeline.judgement.calibrate.fit_thresholds`: genuine inconsistent ≤ 1 %,
suspect ≤ 5 % in every training run) and then the per-reason model on their evidence; both go
to ``--work``/models/evidence/ (``thresholds.json``, ``model.joblib``, ``card.json``). Every
world is re-judged with the fitted thresholds, once by the rules alone and once with the model
(policy ``add``), and a Markdown table is printed: per world the recall of each imagery reason,
the share of genuine plots ``inconsistent`` and ``suspect`` (genuine: no reason in the truth),
the plots left unsettled (ESTABLISHMENT_NOT_YET_VISIBLE: the genuine plantings the truth
expects it for — found / their number —, then the plots given it that are genuine / truly
unplanted / other), the felled and low-survival plantings the truth relabels by what the
imagery can show (:func:`pipeline.demo.visibility.truth_reasons`: scenario→truth, and what the
run gave them), the planted-area error and the loss-date error. ``--readme`` writes the
table into README.md between the ``evaluation`` markers.

Usage: ``python scripts/evaluate_worlds.py [--work /tmp/tushu-eval] [--seed 1] [--readme]``
"""

from __future__ import annotations

import argparse
import re
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

from pipeline.demo.presets import VARIANTS, get_spec
from pipeline.demo.settings import demo_settings
from pipeline.demo.visibility import NOT_YET_VISIBLE
from pipeline.judgement.calibrate import LabelledRun, fit_thresholds, save_thresholds
from pipeline.judgement.evaluate import evaluate_run, read_truth
from pipeline.judgement.model import fit_model, save_model, training_table

REASONS = (
    ("PRE_EXISTING_FOREST", "forest"),
    ("NO_PLANTING_EVIDENCE", "no plant."),
    ("VEGETATION_LOSS", "loss"),
    ("LOW_SURVIVAL", "low surv."),
    ("PARTIAL_PLANTING", "partial"),
)
START, END = "<!-- evaluation:start -->", "<!-- evaluation:end -->"


def make_and_run(args: tuple[str, int, str]) -> str:
    """Make one world and run the pipeline on it (skipped when its results exist)."""
    from pipeline.demo.world import make_world
    from pipeline.workflow.inprocess import run_in_process

    preset, seed, folder = args
    root = Path(folder)
    if not (root / "world" / "truth.csv").is_file():
        make_world(root / "world", preset, seed)
    if not (root / "out" / "plots.parquet").is_file():
        run_in_process(demo_settings(root / "world", root / "out", preset))
    return preset


def world_folder(work: Path, preset: str, seed: int, main_seed: int) -> Path:
    """Where a world lives: ``work/<preset>`` for the scored seed, ``work/train/<preset>-s<seed>``
    for the extra training seeds."""
    return work / preset if seed == main_seed else work / "train" / f"{preset}-s{seed}"


def judge(
    preset: str, root: Path, thresholds: dict[str, float], model: Path | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(result, truth) of a world judged again from its tile results (current evidence code)
    with ``thresholds`` and, when given, the model (policy ``add``)."""
    from pipeline.layout import RunLayout
    from pipeline.results.rejudge import rejudge_run

    settings = demo_settings(root / "world", root / "out", preset)
    with_model = {"model": model, "model_policy": "add"} if model is not None else {}
    result = rejudge_run(RunLayout.of(root / "out"), settings, **thresholds, **with_model)
    return result, read_truth(root / "world" / "truth.csv")


def unsettled(result: pd.DataFrame, truth: pd.DataFrame) -> str:
    """ESTABLISHMENT_NOT_YET_VISIBLE, counted apart so that no suspect outcome hides: the
    genuine plantings the imagery cannot show yet (the truth names them, by the generator's
    rule in :mod:`pipeline.demo.visibility`) given it / their number, then the plots given it
    that are genuine / truly unplanted (NO_PLANTING_EVIDENCE in the truth) / other."""
    got = result.set_index("row")["reasons"].fillna("").str.contains(NOT_YET_VISIBLE)
    want = truth.set_index("row")["reasons"].fillna("").reindex(got.index).fillna("")
    expected = want.str.contains(NOT_YET_VISIBLE)
    genuine = int((got & (want == "")).sum())
    unplanted = int((got & want.str.contains("NO_PLANTING_EVIDENCE")).sum())
    other = int((got & ~expected).sum()) - genuine - unplanted
    return f"{int((got & expected).sum())}/{int(expected.sum())}; {genuine} / {unplanted} / {other}"


SHORT = {
    "VEGETATION_LOSS": "loss",
    "LOW_SURVIVAL": "low",
    NOT_YET_VISIBLE: "nyv",
}


def relabelled(result: pd.DataFrame, truth: pd.DataFrame) -> str:
    """The felled and low-survival plantings whose truth is what the imagery can show rather
    than their scenario (:func:`pipeline.demo.visibility.truth_reasons`), reported apart: per
    change ``scenario→truth n`` and what the run gave them (the truth's reason / the
    scenario's own / neither), e.g. ``loss→nyv 2 (1/0/1)``; '-' when none."""
    got = result.set_index("row")["reasons"].fillna("")
    t = truth.set_index("row").reindex(got.index)
    moved = t["scenario"].isin(["VEGETATION_LOSS", "LOW_SURVIVAL"]) & (
        t["reasons"] != t["scenario"]
    )
    cells = []
    for (scenario, reason), rows in t[moved].groupby(["scenario", "reasons"]).groups.items():
        gave = got.loc[rows]
        new, own = gave.str.contains(reason), gave.str.contains(scenario)
        counts = f"{int(new.sum())}/{int((own & ~new).sum())}/{int((~new & ~own).sum())}"
        cells.append(f"{SHORT[scenario]}→{SHORT.get(reason, reason)} {len(rows)} ({counts})")
    return ", ".join(cells) or "-"


def row(
    preset: str, with_model: bool, report: dict, train: bool, settled: str = "", moved: str = ""
) -> str:
    spec = get_spec(preset)
    land = "/".join(f"{k} {w:.0%}" for k, w in spec.land_mix)
    name = preset + (" (train)" if train else "")
    cells = [name, spec.climate, land, "rules + model" if with_model else "rules"]
    for code, _ in REASONS:
        r = report["reasons"][code]
        cells.append(f"{r['tp']}/{r['true']}" if r["true"] else "-")
    g = report["genuine"]["status_share"]
    cells += [f"{g['inconsistent']:.0%}", f"{g['suspect']:.0%}", settled, moved]
    cells.append(f"{report['planted_area']['rel_abs_error']:.1%}")
    d = report["loss_dates"]
    cells.append(f"{d['median_days']:+.0f} / {d['max_abs_days']:.0f}" if d["n"] else "-")
    return "| " + " | ".join(cells) + " |"


def totals(reports: list[dict], label: str) -> str:
    cells = ["**all scored worlds**", "", "", label]
    for code, _ in REASONS:
        tp = sum(r["reasons"][code]["tp"] for r in reports)
        n = sum(r["reasons"][code]["true"] for r in reports)
        cells.append(f"{tp}/{n} ({tp / n:.0%})" if n else "-")
    worst_inc = max(r["genuine"]["status_share"]["inconsistent"] for r in reports)
    worst_sus = max(r["genuine"]["status_share"]["suspect"] for r in reports)
    worst_area = max(r["planted_area"]["rel_abs_error"] for r in reports)
    cells += [f"max {worst_inc:.0%}", f"max {worst_sus:.0%}", "", "", f"max {worst_area:.1%}", ""]
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/tushu-eval"))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--worlds", nargs="+", default=list(VARIANTS))
    ap.add_argument("--train", nargs="+", default=["south-shrub", "north-bare"])
    ap.add_argument("--train-seeds", nargs="+", type=int, default=[1, 2, 3, 4])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--readme", action="store_true", help="write the table into README.md")
    a = ap.parse_args()
    work = a.work.absolute()
    work.mkdir(parents=True, exist_ok=True)
    train = [(w, s, world_folder(work, w, s, a.seed)) for w in a.train for s in a.train_seeds]
    jobs = [(w, a.seed, str(work / w)) for w in a.worlds]
    jobs += [(w, s, str(f)) for w, s, f in train if s != a.seed]
    with ProcessPoolExecutor(a.jobs) as pool:
        list(pool.map(make_and_run, jobs))

    labelled = [LabelledRun(f"{w} seed {s}", *judge(w, f, {}, None)) for w, s, f in train]
    fitted = fit_thresholds(labelled)
    model_dir = work / "models" / "evidence"
    save_thresholds(fitted, model_dir)
    print("fitted thresholds:", fitted.values)
    pairs = [judge(w, f, fitted.values, None) for w, _, f in train]
    model = fit_model(training_table(pairs), [r.name for r in labelled])
    save_model(model, model_dir)

    header = ["world", "climate", "starting land", "judged by"]
    header += [name for _, name in REASONS] + ["genuine inconsistent", "genuine suspect"]
    header += ["not yet visible: expected (found/n); on genuine / unplanted / other"]
    header += ["relabelled by visibility: scenario→truth n (gave truth / scenario / neither)"]
    header += ["planted-area error", "loss date − true, days (median / max)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    scored = {False: [], True: []}
    for w in a.worlds:
        for with_model in (False, True):
            run = judge(w, work / w, fitted.values, model_dir if with_model else None)
            report = evaluate_run(*run)
            cells = unsettled(*run), relabelled(*run)
            lines.append(row(w, with_model, report, w in a.train, *cells))
            if w not in a.train:
                scored[with_model].append(report)
    for with_model in (False, True):
        lines.append(totals(scored[with_model], "rules + model" if with_model else "rules"))
    table = "\n".join(lines)
    print(table)
    if a.readme:
        readme = Path(__file__).resolve().parent.parent / "README.md"
        text = readme.read_text(encoding="utf-8")
        block = f"{START}\n{table}\n{END}"
        text = re.sub(re.escape(START) + ".*?" + re.escape(END), block, text, flags=re.S)
        readme.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()

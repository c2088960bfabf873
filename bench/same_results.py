"""Judge a finished run's stored inputs and compare two such judgements exactly.

``python -m bench.same_results dump RUN OUT``: judge ``RUN``'s ``work/`` inputs with its own
settings using whatever ``pipeline`` is on ``PYTHONPATH`` (e.g. a ``git archive`` of an older
commit), write ``OUT.res.pkl`` (plot results without geometry) and ``OUT.trace.pkl``.
``python -m bench.same_results compare A B``: which result columns differ and how much, and
whether statuses, reasons, areas, loss dates and every trace row but its value are identical
(exit status 1 if not).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

IDENTICAL = ("status", "reasons", "verified_area_mu", "planted_area_mu", "loss_date")


def dump(run: Path, out: Path) -> None:
    from pipeline.config import load_settings
    from pipeline.judgement.judge import judge_with_trace
    from pipeline.layout import RunLayout
    from pipeline.results.stored import read_grid, read_judgement_inputs

    lay = RunLayout.of(run)
    inputs = read_judgement_inputs(lay, read_grid(lay.plan))
    t0, c0 = time.perf_counter(), time.process_time()
    res, trace = judge_with_trace(inputs.plots, inputs.desk, inputs.series, inputs.pixels,
                                  load_settings(lay.settings).evidence)  # fmt: skip
    print(f"judged in {time.perf_counter() - t0:.1f} s wall, {time.process_time() - c0:.1f} s CPU")
    pd.DataFrame(res.drop(columns="geometry")).to_pickle(f"{out}.res.pkl")
    trace.to_pickle(f"{out}.trace.pkl")


def compare(a: str, b: str) -> bool:
    x, y = pd.read_pickle(f"{a}.res.pkl"), pd.read_pickle(f"{b}.res.pkl")
    if list(x.columns) != list(y.columns) or not x.index.equals(y.index):
        print("different columns or rows")
        return False
    for c in x.columns:
        if x[c].equals(y[c]):
            continue
        if x[c].dtype.kind == "f":
            xv, yv = x[c].to_numpy(), y[c].to_numpy()
            rel = (np.nanmax(np.abs(xv - yv) / np.maximum(np.abs(xv), 1e-300))
                   if (np.isnan(xv) == np.isnan(yv)).all() else np.inf)  # fmt: skip
            n = int(((xv != yv) & ~(np.isnan(xv) & np.isnan(yv))).sum())
            print(f"{c}: {n} values differ, max relative {rel:.2g}")
        else:
            print(f"{c}: {int((x[c] != y[c]).sum())} values differ")
    same = all(x[c].equals(y[c]) for c in IDENTICAL if c in x)
    tx, ty = pd.read_pickle(f"{a}.trace.pkl"), pd.read_pickle(f"{b}.trace.pkl")
    rest = tx.drop(columns="value").equals(ty.drop(columns="value"))
    print(f"statuses, reasons, areas, loss dates identical: {same}; trace rows "
          f"({len(tx)}) identical but for values: {rest}")  # fmt: skip
    return same and rest


if __name__ == "__main__":
    cmd, first, second = sys.argv[1:4]
    if cmd == "dump":
        dump(Path(first), Path(second))
    else:
        sys.exit(0 if compare(first, second) else 1)

"""``python -m bench``: run the benchmark suite, write ``bench/results.json`` and print a table.

Usage: ``python -m bench [--quick] [--only NAME ...] [--root /tmp/tushu-bench]``. Names:
workflow (whole run on the default and tiny demo worlds, each step, beside the decode floor),
county (the same on a 20 × 20 km world with 20 000 plots, made from the default world),
zonal (kernel vs exactextract, 20 000 plots × 12 dates on 5000²), memory (peak RSS vs dates,
tile area and plots),
report (report step at 20 000 and 200 000 plots × 150 dates), province (200 000 plots planned
into tile jobs, the Snakemake DAG and the merge). ``--quick`` shrinks every size (a smoke
test of the suite, not figures to quote). Slow: the full suite takes tens of minutes.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from datetime import datetime
from pathlib import Path

from bench.floor import load_average

NAMES = ("workflow", "county", "zonal", "memory", "report", "province")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    ap.add_argument("--only", nargs="*", choices=NAMES, default=list(NAMES))
    ap.add_argument("--root", type=Path, default=Path("/tmp/tushu-bench"))
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results.json")
    args = ap.parse_args(argv)
    root, quick = args.root, args.quick
    root.mkdir(parents=True, exist_ok=True)
    results: dict = {
        "when": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": {"cpus": _cpus(), "python": platform.python_version()},
        "load_avg_start": load_average(),
        "quick": quick,
    }
    if "workflow" in args.only:
        from bench import workflow

        presets = ["tiny"] if quick else ["tiny", "default"]
        results["workflow"] = [workflow.run(p, 0, root=root) for p in presets]
        _show("workflow", results["workflow"])
    if "county" in args.only:
        from bench import county

        results["county"] = county.run(2000 if quick else 20_000, root=root)
        _show("county", [results["county"]])
    if "zonal" in args.only:
        from bench import zonal

        size = dict(side=1000, plots=2000) if quick else {}
        results["zonal"] = zonal.run(**size, folder=root / "zonal")
        _show("zonal", [results["zonal"]])
    if "memory" in args.only:
        from bench import memory

        results["memory"] = memory.run([(24, 128, 50), (96, 128, 50)] if quick else None)
        _show("memory", results["memory"])
    if "report" in args.only:
        from bench import report

        run_dir = Path(results["workflow"][-1]["output"]) if "workflow" in results else None
        if run_dir is None and (root / "run-default-0" / "run.json").is_file():
            run_dir = root / "run-default-0"  # from an earlier `--only workflow`
        if run_dir is None:
            from bench import workflow

            run_dir = Path(workflow.run("tiny", 0, root=root)["output"])
        sizes = [(2000, 150)] if quick else [(20_000, 150), (200_000, 150)]
        results["report"] = [report.run(run_dir, n, d, root=root) for n, d in sizes]
        _show("report", results["report"])
    if "province" in args.only:
        from bench import province

        results["province"] = province.run(20_000 if quick else 200_000, root=root)
        _show("province", [results["province"]])
    results["load_avg_end"] = load_average()
    args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {args.out}")


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def _show(name: str, rows: list[dict]) -> None:
    """Print rows as a Markdown table (nested values as JSON)."""
    keys = [k for k in rows[0] if k not in ("output",)]
    print(f"\n### {name}\n")
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for r in rows:
        cells = [json.dumps(r.get(k), ensure_ascii=False) if isinstance(r.get(k), dict | list)
                 else str(r.get(k)) for k in keys]  # fmt: skip
        print("| " + " | ".join(cells) + " |")
    sys.stdout.flush()


if __name__ == "__main__":
    main()

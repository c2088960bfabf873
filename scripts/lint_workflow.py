"""`snakemake --lint` on the workflow with the demo config; fails on any lint but one.

The one accepted lint asks for a conda environment or container per rule: Tushu is installed
with pip into the environment that runs Snakemake, and every rule runs that interpreter.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ACCEPTED = ("Specify a conda environment or container for each rule",)


def main() -> int:
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--lint", "--configfile", "configs/demo.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    out = proc.stdout + proc.stderr
    lints = re.findall(r"^\s+\* (.+)$", out, flags=re.MULTILINE)
    bad = [line for line in lints if not line.startswith(ACCEPTED)]
    if bad or (proc.returncode != 0 and not lints):
        print(out)
        print(f"snakemake --lint: {len(bad)} lint(s) to fix", file=sys.stderr)
        return 1
    print(f"snakemake --lint: clean ({len(lints)} accepted deployment lints)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

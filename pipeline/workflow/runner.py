"""Running the workflow for one configuration: the run folder, Snakemake, and what happened.

Snakemake runs with the run folder as its working directory, so its state (``.snakemake/``)
belongs to the run, whatever folder ``tushu run`` starts from. Before it starts, the folder is
checked (never ``/``, the home folder, the repository or a foreign non-empty folder), the
validated settings are written to it, and a lock is taken; a stale Snakemake lock left by a
killed run is removed. Ctrl-C is passed to Snakemake, which stops its jobs; finished steps are
kept and the same command resumes.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml

from pipeline.config import Settings
from pipeline.errors import ConfigError, TushuError
from pipeline.files import write_atomic
from pipeline.layout import MARKER, RunLayout

SNAKEFILE = Path(__file__).resolve().parent / "Snakefile"
REPO_ROOT = Path(__file__).resolve().parent.parent.parent


@dataclass
class RunOutcome:
    """What one ``tushu run`` did: its id, and the steps Snakemake ran (empty: up to date)."""

    run_id: str
    started: str
    steps: Counter = field(default_factory=Counter)

    @property
    def up_to_date(self) -> bool:
        return not self.steps

    def describe(self) -> str:
        if self.up_to_date:
            return "up to date: the results match these settings and inputs; nothing was re-run"
        parts = [f"{k} ×{n}" if n > 1 else k for k, n in self.steps.items()]
        return "re-ran: " + ", ".join(parts)


def check_output_dir(layout: RunLayout) -> None:
    """Refuse an output folder that is not safe to write a run into."""
    root = layout.root.resolve()
    home = Path.home().resolve()
    forbidden = {Path("/"), home, REPO_ROOT.resolve()}
    if root in forbidden or root == root.parent:
        raise ConfigError(
            f"output_dir {layout.root} is {'/' if root == root.parent else 'a system folder'}"
            f"{' (your home folder)' if root == home else ''}"
            f"{' (the Tushu repository)' if root == REPO_ROOT.resolve() else ''}; "
            "set output_dir to a folder of its own, e.g. results/<run name>"
        )
    if root.exists() and not root.is_dir():
        raise ConfigError(f"output_dir {layout.root} is a file; set output_dir to a folder")
    if root.is_dir() and not layout.marker.exists() and any(root.iterdir()):
        raise ConfigError(
            f"output_dir {layout.root} is a non-empty folder that is not a Tushu run (no "
            f"{MARKER} file); choose an empty or new folder so nothing of yours is overwritten"
        )


def claim_output_dir(layout: RunLayout) -> None:
    """Check the output folder, create it and mark it as a Tushu run."""
    check_output_dir(layout)
    layout.root.mkdir(parents=True, exist_ok=True)
    if not layout.marker.exists():
        layout.marker.write_text("This folder is a Tushu run; `tushu run` may rewrite it.\n")


def write_run_settings(settings: Settings, layout: RunLayout) -> None:
    """The validated settings (absolute paths) where every step and reader finds them."""
    text = yaml.safe_dump(
        settings.model_dump(mode="json", exclude_none=True), allow_unicode=True, sort_keys=False
    )
    write_atomic(layout.settings, lambda p: p.write_text(text, encoding="utf-8"))


@contextlib.contextmanager
def hold_run_lock(layout: RunLayout) -> Iterator[None]:
    """Hold the run folder's lock; a second ``tushu run`` on the same folder is refused."""
    fd = os.open(layout.lock, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise TushuError(
                f"another `tushu run` is working in {layout.root}; wait for it to finish"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        # Nobody else holds the folder, so a Snakemake lock left there is stale (a killed run).
        locks = layout.snakemake_state / "locks"
        if locks.is_dir():
            for f in locks.iterdir():
                f.unlink(missing_ok=True)
        yield
    finally:
        os.close(fd)


def snakemake_command(layout: RunLayout, cores: int, force: bool, redo: list[str] = ()):
    """The Snakemake command line (a list: no shell, so no path is ever split or expanded);
    ``redo``: what :func:`rules_to_redo` asks to re-make."""
    return [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(SNAKEFILE),
        "--directory",
        str(layout.root),
        "--config",
        f"tushu_settings={layout.settings}",
        "--cores",
        str(cores),
        "--rerun-incomplete",
        "--printshellcmds",
        *(["--forceall"] if force else []),
        *(redo if not force else []),
    ]


_JOB = re.compile(r"^\s*(?:localrule|rule|checkpoint|localcheckpoint) (\w+):")


def run_snakemake(
    settings: Settings,
    cores: int,
    force: bool = False,
    on_line: Callable[[str], None] | None = None,
) -> RunOutcome:
    """Run the workflow for ``settings``; returns what was re-run. Raises :class:`TushuError`
    with the failed step's log lines when Snakemake fails, or when interrupted."""
    layout = RunLayout.of(settings.output_dir)
    claim_output_dir(layout)
    now = datetime.now().astimezone()
    outcome = RunOutcome(
        run_id=now.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}",
        started=now.isoformat(timespec="seconds"),
    )
    with hold_run_lock(layout):
        write_run_settings(settings, layout)
        redo = rules_to_redo(layout, missing_step_files(layout))
        for attempt in range(2):
            lines = _run(layout, cores, force, outcome, on_line, redo)
            if lines is None:
                return outcome
            damaged = remove_damaged(layout, failure_detail(lines) + "".join(lines))
            if attempt == 0 and damaged:
                redo = rules_to_redo(layout, damaged)
                continue  # the re-run re-makes the damaged step files
            break
    raise TushuError(f"the workflow failed.\n{failure_detail(lines)}")


_DAMAGED = re.compile(r"(/\S+) is (?:damaged|missing)")


def missing_step_files(layout: RunLayout) -> list[Path]:
    """Step files of a finished run that are gone (removed as damaged, deleted by hand or by a
    killed run): Snakemake keeps the deliverables as they are and would not re-make them."""
    from pipeline.workflow.contracts import StepFileError, read_plan

    if not all(p.exists() for p in layout.deliverables()):
        return []  # not finished: Snakemake makes whatever is missing
    files = [layout.plan, layout.items, layout.work_plots, layout.desk_table, layout.desk_meta]
    with contextlib.suppress(StepFileError):
        for t in read_plan(layout.plan).job_ids:
            tile = layout.tile(t)
            files += [tile.series, tile.pixels, tile.meta]
    return [p.resolve() for p in files if not p.exists()]


def rules_to_redo(layout: RunLayout, removed: list[Path]) -> list[str]:
    """What to re-make for removed step files, which Snakemake alone would not (its deliverables
    downstream still exist): the plan or desk rule (forced, with what follows) for their
    files, and every other removed file as a target of its own."""
    owners = {layout.plan: "plan", layout.items: "plan", layout.work_plots: "plan",
              layout.desk_table: "desk", layout.desk_meta: "desk"}  # fmt: skip
    owners = {p.resolve(): rule for p, rule in owners.items()}
    rules = sorted({owners[p] for p in removed if p in owners})
    files = [str(p) for p in removed if p not in owners]
    return [*(["--forcerun", *rules] if rules else []), *(["all", *files] if files else [])]


def remove_damaged(layout: RunLayout, text: str) -> list[Path]:
    """Remove the step files (under ``work/``) that a failed run reported damaged (a torn
    write, a disk fault, a hand edit), so that the next attempt re-makes them; returns them.
    A file the steps did not make is never touched."""
    work = layout.work.resolve()
    found = []
    for name in dict.fromkeys(_DAMAGED.findall(text)):
        path = Path(name.rstrip(".,;:)")).resolve()
        if work in path.parents:
            path.unlink(missing_ok=True)
            found.append(path)
    return found


def _run(layout, cores, force, outcome, on_line, redo=()) -> list[str] | None:
    cmd = snakemake_command(layout, cores, force, list(redo))
    lines: list[str] = []
    # The run's identity reaches the report step through the environment: never a reason
    # for Snakemake to re-run anything.
    env = {**os.environ, "TUSHU_RUN_ID": outcome.run_id, "TUSHU_STARTED": outcome.started}
    proc = subprocess.Popen(
        cmd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
        preexec_fn=_die_with_parent,
        cwd=layout.root,
    )
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            lines.append(line)
            job = _JOB.match(line)
            if job:
                outcome.steps[job.group(1)] += 1
            if on_line:
                on_line(line)
        code = proc.wait()
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.terminate()
            proc.wait()
        raise TushuError(
            "interrupted; finished steps are kept — run the same command again to resume"
        ) from None
    outcome.steps.pop("all", None)
    return None if code == 0 else lines


def _die_with_parent() -> None:
    """In the Snakemake child: get SIGTERM if ``tushu run`` dies (so it stops cleanly)."""
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def failure_detail(log_lines: list[str]) -> str:
    """The last lines of each failed step's log (where the real error is), else Snakemake's."""
    text = "".join(log_lines)
    logs = dict.fromkeys(re.findall(r"log: (.+?) \(check log file", text))
    parts = []
    for log in logs:
        path = Path(log.strip())
        if path.is_file():
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
            errors = [x for x in lines if x.startswith("error:")]
            parts.append("\n".join(errors) if errors else "\n".join(lines[-12:]))
    if parts:
        return "\n".join(parts)
    # Snakemake itself failed (e.g. an input function read a damaged plan): its error lines
    errors = [x.strip() for x in log_lines if re.match(r"\s*\w+(?:Error|Exception): ", x)]
    return "\n".join(dict.fromkeys(errors)) or "".join(log_lines[-40:])

"""The run's file layout: every path under ``output_dir`` is named here and nowhere else.

The Snakefile, the steps, the CLI, the results reader, the reports and the review app all take
their paths from :class:`RunLayout`. Deliverables sit at the top of the run folder; ``work/``
holds the step contracts (plan, desk result, tile results); ``logs/`` and ``benchmarks/`` are
written by Snakemake, ``.snakemake/`` is its state (the run folder is its working directory).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MARKER = ".tushu-run"


@dataclass(frozen=True)
class TilePaths:
    """The files one tile job writes (``work/tiles/<tile_id>/``)."""

    dir: Path

    @property
    def series(self) -> Path:
        return self.dir / "series.parquet"

    @property
    def pixels(self) -> Path:
        return self.dir / "pixels.parquet"

    @property
    def meta(self) -> Path:
        return self.dir / "tile.json"


@dataclass(frozen=True)
class RunLayout:
    """Paths of one run folder; ``root`` is the configured ``output_dir`` (absolute)."""

    root: Path

    @classmethod
    def of(cls, output_dir: str | Path) -> RunLayout:
        return cls(Path(output_dir).absolute())

    # -- the run itself -------------------------------------------------------------------
    @property
    def marker(self) -> Path:
        """Marks a folder as a Tushu run (so a re-run may write into it)."""
        return self.root / MARKER

    @property
    def settings(self) -> Path:
        """The validated settings every step reads (written by ``tushu run`` before Snakemake)."""
        return self.root / "settings.yaml"

    @property
    def run_options(self) -> Path:
        """Run-only options (cores, date chunk, cache folder): never a reason to re-run."""
        return self.root / "run-options.yaml"

    @property
    def snakemake_state(self) -> Path:
        return self.root / ".snakemake"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def benchmarks(self) -> Path:
        return self.root / "benchmarks"

    @property
    def cache(self) -> Path:
        """Default imagery cache (``run.cache_dir`` overrides it)."""
        return self.root / "cache"

    # -- step contracts (work/) -----------------------------------------------------------
    @property
    def work(self) -> Path:
        return self.root / "work"

    @property
    def work_plots(self) -> Path:
        """Normalised plot table with tile ids (plan step)."""
        return self.work / "plots.parquet"

    @property
    def items(self) -> Path:
        """The STAC items the run uses (plan step)."""
        return self.work / "items.json"

    @property
    def plan(self) -> Path:
        return self.work / "plan.json"

    @property
    def desk_table(self) -> Path:
        return self.work / "desk.parquet"

    @property
    def desk_meta(self) -> Path:
        return self.work / "desk.json"

    def tile(self, tile_id: str) -> TilePaths:
        return TilePaths(self.work / "tiles" / tile_id)

    # -- deliverables ---------------------------------------------------------------------
    @property
    def plots_parquet(self) -> Path:
        return self.root / "plots.parquet"

    @property
    def plots_gpkg(self) -> Path:
        return self.root / "plots.gpkg"

    @property
    def timeseries(self) -> Path:
        return self.root / "timeseries.parquet"

    @property
    def trace(self) -> Path:
        """The rule trace: every comparison read per plot (metric, value, op, threshold)."""
        return self.root / "trace.parquet"

    @property
    def summary(self) -> Path:
        return self.root / "summary.csv"

    @property
    def run_json(self) -> Path:
        return self.root / "run.json"

    @property
    def ingest_report(self) -> Path:
        return self.root / "ingest_report.csv"

    @property
    def evaluation(self) -> Path:
        return self.root / "evaluation.json"

    @property
    def reports(self) -> Path:
        """Documents for people (workbook, bulletin, HTML report, evidence packs)."""
        return self.root / "reports"

    # -- documents (reports/, made by the documents step from the published deliverables) ---
    @property
    def reports_manifest(self) -> Path:
        """What the documents step made (files, settings, timings): its Snakemake target."""
        return self.reports / "manifest.json"

    @property
    def workbook(self) -> Path:
        """County workbook: summary, detail per county, 整改清单, legend."""
        return self.reports / "核查汇总表.xlsx"

    @property
    def bulletin(self) -> Path:
        return self.reports / "进度通报.html"

    def rectification_doc(self, county: str) -> Path:
        """Printable 整改清单 of one county."""
        return self.reports / f"整改清单_{county}.html"

    @property
    def report_html(self) -> Path:
        """The self-contained HTML report (map, charts, method, provenance)."""
        return self.reports / "核查报告.html"

    @property
    def evidence(self) -> Path:
        return self.reports / "evidence"

    def evidence_pack(self, row: int) -> Path:
        """The evidence pack of the plot in input row ``row``."""
        return self.evidence / f"plot-{row:05d}.html"

    @property
    def history_table(self) -> Path:
        """Each plot's status across the runs named in ``reports.history`` and this one."""
        return self.reports / "history.csv"

    @property
    def changed_plots(self) -> Path:
        return self.reports / "changed_plots.csv"

    @property
    def visits_kml(self) -> Path:
        return self.reports / "visits.kml"

    @property
    def visits_gpx(self) -> Path:
        return self.reports / "visits.gpx"

    @property
    def field_sample(self) -> Path:
        return self.reports / "field_sample.csv"

    @property
    def field_estimate(self) -> Path:
        return self.reports / "field_sample.json"

    @property
    def review_db(self) -> Path:
        """The review app's SQLite database (default location)."""
        return self.root / "review.sqlite"

    @property
    def review_cache(self) -> Path:
        """What the review app draws once and serves again (image chips, chip index, basemap
        images), one folder per plot row; safe to delete."""
        return self.root / "review"

    def deliverables(self) -> tuple[Path, ...]:
        """What the report step makes (Snakemake's final targets)."""
        return (
            self.plots_parquet,
            self.plots_gpkg,
            self.timeseries,
            self.trace,
            self.summary,
            self.run_json,
        )

    @property
    def staging(self) -> Path:
        """The report step writes here; deliverables replace the previous ones only once all
        are complete (so a failed run never leaves a run folder without them)."""
        return self.work / "report"

    def staged(self, deliverable: Path) -> Path:
        """Where the report step writes ``deliverable`` before it is published."""
        return self.staging / Path(deliverable).name

    @property
    def lock(self) -> Path:
        """Held (``flock``) by the ``tushu run`` working in this folder."""
        return self.root / ".tushu.lock"

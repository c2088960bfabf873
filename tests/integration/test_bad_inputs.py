"""A bad-input corpus, generated here from the tiny world's plots: every case either fails
with one ``error:`` line naming the file and the fix, or loads with every record kept and the
bad ones flagged. No traceback reaches the user and no file outside the run folder changes
(a decoy folder next to it is checked)."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
import yaml
from typer.testing import CliRunner

from pipeline.config import ColumnMap, Layers, PlotSource
from pipeline.demo.settings import demo_settings
from pipeline.layout import RunLayout
from pipeline.workflow.cli import app
from pipeline.workflow.views import plan_view

SHORT = {"图斑编号": "TBBH", "造林年度": "ZLND", "上报面积": "SBMJ", "造林类型": "ZLLX"}


@dataclass
class Case:
    """A file to write, the plot settings to read it with, and what must happen."""

    write: Callable[[gpd.GeoDataFrame, Path], Path]
    error: str | None = None  # regex the one error line must match (None: must load)
    flagged: dict[int, str] = field(default_factory=dict)  # row -> ingest code it must carry
    settings: dict = field(default_factory=dict)


def _shp(gdf: gpd.GeoDataFrame, path: Path, encoding: str = "UTF-8", cpg: bool = True) -> Path:
    gdf.to_file(path, encoding=encoding, engine="pyogrio")
    if not cpg:
        path.with_suffix(".cpg").unlink()
    return path


def _gpkg(gdf: gpd.GeoDataFrame, path: Path) -> Path:
    gdf.to_file(path, engine="pyogrio")
    return path


def _geojson_with(base: gpd.GeoDataFrame, path: Path, edit: Callable[[dict], None]) -> Path:
    data = json.loads(base.to_json(ensure_ascii=False))
    edit(data)
    path.write_text(json.dumps(data, ensure_ascii=False).replace('"NaN"', "NaN"), "utf-8")
    return path


def _with_geometry(base: gpd.GeoDataFrame, row: int, geom) -> gpd.GeoDataFrame:
    out = base.copy()
    geoms = list(out.geometry)
    geoms[row] = geom
    return out.set_geometry(gpd.GeoSeries(geoms, crs=base.crs))


def _dup_field_names(base: gpd.GeoDataFrame, folder: Path) -> Path:
    """A DBF whose second field has the first one's name (GDAL never writes that)."""
    path = _shp(base.rename(columns=SHORT), folder / "dup.shp")
    dbf = bytearray(path.with_suffix(".dbf").read_bytes())
    dbf[64:75] = dbf[32:43]
    path.with_suffix(".dbf").write_bytes(bytes(dbf))
    return path


def _raw(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _corpus() -> dict[str, Case]:
    c = {}
    # text: encodings and field names
    c["utf8 read with an explicit GBK"] = Case(
        lambda b, p: _shp(b.rename(columns=SHORT), p / "utf8.shp", cpg=False),
        error=r"utf8\.shp: `plots\.encoding` is GBK.*look like UTF-8",
        settings={"encoding": "GBK"},
    )
    c["gbk read with an explicit UTF-8"] = Case(
        lambda b, p: _shp(b.rename(columns=SHORT), p / "gbk.shp", "GBK", cpg=False),
        error=r"gbk\.shp: `plots\.encoding` is UTF-8.*GB18030",
        settings={"encoding": "UTF-8"},
    )
    c["utf8 chinese field names cut mid-character"] = Case(
        lambda b, p: _shp(b, p / "qgis.shp"),  # 图斑编号 is 12 bytes: cut to 10
    )
    c["duplicate field names"] = Case(_dup_field_names)
    c["id column that matches nothing"] = Case(
        lambda b, p: _gpkg(b, p / "ids.gpkg"),
        error=r"ids\.gpkg.*'编号'.*not in the layer \(it has: 图斑编号, 县",
        settings={"columns": {"plot_id": "编号"}},
    )
    # geometry
    c["points, Z values, holes, multipart"] = Case(
        lambda b, p: _gpkg(
            _with_geometry(
                _with_geometry(b, 0, b.geometry[0].representative_point()),
                1,
                shapely.force_3d(b.geometry[1], 120.0),
            ),
            p / "mixed.gpkg",
        ),
        flagged={0: "GEOMETRY_EMPTY"},
    )
    c["NaN coordinates"] = Case(
        lambda b, p: _geojson_with(b, p / "nan.geojson", lambda d: d["features"][2].update(
            geometry={"type": "Polygon", "coordinates": [[["NaN", 26.5], [117.6, 26.6],
                                                          [117.61, 26.51], ["NaN", 26.5]]]})),
        flagged={2: "GEOMETRY_EMPTY"},
    )  # fmt: skip
    c["nested GeoJSON properties"] = Case(
        lambda b, p: _geojson_with(b, p / "nested.geojson", lambda d: d["features"][0][
            "properties"].update(extra={"a": {"b": [1, 2]}})),
    )  # fmt: skip
    c["a huge polygon"] = Case(
        lambda b, p: _gpkg(
            _with_geometry(b, 3, shapely.box(117.0, 26.0, 118.0, 27.0)), p / "huge.gpkg"
        ),
        flagged={3: "PLOT_TOO_LARGE"},
    )
    # attributes
    c["path-like ids and a million-character attribute"] = Case(
        lambda b, p: _gpkg(
            b.assign(
                图斑编号=["../../etc/passwd", "/tmp/x", "a\\b", "..", "con", *b["图斑编号"][5:]],
                备注=["长" * 1_000_000, *b["备注"][1:]],
            ),
            p / "attrs.gpkg",
        ),
    )
    # files
    c["empty file"] = Case(
        lambda b, p: _raw(p / "empty.gpkg", b""),
        error=r"empty\.gpkg: the file is empty",
    )
    c["not a vector file"] = Case(
        lambda b, p: _raw(p / "junk.shp", b"\x00junk" * 50),
        error=r"junk\.shp: cannot be opened",
    )
    c["truncated GeoJSON"] = Case(
        lambda b, p: _raw(p / "cut.geojson", b.to_json().encode()[:900]),
        error=r"cut\.geojson: cannot be opened",
    )
    c["no features"] = Case(
        lambda b, p: _gpkg(b.iloc[:0], p / "none.gpkg"),
        error=r"none\.gpkg: no plot has a usable geometry",
    )
    c["wrong CRS"] = Case(
        lambda b, p: _gpkg(b.to_crs(32650).set_crs(4490, allow_override=True), p / "crs.gpkg"),
        error=r"crs\.gpkg: .*cannot belong to the declared CRS",
    )
    c["no .prj"] = Case(
        lambda b, p: (_shp(b.rename(columns=SHORT), p / "noprj.shp"),
                      p.joinpath("noprj.prj").unlink())[0],
        error=r"noprj\.shp: the layer has no coordinate reference system.*plots\.crs",
    )  # fmt: skip
    return c


CORPUS = _corpus()


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def corpus_root(tiny_world, tmp_path_factory):
    root = tmp_path_factory.mktemp("bad-inputs")
    decoy = root / "decoy"
    decoy.mkdir()
    (decoy / "notes").write_text("a user's file next to the run folders")
    (decoy / "plots.gpkg").write_bytes(b"not touched")
    before = _snapshot(decoy)
    yield root
    assert _snapshot(decoy) == before  # nothing outside output_dir changed


@pytest.mark.parametrize("name", list(CORPUS))
def test_bad_input__clear_error_or_every_record_kept_and_flagged(name, corpus_root, tiny_world):
    case = CORPUS[name]
    base = gpd.read_file(tiny_world / "plots.gpkg", layer="plots")
    folder = corpus_root / re.sub(r"\W+", "_", name)
    folder.mkdir()
    path = case.write(base, folder)
    opts = dict(case.settings)
    columns = ColumnMap(**opts.pop("columns", {}))
    settings = demo_settings(tiny_world, folder / "out", "tiny")
    settings = settings.model_copy(
        update={"plots": PlotSource(path=path, columns=columns, **opts), "layers": Layers()}
    )
    layout = RunLayout.of(settings.output_dir)
    result = CliRunner().invoke(
        app,
        ["step", "plan", "--view", plan_view(settings).params(),
         "--plots-out", str(layout.work_plots), "--items-out", str(layout.items),
         "--plan-out", str(layout.plan), "--ingest-out", str(layout.ingest_report)],
    )  # fmt: skip
    out = result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), out
    assert "Traceback" not in out
    if case.error:
        assert result.exit_code == 2, out
        lines = out.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), out
        assert re.search(case.error, lines[0]), lines[0]
        return
    assert result.exit_code == 0, out
    plots = gpd.read_parquet(layout.work_plots)
    assert list(plots["row"]) == list(range(len(base)))  # 0 records lost
    report = pd.read_csv(layout.ingest_report, encoding="utf-8-sig")
    for row, code in case.flagged.items():
        assert code in set(report.loc[report["row"] == row, "code"]), (row, code)


def test_bad_input__field_name_repairs_are_reported(corpus_root, tiny_world):
    """The cut and duplicate field names were read, mapped and reported in plan.json."""
    plans = {p.parent.parent.parent.name: p for p in corpus_root.glob("*/out/work/plan.json")}
    cut = json.loads(plans["utf8_chinese_field_names_cut_mid_character"].read_text("utf-8"))
    (info,) = cut["ingest"]["files"].values()
    assert any("cut mid-character" in w and "图斑编" in w for w in info["warnings"])
    assert cut["column_mapping"]
    dup = json.loads(plans["duplicate_field_names"].read_text("utf-8"))
    (info,) = dup["ingest"]["files"].values()
    assert any("occurs more than once" in w for w in info["warnings"])


def _tushu(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.workflow.cli", *args],
        cwd=cwd, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"plots": {"path": "plotz.gpkg"}}, r"plots\.path.*plotz\.gpkg does not exist"),
        ({"plots": {"path": "*.gpkg"}}, r"is a pattern; list the files under plots\.files"),
        ({"output_dir": "/"}, r"output_dir / is /"),
        ({"output_dir": "decoy"}, r"decoy is a non-empty folder that is not a Tushu run"),
    ],
)
def test_run__bad_paths_fail_before_snakemake_with_one_line(edit, message, corpus_root, tiny_world):
    raw = yaml.safe_load(
        (Path(__file__).parents[2] / "configs" / "demo.yaml").read_text(encoding="utf-8")
    )
    raw["imagery"]["catalog"] = str(tiny_world / "stac" / "catalog.json")
    raw["plots"]["path"] = str(tiny_world / "plots.gpkg")
    raw.pop("layers", None)
    raw["output_dir"] = "out"
    for key, value in edit.items():
        raw[key] = {**raw[key], **value} if isinstance(value, dict) else value
    cfg = corpus_root / "run.yaml"
    cfg.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    proc = _tushu("run", "--config", str(cfg), cwd=corpus_root)
    assert proc.returncode == 2 and "Traceback" not in proc.stdout + proc.stderr
    assert re.search(message, proc.stdout), proc.stdout
    assert "Snakemake" not in proc.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["make-world", "decoy"],
        ["demo", "--preset", "tiny", "--data-dir", "decoy", "--out", "demo-out"],
    ],
)
def test_demo_world__refuses_a_folder_of_the_users(args, corpus_root):
    proc = _tushu(*args, cwd=corpus_root)
    assert proc.returncode == 2 and "Traceback" not in proc.stdout + proc.stderr
    assert re.search(r"decoy is (not empty|a non-empty folder)", " ".join(proc.stdout.split()))

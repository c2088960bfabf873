"""World axes added for issue 8: planting season, a 4-band sensor, species growth, orchard and
bamboo starting land. Each test makes a tiny world with the axis set and finds its signal in the
written scenes, and checks that the classic presets stay as they were."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from rasterio import features

from pipeline.demo import PRESETS, make_world
from pipeline.demo.grid import CRS_UTM
from pipeline.demo.presets import VARIANTS, get_spec
from pipeline.demo.settings import demo_settings
from pipeline.demo.verify import check_world
from pipeline.errors import ConfigError

CLASSIC = ("default", "tiny", "south-shrub", "south-bare", "south-mixed", "south-cloudy")
CLASSIC += ("north-bare", "north-mixed", "north-sparse")
#: sha256 of tiny seed 0's truth.csv and of its first scene's NIR pixels, as made before the
#: axes existed; a deliberate change of the generator records them anew (and says so).
TINY_TRUTH_SHA_VALUE = "43babc0c34960023a2fad08d8128701ad166cb407331fda48d42ca4c3afd2ca2"
TINY_NIR_SHA_VALUE = "c172a78d17a24be9687af716df63807d54118ec3cd85571777f4b65eaa00e178"


def _world(tmp_path: Path, monkeypatch, name: str, **axes) -> Path:
    spec = replace(PRESETS["tiny"], name=name, **axes)
    monkeypatch.setitem(PRESETS, name, spec)
    return make_world(tmp_path / name, preset=name, seed=0).root


def _plot_ndvi(root: Path) -> pd.DataFrame:
    """Median clear NDVI of each plot (truth row) per date, from the written scenes; columns
    row, date, ndvi."""
    info = json.loads((root / "world.json").read_text(encoding="utf-8"))
    spec = info["spec"]
    rows, cols = spec["height_m"] // 10, spec["width_m"] // 10
    transform = rasterio.Affine(10.0, 0, spec["x0"], 0, -10.0, spec["y_top"])
    plots = gpd.read_file(root / "plots.gpkg", layer="plots").to_crs(CRS_UTM)
    truth = pd.read_csv(root / "truth.csv", keep_default_na=False)
    shapes = [(g, r) for g, r in zip(plots.geometry, truth["row"], strict=True) if g is not None]
    label = features.rasterize(
        [(g.buffer(-10), r + 1) for g, r in shapes if not g.buffer(-10).is_empty],
        (rows, cols),
        transform=transform,
        fill=0,
        dtype=np.int32,
    ).ravel()
    out = []
    for item in sorted((root / "stac").glob("S2_DEMO_*")):
        day = dt.datetime.strptime(item.name[-8:], "%Y%m%d").date()
        with rasterio.open(item / "red.tif") as r, rasterio.open(item / "nir.tif") as n:
            red, nir = r.read(1).astype(float), n.read(1).astype(float)
        with rasterio.open(item / "scl.tif") as s:
            scl = np.kron(s.read(1), np.ones((2, 2), np.uint8))
        ndvi = ((nir - red) / np.maximum(nir + red, 1)).ravel()
        ok = np.isin(scl.ravel(), (4, 5)) & (label > 0)
        frame = pd.DataFrame({"row": label[ok] - 1, "ndvi": ndvi[ok]})
        med = frame.groupby("row")["ndvi"].median()
        out.append(pd.DataFrame({"row": med.index, "date": pd.Timestamp(day), "ndvi": med.values}))
    return pd.concat(out, ignore_index=True)


def _window(series: pd.DataFrame, rows, start, end) -> pd.Series:
    """Median NDVI per plot row over dates start..end (inclusive)."""
    sel = series["row"].isin(rows) & series["date"].between(pd.Timestamp(start), pd.Timestamp(end))
    return series[sel].groupby("row")["ndvi"].median()


def test_world_spec__classic_presets_keep_the_old_axes() -> None:
    for name in CLASSIC:
        spec = get_spec(name)
        assert (spec.planting_season, spec.sensor, spec.species_mix) == ("spring", "s2", ())
        assert not {"orchard", "bamboo"} & set(dict(spec.land_mix))
    assert list(VARIANTS)[:7] == list(CLASSIC[2:])


def test_make_world__tiny_seed0_is_byte_identical_to_before_the_axes(tmp_path: Path) -> None:
    root = make_world(tmp_path, preset="tiny", seed=0).root
    truth = hashlib.sha256((root / "truth.csv").read_bytes()).hexdigest()
    with rasterio.open(root / "stac" / "S2_DEMO_20210101" / "nir.tif") as ds:
        nir = hashlib.sha256(ds.read(1).tobytes()).hexdigest()
    assert truth == TINY_TRUTH_SHA_VALUE
    assert nir == TINY_NIR_SHA_VALUE


@pytest.mark.parametrize(
    "axes, match",
    [
        ({"planting_season": "summer"}, "planting_season"),
        ({"sensor": "landsat"}, "sensor"),
        ({"species_mix": (("oak", 1.0),)}, "species_mix"),
        ({"land_mix": (("bamboo", 0.5), ("shrub", 0.5)), "climate": "north"}, "bamboo"),
        ({"land_mix": (("bamboo", 1.0),)}, "bamboo"),
    ],
)
def test_world_spec__bad_axis_names_the_fix(axes: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        replace(PRESETS["tiny"], **axes)


def test_planting_season__autumn_plantings_show_site_preparation_in_autumn(
    tmp_path: Path, monkeypatch
) -> None:
    root = _world(
        tmp_path, monkeypatch, "tiny-autumn", planting_season="autumn", start="2020-01-01",
        cloud_scale=0.5,
    )  # fmt: skip
    truth = pd.read_csv(root / "truth.csv", keep_default_na=False)
    planted = truth[truth["planting_date"] != ""]
    dates = pd.to_datetime(planted["planting_date"])
    assert dates.dt.month.isin([10, 11, 12]).all()
    assert set(dates.dt.year) == {2021, 2022}  # autumn before the claimed year, or of it
    assert (planted["planting_date"] < "2022-01-01").any()
    series = _plot_ndvi(root)
    genuine = truth[(truth["scenario"] == "GENUINE") & (truth["planting_date"] != "")]
    drops, calm = [], []
    for row, day in zip(genuine["row"], pd.to_datetime(genuine["planting_date"]), strict=True):
        year = pd.DateOffset(years=1)
        after = _window(series, [row], day + pd.Timedelta(days=5), day + pd.Timedelta(days=60))
        before = _window(
            series, [row], day + pd.Timedelta(days=5) - year, day + pd.Timedelta(days=60) - year
        )  # noqa: E501
        if len(after) and len(before):
            drops.append(float(after.iloc[0] - before.iloc[0]))
    unplanted = truth.loc[truth["scenario"] == "NO_PLANTING_EVIDENCE", "row"]
    for row in unplanted:  # same autumn windows, nothing done: no drop
        a = _window(series, [row], "2022-10-05", "2022-12-31")
        b = _window(series, [row], "2021-10-05", "2021-12-31")
        if len(a) and len(b):
            calm.append(float(a.iloc[0] - b.iloc[0]))
    assert len(drops) >= 5 and np.median(drops) < -0.12
    assert calm and max(abs(c) for c in calm) < 0.06
    assert check_world(root) == []


def test_sensor__wfv_world_has_no_swir_and_reads_as_local_files(
    tmp_path: Path, monkeypatch
) -> None:
    from pipeline.imagery.sources.local import LocalSource

    root = _world(tmp_path, monkeypatch, "tiny-wfv", sensor="wfv")
    assert not (root / "stac").exists()
    files = sorted((root / "scenes").glob("*.tif"))
    assert files and not any("swir" in f.name.lower() for f in files)
    data = [f for f in files if not f.name.endswith("_cloud.tif")]
    with rasterio.open(data[0]) as ds:
        assert ds.count == 4 and ds.res == (16.0, 16.0) and ds.dtypes[0] == "uint16"
    with rasterio.open(root / "scenes" / data[0].name.replace(".tif", "_cloud.tif")) as ds:
        assert set(np.unique(ds.read(1))) <= {0, 1, 2, 3, 4}
    settings = demo_settings(root, tmp_path / "out", "tiny-wfv")
    assert settings.imagery.source == "local"
    source = LocalSource(settings.imagery)
    assert set(source.missing_bands) == {"swir16", "swir22"}
    items = source.find_items((-180, -90, 180, 90), settings.imagery.start, settings.imagery.end)
    assert len(items) == len(data) and all("mask" in it.assets for it in items)
    info = json.loads((root / "world.json").read_text(encoding="utf-8"))
    assert info["sensor"] == "wfv" and info["n_items"] == len(data)
    assert check_world(root) == []


def test_sensor__s2_world_keeps_its_swir_bands_and_replaces_a_wfv_world(
    tmp_path: Path, monkeypatch
) -> None:
    root = make_world(tmp_path / "w", preset="tiny", seed=2).root
    assert not (root / "scenes").exists()
    assert list((root / "stac").glob("S2_DEMO_*/swir16.tif"))
    assert demo_settings(root, tmp_path / "out", "tiny").imagery.source == "stac"
    monkeypatch.setitem(
        PRESETS, "tiny-wfv", replace(PRESETS["tiny"], name="tiny-wfv", sensor="wfv")
    )
    make_world(root, preset="tiny-wfv", seed=2)
    assert (root / "scenes" / "scenes.yaml").is_file() and not (root / "stac").exists()
    make_world(root, preset="tiny", seed=2)
    assert (root / "stac" / "catalog.json").is_file() and not (root / "scenes").exists()


def test_land__orchard_is_drier_than_bamboo_and_bamboo_claims_are_forest(
    tmp_path: Path, monkeypatch
) -> None:
    mix = (("orchard", 0.5), ("bamboo", 0.25), ("shrub", 0.25))
    root = _world(tmp_path, monkeypatch, "tiny-bamboo", land_mix=mix, cloud_scale=0.5)
    truth = pd.read_csv(root / "truth.csv", keep_default_na=False)
    bamboo, orchard = truth[truth["land"] == "bamboo"], truth[truth["land"] == "orchard"]
    assert len(bamboo) >= 2 and len(orchard) >= 3
    assert (bamboo["reasons"] == "PRE_EXISTING_FOREST").all()
    assert (bamboo["planted_share"] == 0).all()
    series = _plot_ndvi(root)
    dry_bamboo = _window(series, bamboo["row"], "2021-01-01", "2021-02-28")  # before planting
    dry_orchard = _window(series, orchard["row"], "2021-01-01", "2021-02-28")
    dry_shrub = _window(
        series, truth.loc[truth["land"] == "shrub", "row"], "2021-01-01", "2021-02-28"
    )  # noqa: E501
    assert dry_bamboo.min() > dry_orchard.max() + 0.15
    assert dry_bamboo.min() > 0.7
    assert dry_orchard.median() < dry_shrub.median()  # bare soil between the rows
    # orchards under a genuine claim are cleared: just after planting, lower than a year before
    drops = []
    genuine = orchard[(orchard["scenario"] == "GENUINE") & (orchard["planting_date"] != "")]
    for row, day in zip(genuine["row"], pd.to_datetime(genuine["planting_date"]), strict=True):
        after = _window(series, [row], day + pd.Timedelta(days=5), day + pd.Timedelta(days=50))
        year = pd.DateOffset(years=1)
        before = _window(
            series, [row], day + pd.Timedelta(days=5) - year, day + pd.Timedelta(days=50) - year
        )  # noqa: E501
        if len(after) and len(before):
            drops.append(float(after.iloc[0] - before.iloc[0]))
    assert len(drops) >= 3 and max(drops) < -0.05, drops  # a modest drop: a third was trees
    assert check_world(root) == []


def test_species__fast_species_close_sooner_than_slow_ones(tmp_path: Path, monkeypatch) -> None:
    mix = (("桉树", 0.5), ("木荷", 0.5))
    root = _world(tmp_path, monkeypatch, "tiny-species", species_mix=mix, cloud_scale=0.5)
    truth = pd.read_csv(root / "truth.csv", keep_default_na=False)
    plots = gpd.read_file(root / "plots.gpkg", layer="plots")
    truth["species"] = plots["树种"].to_numpy()
    assert set(truth["species"]) == {"桉树", "木荷"}
    genuine = truth[(truth["scenario"] == "GENUINE") & (truth["planting_date"] != "")]
    fast = genuine.loc[genuine["species"] == "桉树", "row"]
    slow = genuine.loc[genuine["species"] == "木荷", "row"]
    assert len(fast) >= 2 and len(slow) >= 2
    series = _plot_ndvi(root)
    late_fast = _window(series, fast, "2023-10-01", "2023-12-31").median()
    late_slow = _window(series, slow, "2023-10-01", "2023-12-31").median()
    early_fast = _window(series, fast, "2021-01-01", "2021-12-31").median()
    early_slow = _window(series, slow, "2021-01-01", "2021-12-31").median()
    assert late_fast > late_slow + 0.1  # planted signal: eucalyptus closes in ~2 years
    assert abs(early_fast - early_slow) < 0.06  # before planting they do not differ


def test_plan_plots__mixed_season_plants_in_spring_and_autumn() -> None:
    from pipeline.demo.plots import plan_plots

    def months(season: str) -> set[int]:
        spec = replace(PRESETS["default"], planting_season=season)
        plots = plan_plots(spec, np.random.default_rng(5))
        return {p.plant.month for p in plots if p.plant is not None}

    assert months("mixed") & {1, 2, 3, 4} and months("mixed") & {10, 11, 12}
    assert months("spring") <= {1, 2, 3, 4}
    assert months("autumn") <= {10, 11, 12}


def test_print_by_land__names_new_land_classes_sensor_and_season(tmp_path: Path, capsys) -> None:
    from pipeline.workflow.cli_evidence import print_by_land

    info = {"climate": "south", "sensor": "wfv", "planting_season": "autumn"}
    (tmp_path / "world.json").write_text(json.dumps(info), encoding="utf-8")
    genuine = {"n": 3, "inconsistent": 0.0, "suspect": 0.0}
    report = {
        "by_land": {
            "orchard": {"n_plots": 3, "reasons": {}, "genuine": genuine},
            "bamboo": {
                "n_plots": 2,
                "reasons": {"PRE_EXISTING_FOREST": {"true": 2, "found": 2}},
                "genuine": {**genuine, "n": 0},
            },
        }
    }
    print_by_land(report, tmp_path / "world.json")
    out = capsys.readouterr().out
    assert "sensor: wfv" in out and "planting season: autumn" in out
    assert "orchard" in out and "bamboo" in out
    (tmp_path / "world.json").write_text(json.dumps({"climate": "north"}), encoding="utf-8")
    print_by_land(report, tmp_path / "world.json")  # only what the world states, no default
    out = capsys.readouterr().out
    assert "climate: north" in out and "sensor" not in out and "planting season" not in out

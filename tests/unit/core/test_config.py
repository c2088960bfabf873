from __future__ import annotations

import pytest
import yaml

from pipeline.config import dump_settings, load_settings, settings_from_mapping
from pipeline.demo.settings import demo_settings
from pipeline.errors import ConfigError
from tests.paths import REPO_ROOT

ROOT = REPO_ROOT


def _minimal() -> dict:
    return {
        "output_dir": "results/x",
        "plots": {"path": "plots.gpkg"},
        "imagery": {"catalog": "stac/catalog.json", "start": "2021-01-01", "end": "2023-12-31"},
    }


def test_settings__minimal_config_gets_defaults():
    s = settings_from_mapping(_minimal())
    assert s.desk.min_area_mu == 1.0
    assert s.imagery.scl_mask_classes == (0, 1, 3, 8, 9, 10, 11)
    assert s.layers.prior is None


def test_settings__unknown_key_is_named():
    raw = _minimal()
    raw["desk"] = {"min_area_muu": 2}
    with pytest.raises(ConfigError, match=r"desk\.min_area_muu"):
        settings_from_mapping(raw)


def test_settings__bad_value_is_named():
    raw = _minimal()
    raw["imagery"]["resolution"] = -10
    with pytest.raises(ConfigError, match=r"imagery\.resolution"):
        settings_from_mapping(raw)


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [
        ("resolution", 0.01, r"imagery\.resolution"),
        ("tile_size_m", 1e9, r"imagery\.tile_size_m"),
        ("max_tile_pixels", 10, r"imagery\.max_tile_pixels"),
    ],
)
def test_settings__limits_refuse_a_grid_that_cannot_fit_in_memory(key, value, named):
    raw = _minimal()
    raw["imagery"][key] = value
    with pytest.raises(ConfigError, match=named):
        settings_from_mapping(raw)


def test_settings__a_tile_larger_than_max_tile_pixels_names_the_fix():
    raw = _minimal()
    raw["imagery"].update(tile_size_m=20_000, resolution=2)
    with pytest.raises(ConfigError, match="make tile_size_m smaller"):
        settings_from_mapping(raw)
    raw["imagery"]["max_tile_pixels"] = 100_000_000
    assert settings_from_mapping(raw).imagery.max_tile_pixels == 100_000_000


def test_settings__missing_key_is_named():
    raw = _minimal()
    del raw["output_dir"]
    with pytest.raises(ConfigError, match=r"output_dir"):
        settings_from_mapping(raw)


def test_settings__end_before_start_is_refused():
    raw = _minimal()
    raw["imagery"]["end"] = "2020-01-01"
    with pytest.raises(ConfigError, match=r"imagery\.end"):
        settings_from_mapping(raw)


def test_settings__are_frozen():
    s = settings_from_mapping(_minimal())
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen error
        s.desk.min_area_mu = 3  # type: ignore[misc]


def test_load_settings__missing_file_says_so(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.yaml")


def test_dump_settings__round_trips(tmp_path):
    s = demo_settings(tmp_path / "data/demo", tmp_path / "results/demo")
    dump_settings(s, tmp_path / "c.yaml")
    assert load_settings(tmp_path / "c.yaml") == s


def test_demo_config_file__matches_the_demo_preset():
    """configs/demo.yaml is what `tushu demo` runs (default preset, seed 0)."""
    shipped = load_settings(ROOT / "configs" / "demo.yaml")
    assert shipped == demo_settings(ROOT / "data/demo", ROOT / "results/demo")


def test_load_settings__relative_paths_are_taken_from_the_config_folder(tmp_path, monkeypatch):
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "run.yaml").write_text(yaml.safe_dump(_minimal()), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    s = load_settings("cfg/run.yaml")
    assert s.output_dir == tmp_path / "cfg" / "results/x"
    assert s.plots.path == tmp_path / "cfg" / "plots.gpkg"
    assert s.imagery.catalog == str(tmp_path / "cfg" / "stac/catalog.json")


def test_load_settings__url_catalog_is_kept(tmp_path):
    raw = _minimal()
    raw["imagery"]["catalog"] = "https://example.org/stac/catalog.json"
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    assert load_settings(tmp_path / "c.yaml").imagery.catalog == raw["imagery"]["catalog"]


def test_load_settings__gbk_file_names_the_fix(tmp_path):
    text = yaml.safe_dump({**_minimal(), "output_dir": "结果"}, allow_unicode=True)
    (tmp_path / "c.yaml").write_bytes(text.encode("gbk"))
    with pytest.raises(ConfigError, match="UTF-8"):
        load_settings(tmp_path / "c.yaml")


def test_settings__run_options_in_their_old_place_are_moved():
    raw = _minimal()
    raw["imagery"].update(date_chunk=5, cache="on", cache_dir="cache")
    s = settings_from_mapping(raw)
    assert s.run.date_chunk == 5 and s.run.cache == "on" and s.run.cache_dir.is_absolute()
    raw["run"] = {"date_chunk": 7}
    with pytest.raises(ConfigError, match="both imagery and run"):
        settings_from_mapping(raw)


def test_science_hash__ignores_run_options_and_sees_science():
    s = settings_from_mapping(_minimal())
    faster = s.model_copy(update={"run": s.run.model_copy(update={"date_chunk": 99})})
    stricter = s.model_copy(update={"desk": s.desk.model_copy(update={"min_area_mu": 2.0})})
    assert faster.science_hash() == s.science_hash() != stricter.science_hash()


def test_config_files__all_validate():
    for path in (ROOT / "configs").glob("*.yaml"):
        assert yaml.safe_load(path.read_text(encoding="utf-8"))
        load_settings(path)

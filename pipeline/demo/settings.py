"""Ready-made run settings: the configuration of a run on a demo world."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pipeline.config import (
    ColumnMap,
    Imagery,
    Layers,
    LayerSource,
    LocalOptions,
    PlotSource,
    Settings,
)
from pipeline.demo.presets import get_spec

DEMO_PERIODS = {
    "default": (date(2021, 1, 1), date(2024, 12, 31)),
    "tiny": (date(2021, 1, 1), date(2023, 12, 31)),
}


def demo_settings(world_dir: Path, output_dir: Path, preset: str = "default") -> Settings:
    """Settings for a run on a demo world written by :func:`pipeline.demo.make_world` (a
    ``wfv``-sensor world is read as local files from its ``scenes/`` folder).

    Paths are kept as given (absolute paths make a config valid from any folder).
    """
    world_dir = Path(world_dir)
    spec = get_spec(preset)
    start, end = DEMO_PERIODS.get(preset, (None, None))
    if start is None:
        start, end = date.fromisoformat(spec.start), date.fromisoformat(spec.end)
    if spec.sensor == "wfv":  # 4 bands and a cloud mask in a local-files folder
        imagery = Imagery(
            source="local", local=LocalOptions(path=world_dir / "scenes"), start=start, end=end
        )
    else:
        imagery = Imagery(catalog=str(world_dir / "stac" / "catalog.json"), start=start, end=end)
    return Settings(
        output_dir=Path(output_dir),
        plots=PlotSource(path=world_dir / "plots.gpkg", layer="plots", columns=ColumnMap()),
        layers=Layers(
            prior=LayerSource(
                path=world_dir / "prior_plots.gpkg",
                layer="prior_plots",
                id_column="图斑编号",
                year_column="造林年度",
            ),
            region=LayerSource(
                path=world_dir / "counties.gpkg",
                layer="counties",
                name_column="县名",
                code_column="县代码",
            ),
            restricted=LayerSource(path=world_dir / "farmland.gpkg", layer="farmland"),
        ),
        imagery=imagery,
    )

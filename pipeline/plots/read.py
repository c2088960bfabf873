"""Read every configured plot file into one standard plot table, with its ingest log."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pyogrio
import pyproj

from pipeline.config import LayerSource, PlotSource
from pipeline.plots.crs_checks import check_against_region
from pipeline.plots.ingest import IngestLog
from pipeline.plots.normalize import combine_plots, normalize_plots
from pipeline.plots.vector import ReadInfo, file_checksum, read_vector


@dataclass
class PlotInput:
    """The combined plot table, what was found on the way, and how each file was read."""

    plots: gpd.GeoDataFrame
    log: IngestLog
    files: list[ReadInfo]

    def plan_record(self) -> dict:
        """What ``plan.json`` records about the plot input (files, mapping, ingest counts)."""
        files = [
            {**{k: v for k, v in f.as_dict().items() if k != "out_of_crs"},
             "n_out_of_crs": len(f.out_of_crs), "sha256": file_checksum(f.path)}
            for f in self.files
        ]  # fmt: skip
        return {
            "plots": {
                "path": files[0]["path"] if len(files) == 1 else [f["path"] for f in files],
                "sha256": files[0]["sha256"] if len(files) == 1 else [f["sha256"] for f in files],
                "files": files,
                "crs": self.plots.crs.to_string(),
            },
            "column_mapping": self.log.mapping,
            "ingest": self.log.counts(),
        }


def read_plots(source: PlotSource, region: LayerSource | None = None) -> PlotInput:
    """Read, check and normalise every plot file in config order; one row per record.

    With a region layer configured, each file's plots must lie near it (a wrong
    Gauss-Krüger zone is caught here, before imagery is searched in the wrong place).
    """
    log = IngestLog()
    tables, infos = [], []
    region_box = _lonlat_bounds(region) if region is not None else None
    entries = source.plot_files()
    for k, f in enumerate(entries):
        key = "plots." if not source.files else f"plots.files[{k}]."
        raw, info = read_vector(f.path, f.layer, f.encoding, f.crs, bool(f.swap_xy), key=key)
        if region_box is not None and np.all(np.isfinite(region_box)):
            check_against_region(raw.geometry.values, raw.crs, region_box, str(f.path), key)
        tables.append(normalize_plots(raw, source, f, log, info.out_of_crs))
        log.files[str(f.path)] = {"encoding": info.encoding, "crs": info.crs,
                                  "crs_source": info.crs_source, "format": info.format,
                                  "layer": info.layer, "records": info.n_records,
                                  "records_with_z": info.had_z,
                                  "swapped_xy": info.swapped_xy,
                                  "warnings": info.warnings}  # fmt: skip
        infos.append(info)
    return PlotInput(combine_plots(tables), log, infos)


def _lonlat_bounds(region: LayerSource) -> tuple[float, float, float, float] | None:
    """The region layer's extent in lon/lat from its metadata (no features read)."""
    try:
        info = pyogrio.read_info(region.path, layer=region.layer)
    except Exception:  # noqa: BLE001 - the desk step reports an unreadable layer
        return None
    crs = region.crs or info.get("crs")
    bounds = info.get("total_bounds")
    if crs is None or bounds is None:
        return None
    t = pyproj.Transformer.from_crs(crs, 4326, always_xy=True)
    return tuple(float(v) for v in t.transform_bounds(*bounds))

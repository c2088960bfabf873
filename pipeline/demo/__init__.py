"""Seeded synthetic demo world: Sentinel-2-like imagery, reported plots and their truth."""

from __future__ import annotations

from pipeline.demo.presets import PRESETS, WorldSpec
from pipeline.demo.world import WorldPaths, make_world

__all__ = ["PRESETS", "WorldPaths", "WorldSpec", "make_world"]

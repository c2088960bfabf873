"""Tushu (图数): check reported afforestation plots (图斑) against Sentinel-2 imagery."""

from __future__ import annotations

__version__ = "0.1.0"

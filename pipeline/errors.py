"""The one project exception and its kinds; every message says what to change."""

from __future__ import annotations


class TushuError(Exception):
    """Base of every error Tushu raises on purpose."""


class ConfigError(TushuError):
    """The run configuration is invalid; the message names the key."""


class PlotDataError(TushuError):
    """A plot layer (or a reference layer) cannot be read as given."""


class ImageryError(TushuError):
    """Imagery cannot be found, opened or loaded."""

"""Atomic writes keep the umask's permissions (a temp file alone would be owner-only)."""

from __future__ import annotations

import os
import stat

import numpy as np
import pandas as pd
import pytest

from pipeline.files import write_json, write_table
from pipeline.imagery.cache import PieceCache


@pytest.fixture(params=[0o022, 0o002, 0o077])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_write_atomic__follows_the_umask(tmp_path, umask):
    write_json(tmp_path / "run.json", {"a": 1})
    write_table(pd.DataFrame({"a": [1]}), tmp_path / "summary.csv")
    write_table(pd.DataFrame({"a": [1]}), tmp_path / "plots.parquet")
    for name in ("run.json", "summary.csv", "plots.parquet"):
        assert _mode(tmp_path / name) == 0o666 & ~umask, name


def test_piece_cache__entries_follow_the_umask_so_a_group_can_share_them(tmp_path, umask):
    cache = PieceCache(tmp_path / "cache")
    cache.put("ab12", np.ones((2, 2), dtype="float32"))
    path = cache.path_of("ab12")
    assert _mode(path) == 0o666 & ~umask
    assert _mode(path.parent) == 0o777 & ~umask
    if umask == 0o002:
        assert _mode(path) & stat.S_IWGRP  # group members may refresh a damaged entry

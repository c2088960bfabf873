"""Writing files safely: atomically (readers never see half a file), as UTF-8, with the
permissions the umask gives (a temporary file from :mod:`tempfile` is owner-only, ``0600``)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd


def current_umask() -> int:
    """The process umask, read without changing it (``/proc``) where possible."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)  # not thread-safe; only where /proc is absent
    os.umask(mask)
    return mask


def make_temp(folder: Path, prefix: str, suffix: str = "") -> tuple[int, str]:
    """``tempfile.mkstemp`` in ``folder``, but with the mode a new file gets under the umask
    (``0666 & ~umask``), so the file moved into place is readable as the user expects."""
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=prefix, suffix=suffix)
    os.fchmod(fd, 0o666 & ~current_umask())
    return fd, tmp


def write_atomic(path: Path, write) -> None:
    """Call ``write(tmp_path)`` then move the file into place, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = make_temp(path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_json(path: Path, data: Any) -> None:
    """Pretty UTF-8 JSON, atomically."""
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    write_atomic(Path(path), lambda p: p.write_text(text, encoding="utf-8"))


def write_table(df: pd.DataFrame, path: Path) -> None:
    """Parquet or CSV (UTF-8 with BOM, so Excel shows Chinese) by the file's suffix."""
    path = Path(path)
    if path.suffix == ".parquet":
        write_atomic(path, lambda p: df.to_parquet(p, index=False))
    else:
        write_atomic(path, lambda p: df.to_csv(p, index=False, encoding="utf-8-sig"))

"""On-disk cache of downloaded imagery pieces, written atomically and verified on read.

A piece is one date of one area (a tile's grid) for a set of bands from one source, stored as
an ``.npz`` holding the array and its SHA-256. Writes go to a temporary file in the same folder
and are moved into place with ``os.replace`` (atomic on POSIX and Windows), so an interrupted
run leaves either a complete entry or none; an entry whose checksum does not match (a disk
fault, a hand edit) is deleted and fetched again, never trusted.

Entries and their folders get the umask's permissions: with ``umask 002`` (and a group-owned,
setgid cache folder) a cache is shared by a group.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.files import make_temp

LOG = logging.getLogger(__name__)


def cache_key(source: str, area: Any, date: str, bands: tuple[str, ...], extra: Any = None) -> str:
    """Hex key of (source, area, date, bands): ``area`` is any JSON-able grid description."""
    text = json.dumps(
        {"source": source, "area": area, "date": date, "bands": list(bands), "extra": extra},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _digest(arr: np.ndarray) -> str:
    h = hashlib.sha256(np.ascontiguousarray(arr).tobytes())
    h.update(f"{arr.dtype.str}{arr.shape}".encode())
    return h.hexdigest()


class PieceCache:
    """A folder of cached pieces; ``root=None`` disables caching (every get misses)."""

    def __init__(self, root: Path | None):
        self.root = Path(root) if root is not None else None
        self.hits = 0
        self.writes = 0

    def path_of(self, key: str) -> Path:
        assert self.root is not None
        return self.root / key[:2] / f"{key}.npz"

    def get(self, key: str) -> np.ndarray | None:
        """The cached array, or None when absent or not intact (then the entry is removed)."""
        if self.root is None:
            return None
        path = self.path_of(key)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                arr = z["data"]
                ok = str(z["sha256"]) == _digest(arr)
        except Exception:  # noqa: BLE001 - any unreadable file is a miss
            ok = False
        if not ok:
            LOG.warning("cache entry %s is damaged; fetching it again", path.name)
            path.unlink(missing_ok=True)
            return None
        self.hits += 1
        return arr

    def put(self, key: str, arr: np.ndarray) -> None:
        """Store ``arr`` atomically (temp file + fsync + ``os.replace``)."""
        if self.root is None:
            return
        path = self.path_of(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = make_temp(path.parent, prefix=".tmp-", suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez_compressed(fh, data=arr, sha256=np.array(_digest(arr)))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.writes += 1


@dataclass
class FetchReport:
    """What loading a tile did: dates fetched, read from the cache, skipped (with the error)."""

    fetched: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def to_json(self) -> dict:
        return {
            "n_fetched": len(self.fetched),
            "n_cached": len(self.cached),
            "skipped_scenes": dict(sorted(self.skipped.items())),
        }


class MemoryCache(PieceCache):
    """An in-memory front over another cache: ``memory`` (a dict shared across calls, kept to
    its ``size`` most recent pieces) answers repeated reads of a piece in one process, e.g.
    the chips of several plots of one tile read each date once."""

    def __init__(self, inner: PieceCache, memory: dict, size: int = 256):
        super().__init__(None)
        self.inner, self.memory, self.size = inner, memory, size

    def get(self, key: str) -> np.ndarray | None:
        arr = self.memory.pop(key, None)
        if arr is None:
            arr = self.inner.get(key)
        if arr is not None:
            self._keep(key, arr)
        return arr

    def put(self, key: str, arr: np.ndarray) -> None:
        self.inner.put(key, arr)
        self._keep(key, arr)

    def _keep(self, key: str, arr: np.ndarray) -> None:
        self.memory[key] = arr  # dicts keep insertion order: the oldest piece goes first
        while len(self.memory) > self.size:
            self.memory.pop(next(iter(self.memory)))

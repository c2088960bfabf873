"""The piece cache: atomic writes, verified reads, damaged entries never trusted."""

from __future__ import annotations

import numpy as np

from pipeline.imagery.cache import MemoryCache, PieceCache, cache_key


def test_cache_key__depends_on_every_part():
    base = ("s", {"crs": "EPSG:32650"}, "2022-01-01", ("red",))
    keys = {
        cache_key(*base),
        cache_key("t", *base[1:]),
        cache_key(base[0], {"crs": "EPSG:32651"}, *base[2:]),
        cache_key(*base[:2], "2022-01-02", base[3]),
        cache_key(*base[:3], ("red", "nir")),
    }
    assert len(keys) == 5


def test_cache__round_trip_and_disabled(tmp_path):
    cache = PieceCache(tmp_path)
    arr = np.arange(12, dtype="float32").reshape(3, 4)
    assert cache.get("ab12") is None
    cache.put("ab12", arr)
    np.testing.assert_array_equal(cache.get("ab12"), arr)
    assert not list(tmp_path.rglob(".tmp-*"))  # no temporary file left behind
    off = PieceCache(None)
    off.put("ab12", arr)
    assert off.get("ab12") is None


def test_cache__torn_or_damaged_entry_is_refetched_not_trusted(tmp_path):
    cache = PieceCache(tmp_path)
    arr = np.ones((2, 8, 8), dtype="float32")
    cache.put("cd34", arr)
    path = cache.path_of("cd34")
    path.write_bytes(path.read_bytes()[:100])  # as if a crash had torn it
    assert cache.get("cd34") is None and not path.exists()
    cache.put("cd34", arr)
    np.testing.assert_array_equal(cache.get("cd34"), arr)
    with path.open("wb") as f:  # content and checksum disagree
        np.savez(f, data=arr * 2, sha256=np.array("0" * 64))
    assert cache.get("cd34") is None and not path.exists()


def test_memory_cache__keeps_recent_pieces_within_count_and_bytes(tmp_path):
    inner = PieceCache(tmp_path)
    memory: dict = {}
    piece = np.zeros((2, 4, 4), dtype="float32")  # 128 bytes
    small = MemoryCache(inner, memory, size=3)
    for i in range(5):
        small.put(f"k{i}", piece + i)
    assert list(memory) == ["k2", "k3", "k4"]
    assert small.get("k0")[0, 0, 0] == 0  # evicted from memory, still on disk
    assert list(memory) == ["k3", "k4", "k0"]
    bounded = MemoryCache(inner, memory, size=10, max_bytes=2 * piece.nbytes)
    bounded.put("k5", piece + 5)
    assert list(memory) == ["k0", "k5"]

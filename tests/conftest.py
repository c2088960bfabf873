"""Shared fixtures: no test may reach the internet; seeded synthetic inputs."""

from __future__ import annotations

import socket

import pytest

_real_connect = socket.socket.connect


def _guarded_connect(self, address):  # noqa: ANN001
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and not (
        host.startswith("127.") or host in ("localhost", "::1") or host.startswith("/")
    ):
        raise RuntimeError(f"tests must not reach the network (tried {address!r})")
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def block_network(monkeypatch):
    """Refuse every non-loopback connection, like torchgeo's download blocker."""
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)

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


@pytest.fixture(scope="session")
def tiny_world(tmp_path_factory):
    """The tiny demo world (seed 3), generated once per session."""
    from pipeline.demo import make_world

    root = tmp_path_factory.mktemp("tiny-world")
    make_world(root, preset="tiny", seed=3)
    return root


@pytest.fixture(scope="session")
def standin(tiny_world):
    """A loopback stand-in for the STAC API and Sentinel Hub serving the tiny world."""
    from pipeline.testing.standin import StandIn

    server = StandIn(tiny_world / "stac" / "catalog.json")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sh_env(monkeypatch, standin):
    """Stand-in credentials in the environment; OAuth over plain http on the loopback only."""
    from pipeline.imagery.sources.sentinelhub import reset_sessions
    from pipeline.testing.standin import CLIENT_ID, CLIENT_SECRET

    monkeypatch.setenv("SH_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("SH_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    reset_sessions()
    standin.faults.clear()
    yield standin
    standin.faults.clear()
    reset_sessions()


def pytest_collection_modifyitems(config, items):
    """Tests under tests/integration/ carry the ``integration`` marker (``-m "not integration"``
    runs the fast unit tests alone)."""
    for item in items:
        if "integration" in item.path.parts:
            item.add_marker(pytest.mark.integration)


def run_tiny(world, out, imagery: dict | None = None, **evidence):
    """A finished run of the tiny world in ``out`` (steps in process, settings.yaml written as
    `tushu run` does), with ``imagery`` keys and ``evidence`` thresholds replaced."""
    from pipeline.config import Evidence, Imagery, dump_settings
    from pipeline.demo.settings import demo_settings
    from pipeline.layout import RunLayout
    from pipeline.workflow.inprocess import run_in_process

    settings = demo_settings(world, out, preset="tiny")
    ev = Evidence.model_validate({**settings.evidence.model_dump(), **evidence})
    img = Imagery.model_validate({**settings.imagery.model_dump(), **(imagery or {})})
    settings = settings.model_copy(update={"evidence": ev, "imagery": img})
    out.mkdir(parents=True, exist_ok=True)
    dump_settings(settings, RunLayout.of(out).settings)
    run_in_process(settings)
    return out


@pytest.fixture(scope="session")
def tiny_run(tiny_world, tmp_path_factory):
    """A finished run (output folder) on the tiny world, made once per session; read-only."""
    return run_tiny(tiny_world, tmp_path_factory.mktemp("tiny-run") / "results")

"""A finished tiny run prepared for the review app, users, and the app on a loopback server."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

import geopandas as gpd

from pipeline.codes import REASONS, split_reasons
from pipeline.layout import RunLayout
from pipeline.review.auth import hash_password
from pipeline.review.store import ReviewStore

SCRIPT_ID = "<script>alert(1)</script>"
"""The id given to plot row 0: it must show as text everywhere."""
USERS = {"vera": "verifier", "vince": "verifier", "sue": "senior", "ada": "admin"}
PASSWORD = "correct horse 1"


def copy_for_review(run: Path, dest: Path) -> Path:
    """A writable copy of the finished run ``run`` with plot row 0's id set to
    :data:`SCRIPT_ID` and the review users created (password :data:`PASSWORD`)."""
    shutil.copytree(run, dest)
    layout = RunLayout.of(dest)
    plots = gpd.read_parquet(layout.plots_parquet)
    plots.loc[plots["row"] == 0, "plot_id"] = SCRIPT_ID
    plots.to_parquet(layout.plots_parquet, index=False)
    store = ReviewStore(layout.review_db)
    for name, role in USERS.items():
        store.add_user(name, role, hash_password(PASSWORD))
    return dest


def flagged_row(run: Path) -> int:
    """A plot (not row 0) flagged by an imagery rule (so its trace has a rule that fired)."""
    plots = gpd.read_parquet(RunLayout.of(run).plots_parquet)
    imagery = plots["reasons"].map(
        lambda t: any(REASONS[c].stage == "imagery" for c in split_reasons(t))
    )
    ok = imagery & (plots["status"] != "insufficient_data") & (plots["row"] != 0)
    return int(plots.loc[ok, "row"].iloc[0])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    """uvicorn serving ``app`` on 127.0.0.1 in a thread (``url``; ``stop()``)."""

    def __init__(self, app) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> AppServer:
        self.thread.start()
        for _ in range(200):
            if self.server.started:
                return self
            time.sleep(0.05)
        raise RuntimeError("the review app did not start")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

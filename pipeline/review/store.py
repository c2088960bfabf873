"""The review database: users, decisions with versions, samples, assignments, append-only log.

SQLite in WAL mode (readers never block the writer); every statement is parameterised. A
decision is stored per plot ``row`` and slot (初审 / 复审 / 裁定) with a version number: a write
names the version it replaces, and a write against a version that has moved on is refused with
:class:`DecisionConflict` (nobody's update is silently lost). Every write and every refused
write is appended to ``log``, which triggers keep append-only.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from pipeline.errors import TushuError
from pipeline.review.vocabulary import CONFIDENCE, DECISIONS, ROLES, SLOTS

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
  name TEXT PRIMARY KEY,
  role TEXT NOT NULL,
  pw_hash TEXT NOT NULL,
  created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS decisions (
  row INTEGER NOT NULL,
  slot TEXT NOT NULL,
  plot_id TEXT,
  decision TEXT NOT NULL,
  reasons TEXT NOT NULL DEFAULT '',
  comment TEXT NOT NULL DEFAULT '',
  confidence TEXT NOT NULL DEFAULT '',
  user TEXT NOT NULL,
  at TEXT NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (row, slot)
);
CREATE TABLE IF NOT EXISTS samples (
  row INTEGER NOT NULL,
  kind TEXT NOT NULL,
  PRIMARY KEY (row, kind)
);
CREATE TABLE IF NOT EXISTS assignments (row INTEGER PRIMARY KEY, user TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  user TEXT NOT NULL,
  action TEXT NOT NULL,
  row INTEGER,
  plot_id TEXT,
  slot TEXT,
  old TEXT,
  new TEXT,
  run_id TEXT,
  model_version TEXT,
  items TEXT
);
CREATE TRIGGER IF NOT EXISTS log_no_update BEFORE UPDATE ON log
  BEGIN SELECT RAISE(ABORT, 'the decision log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS log_no_delete BEFORE DELETE ON log
  BEGIN SELECT RAISE(ABORT, 'the decision log is append-only'); END;
"""


class ReviewError(TushuError):
    """A review request that cannot be carried out as given."""


class DecisionConflict(ReviewError):
    """Someone else changed the decision since the form was opened."""

    def __init__(self, current: Decision | None) -> None:
        who = f"{current.user} ({current.at})" if current else "another reviewer"
        super().__init__(
            f"{who} changed this decision while you were reviewing; your decision was not "
            "saved. Check their decision below and submit again to replace it."
        )
        self.current = current


@dataclass(frozen=True)
class Decision:
    """One slot's decision on one plot (``row`` is the plot's position in the run)."""

    row: int
    slot: str
    decision: str
    reasons: tuple[str, ...] = ()
    comment: str = ""
    confidence: str = ""
    user: str = ""
    at: str = ""
    version: int = 0
    plot_id: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "decision": self.decision,
            "reasons": list(self.reasons),
            "comment": self.comment,
            "confidence": self.confidence,
            "user": self.user,
            "at": self.at,
            "version": self.version,
        }


@dataclass(frozen=True)
class Context:
    """What the reviewer had in front of them (stored with every log entry)."""

    run_id: str = ""
    model_version: str = ""
    items: tuple[str, ...] = field(default_factory=tuple)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _decision(r: sqlite3.Row) -> Decision:
    return Decision(
        row=r["row"],
        slot=r["slot"],
        decision=r["decision"],
        reasons=tuple(c for c in r["reasons"].split(";") if c),
        comment=r["comment"],
        confidence=r["confidence"],
        user=r["user"],
        at=r["at"],
        version=r["version"],
        plot_id=r["plot_id"],
    )


class ReviewStore:
    """The review database at ``path`` (created with its schema on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=30)
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(SCHEMA)
        finally:
            con.close()

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection in one transaction (committed on success, rolled back on error)."""
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        con.row_factory = sqlite3.Row
        con.execute("PRAGMA busy_timeout=30000")
        try:
            con.execute("BEGIN IMMEDIATE")
            yield con
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
        finally:
            con.close()

    # -- meta ---------------------------------------------------------------------------
    def secret(self) -> str:
        """The session-signing key, made once per database."""
        with self.connect() as con:
            r = con.execute("SELECT value FROM meta WHERE key = 'secret'").fetchone()
            if r:
                return r["value"]
            value = secrets.token_urlsafe(32)
            con.execute("INSERT INTO meta (key, value) VALUES ('secret', ?)", (value,))
            return value

    # -- users --------------------------------------------------------------------------
    def add_user(self, name: str, role: str, pw_hash: str, replace: bool = False) -> None:
        if role not in ROLES:
            raise ReviewError(f"role {role!r} is unknown; use one of {', '.join(ROLES)}")
        if not name.strip():
            raise ReviewError("a user needs a name")
        with self.connect() as con:
            exists = con.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone()
            if exists and not replace:
                raise ReviewError(f"user {name!r} exists; pass --replace to reset it")
            con.execute(
                "INSERT OR REPLACE INTO users (name, role, pw_hash, created) VALUES (?, ?, ?, ?)",
                (name, role, pw_hash, now_iso()),
            )

    def user(self, name: str) -> sqlite3.Row | None:
        with self.connect() as con:
            return con.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()

    def users(self) -> list[sqlite3.Row]:
        with self.connect() as con:
            return con.execute("SELECT name, role, created FROM users ORDER BY name").fetchall()

    # -- decisions ----------------------------------------------------------------------
    def decisions(self, row: int | None = None) -> list[Decision]:
        """Every stored decision (of one plot when ``row`` is given)."""
        sql, args = "SELECT * FROM decisions", ()
        if row is not None:
            sql, args = sql + " WHERE row = ?", (int(row),)
        with self.connect() as con:
            return [_decision(r) for r in con.execute(sql + " ORDER BY row, slot", args)]

    def record(
        self, new: Decision, expected_version: int, context: Context, action: str = "decide"
    ) -> Decision:
        """Store ``new`` in its slot if the slot is still at ``expected_version``.

        Returns the stored decision (version + 1); raises :class:`DecisionConflict` (after
        logging the refused attempt) when the slot moved on.
        """
        if new.decision not in DECISIONS:
            raise ReviewError(f"decision {new.decision!r} is unknown")
        if new.slot not in SLOTS:
            raise ReviewError(f"slot {new.slot!r} is unknown")
        if new.confidence and new.confidence not in CONFIDENCE:
            raise ReviewError(f"confidence {new.confidence!r} is unknown")
        at = now_iso()
        with self.connect() as con:
            r = con.execute(
                "SELECT * FROM decisions WHERE row = ? AND slot = ?", (new.row, new.slot)
            ).fetchone()
            old = _decision(r) if r else None
            stored = Decision(**{**new.__dict__, "at": at, "version": expected_version + 1})
            if (old.version if old else 0) != expected_version:
                self._log(con, at, new.user, "conflict", stored, old, context)
                conflict = DecisionConflict(old)
            else:
                con.execute(
                    "INSERT OR REPLACE INTO decisions (row, slot, plot_id, decision, reasons, "
                    "comment, confidence, user, at, version) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (
                        stored.row,
                        stored.slot,
                        stored.plot_id,
                        stored.decision,
                        ";".join(stored.reasons),
                        stored.comment,
                        stored.confidence,
                        stored.user,
                        at,
                        stored.version,
                    ),
                )
                self._log(con, at, new.user, action, stored, old, context)
                return stored
        raise conflict

    @staticmethod
    def _log(
        con: sqlite3.Connection,
        at: str,
        user: str,
        action: str,
        new: Decision,
        old: Decision | None,
        context: Context,
    ) -> None:
        con.execute(
            "INSERT INTO log (at, user, action, row, plot_id, slot, old, new, run_id, "
            "model_version, items) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                at,
                user,
                action,
                new.row,
                new.plot_id,
                new.slot,
                json.dumps(old.as_dict(), ensure_ascii=False) if old else None,
                json.dumps(new.as_dict(), ensure_ascii=False),
                context.run_id,
                context.model_version,
                ";".join(context.items),
            ),
        )

    def log(self, row: int | None = None, limit: int = 500) -> pd.DataFrame:
        """The decision log, newest first (of one plot when ``row`` is given)."""
        sql, args = "SELECT * FROM log", []
        if row is not None:
            sql += " WHERE row = ?"
            args.append(int(row))
        sql += " ORDER BY id DESC LIMIT ?"
        args.append(int(limit))
        with self.connect() as con:
            rows = con.execute(sql, args).fetchall()
        cols = ["id", "at", "user", "action", "row", "plot_id", "slot", "old", "new"]
        cols += ["run_id", "model_version", "items"]
        return pd.DataFrame([dict(r) for r in rows], columns=cols)

    # -- samples and assignments --------------------------------------------------------
    def samples(self, kind: str) -> set[int]:
        with self.connect() as con:
            rows = con.execute("SELECT row FROM samples WHERE kind = ?", (kind,)).fetchall()
        return {r["row"] for r in rows}

    def set_samples(self, kind: str, rows: list[int]) -> None:
        """Store a sample once; a database that already has one keeps it (samples are drawn
        before reviewing starts and never redrawn under a reviewer's feet)."""
        with self.connect() as con:
            if con.execute("SELECT 1 FROM samples WHERE kind = ?", (kind,)).fetchone():
                return
            con.executemany(
                "INSERT INTO samples (row, kind) VALUES (?, ?)", [(int(r), kind) for r in rows]
            )

    def assignments(self) -> dict[int, str]:
        with self.connect() as con:
            return {r["row"]: r["user"] for r in con.execute("SELECT * FROM assignments")}

    def assign(self, row: int, user: str, by: str, plot_id: str | None) -> None:
        with self.connect() as con:
            if user:
                con.execute(
                    "INSERT OR REPLACE INTO assignments (row, user) VALUES (?, ?)", (row, user)
                )
            else:
                con.execute("DELETE FROM assignments WHERE row = ?", (row,))
            con.execute(
                "INSERT INTO log (at, user, action, row, plot_id, new) VALUES (?,?,?,?,?,?)",
                (now_iso(), by, "assign", row, plot_id, json.dumps({"assignee": user})),
            )

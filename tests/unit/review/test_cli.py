"""The review commands: users with hashed passwords, export / import from the command line."""

from __future__ import annotations

from typer.testing import CliRunner

from pipeline.review.auth import verify_password
from pipeline.review.store import ReviewStore
from pipeline.workflow.cli import app

runner = CliRunner()


def test_review_user_add__hashed_password_and_role(tmp_path):
    db = tmp_path / "r.sqlite"
    args = ["review-user", "add", "lin", "--role", "senior", "--db", str(db), "--password-stdin"]
    r = runner.invoke(app, args, input="long enough pw\n")
    assert r.exit_code == 0, r.output
    user = ReviewStore(db).user("lin")
    assert user["role"] == "senior" and verify_password("long enough pw", user["pw_hash"])
    assert "long enough pw" not in db.read_bytes().decode("latin-1")
    again = runner.invoke(app, args, input="long enough pw\n")
    assert again.exit_code == 2 and "--replace" in again.output
    listed = runner.invoke(app, ["review-user", "list", "--db", str(db)])
    assert "lin" in listed.output and "senior" in listed.output


def test_review_user_add__short_password_and_bad_role_refused(tmp_path):
    db = tmp_path / "r.sqlite"
    base = ["review-user", "add", "lin", "--db", str(db), "--password-stdin"]
    short = runner.invoke(app, base, input="short\n")
    assert short.exit_code == 2 and "8 characters" in short.output
    role = runner.invoke(app, [*base, "--role", "boss"], input="long enough pw\n")
    assert role.exit_code == 2 and "verifier" in role.output


def test_review_import__unknown_user_refused(tiny_run, tmp_path):
    db = tmp_path / "r.sqlite"
    r = runner.invoke(
        app,
        [
            "review-import",
            str(tiny_run),
            str(tmp_path / "x.xlsx"),
            "--user",
            "nobody",
            "--db",
            str(db),
        ],  # fmt: skip
    )
    assert r.exit_code == 2 and "review-user add" in r.output

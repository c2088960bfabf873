"""Review database: version-checked decisions, append-only log, parameterised SQL, passwords."""

from __future__ import annotations

import sqlite3

import pytest

from pipeline.review.auth import hash_password, verify_password
from pipeline.review.store import Context, Decision, DecisionConflict, ReviewError, ReviewStore


@pytest.fixture
def store(tmp_path):
    return ReviewStore(tmp_path / "review.sqlite")


def test_record__stale_version_is_a_conflict_and_both_are_logged(store):
    ctx = Context("run-1", "m-0", ("S2_A", "S2_B"))
    a = store.record(Decision(3, "primary", "confirmed", ("OVERLAP",), user="a"), 0, ctx)
    assert a.version == 1
    with pytest.raises(DecisionConflict) as err:
        store.record(Decision(3, "primary", "false_alarm", user="b"), 0, ctx)
    assert err.value.current.user == "a"
    assert [d.decision for d in store.decisions(3)] == ["confirmed"]
    log = store.log(row=3)
    assert list(log["action"]) == ["conflict", "decide"]
    assert list(log["user"]) == ["b", "a"]
    assert set(log["items"]) == {"S2_A;S2_B"} and set(log["run_id"]) == {"run-1"}
    # submitting again against the current version replaces it, old → new logged
    b = store.record(Decision(3, "primary", "false_alarm", user="b"), 1, ctx)
    assert b.version == 2
    newest = store.log(row=3).iloc[0]
    assert '"confirmed"' in newest["old"] and '"false_alarm"' in newest["new"]


def test_log__is_append_only(store):
    store.record(Decision(1, "primary", "confirmed", user="a"), 0, Context())
    with sqlite3.connect(store.path) as con:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute("UPDATE log SET user = 'x'")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute("DELETE FROM log")


def test_record__sql_in_values_is_stored_as_text(store):
    evil = "x'); DROP TABLE decisions; --"
    store.record(Decision(2, "primary", "field_check", comment=evil, user=evil, plot_id=evil),
                 0, Context())  # fmt: skip
    (d,) = store.decisions(2)
    assert d.comment == evil and d.user == evil and d.plot_id == evil


def test_record__unknown_words_refused(store):
    with pytest.raises(ReviewError):
        store.record(Decision(1, "primary", "maybe", user="a"), 0, Context())
    with pytest.raises(ReviewError):
        store.record(Decision(1, "fourth", "confirmed", user="a"), 0, Context())


def test_users__unknown_role_and_duplicates_refused(store):
    store.add_user("a", "verifier", "h")
    with pytest.raises(ReviewError, match="exists"):
        store.add_user("a", "admin", "h")
    with pytest.raises(ReviewError, match="role"):
        store.add_user("b", "boss", "h")


def test_samples__drawn_once_kept(store):
    store.set_samples("blind", [4, 5])
    store.set_samples("blind", [6])
    assert store.samples("blind") == {4, 5}


def test_password__hash_verifies_only_the_password():
    h = hash_password("s3cret-pass")
    assert h.startswith("scrypt$") and "s3cret" not in h
    assert verify_password("s3cret-pass", h)
    assert not verify_password("s3cret-pasS", h)
    assert not verify_password("s3cret-pass", "garbage")
    assert hash_password("s3cret-pass") != h  # salted

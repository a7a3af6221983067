"""The state store: created on first use, upgraded additively, safe to open twice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect, text

from notion_feedback import state


def test_schema_is_created_and_upgrade_is_idempotent(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'a' / 'state.sqlite3'}"
    engine = state.open_state(url)
    state.upgrade(engine)
    state.upgrade(engine)
    names = set(inspect(engine).get_table_names())
    assert {"kv", "synced_ratings", "kpi_daily", "published_reports", "job_runs", "leases"} <= names
    with engine.begin() as conn:
        state.set_value(conn, "cursor", "2026-11-25T10:00:00Z")
        state.set_value(conn, "cursor", "2026-11-25T10:01:00Z")
        assert state.get_value(conn, "cursor") == "2026-11-25T10:01:00Z"


def test_an_older_store_gains_new_columns_without_losing_rows(tmp_path) -> None:
    path = tmp_path / "old.sqlite3"
    old = create_engine(f"sqlite:///{path}")
    with old.begin() as conn:
        conn.execute(text("CREATE TABLE leases (name VARCHAR(100) PRIMARY KEY)"))
        conn.execute(text("INSERT INTO leases (name) VALUES ('daemon')"))
    old.dispose()
    engine = state.open_state(f"sqlite:///{path}")
    columns = {c["name"] for c in inspect(engine).get_columns("leases")}
    assert {"holder", "expires_at"} <= columns
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM leases")).scalar_one() == "daemon"


def test_unopenable_store_gives_a_fix(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    try:
        state.open_state(f"sqlite:///{blocker / 'sub' / 'state.sqlite3'}")
    except Exception as exc:  # noqa: BLE001 - the type is asserted below
        assert isinstance(exc, (state.StateStoreError, OSError))
        if isinstance(exc, state.StateStoreError):
            assert "NOTION_FEEDBACK_STATE_URL" in str(exc)
    else:
        raise AssertionError("opening a store under a file must fail")


def _open_in_child(url: str, results: Any) -> None:
    from notion_feedback.state import open_state

    try:
        open_state(url)
        results.put("ok")
    except Exception as exc:  # noqa: BLE001 - reported to the parent
        results.put(repr(exc)[:200])


def test_many_processes_opening_a_fresh_store_at_once_all_succeed(tmp_path: Path) -> None:
    """Daemons and recorders started together on a fresh store: none fails on a half-created schema."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    url = f"sqlite:///{tmp_path / 'fresh' / 'state.sqlite3'}"
    children = [ctx.Process(target=_open_in_child, args=(url, results)) for _ in range(16)]
    for child in children:
        child.start()
    for child in children:
        child.join(60)
    outcomes = [results.get(timeout=5) for _ in children]
    assert outcomes == ["ok"] * len(children), outcomes

"""The state store: created on first use, upgraded additively, safe to open twice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text

from notion_feedback import state


def test_schema_is_created_and_upgrade_is_idempotent(state_url: str) -> None:
    engine = state.open_state(state_url)
    state.upgrade(engine)
    state.upgrade(engine)
    names = set(inspect(engine).get_table_names())
    assert {"kv", "synced_ratings", "kpi_daily", "published_reports", "job_runs", "leases"} <= names
    with engine.begin() as conn:
        state.set_value(conn, "cursor", "2026-11-25T10:00:00Z")
        state.set_value(conn, "cursor", "2026-11-25T10:01:00Z")
        assert state.get_value(conn, "cursor") == "2026-11-25T10:01:00Z"


def test_an_older_store_gains_new_columns_without_losing_rows(state_url: str) -> None:
    if state_url.startswith("sqlite:///"):
        Path(state_url.removeprefix("sqlite:///")).parent.mkdir(parents=True)
    old = create_engine(state_url)
    with old.begin() as conn:
        conn.execute(text("CREATE TABLE leases (name VARCHAR(100) PRIMARY KEY)"))
        conn.execute(text("INSERT INTO leases (name) VALUES ('daemon')"))
    old.dispose()
    engine = state.open_state(state_url)
    columns = {c["name"] for c in inspect(engine).get_columns("leases")}
    assert {"holder", "expires_at"} <= columns
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM leases")).scalar_one() == "daemon"


def test_unopenable_store_gives_a_fix(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(state.StateStoreError) as err:
        state.open_state(f"sqlite:///{blocker / 'sub' / 'state.sqlite3'}")
    assert "NOTION_FEEDBACK_STATE_URL" in err.value.fix and "Traceback" not in str(err.value)


def test_a_postgresql_url_without_the_driver_names_the_extra(monkeypatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_psycopg(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "psycopg" or name.startswith("psycopg."):
            raise ModuleNotFoundError("No module named 'psycopg'", name="psycopg")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_psycopg)
    with pytest.raises(state.StateStoreError) as err:
        state.open_state("postgresql://nf:s3cret-pw@127.0.0.1:1/nf")
    assert "pip install 'notion-feedback[postgres]'" in err.value.fix
    assert "s3cret-pw" not in str(err.value) + err.value.fix


def test_plain_postgresql_urls_use_the_psycopg_driver() -> None:
    assert state.driver_url("postgresql://h/db") == "postgresql+psycopg://h/db"
    assert state.driver_url("postgres://h/db") == "postgresql+psycopg://h/db"
    assert state.driver_url("postgresql+psycopg://h/db") == "postgresql+psycopg://h/db"
    assert state.driver_url("sqlite:///x.db") == "sqlite:///x.db"


def _open_in_child(url: str, results: Any) -> None:
    from notion_feedback.state import open_state

    try:
        open_state(url)
        results.put("ok")
    except Exception as exc:  # noqa: BLE001 - reported to the parent
        results.put(repr(exc)[:200])


def test_many_processes_opening_a_fresh_store_at_once_all_succeed(state_url: str) -> None:
    """Daemons and recorders started together on a fresh store: none fails on a half-created schema."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    url = state_url
    children = [ctx.Process(target=_open_in_child, args=(url, results)) for _ in range(16)]
    for child in children:
        child.start()
    for child in children:
        child.join(60)
    outcomes = [results.get(timeout=5) for _ in children]
    assert outcomes == ["ok"] * len(children), outcomes


def test_the_tests_run_on_the_store_they_were_asked_for(state_url: str) -> None:
    from state_backend import backend

    assert state.open_state(state_url).dialect.name == backend()


def test_the_store_gives_back_aware_utc_times_on_every_engine(state_url: str) -> None:
    from datetime import UTC, datetime, timedelta, timezone

    engine = state.open_state(state_url)
    paris = datetime(2026, 3, 29, 3, 30, tzinfo=timezone(timedelta(hours=2)))
    with engine.begin() as conn:
        state.set_value(conn, "probe", "x")
        conn.execute(state.kv.update().where(state.kv.c.key == "probe").values(updated_at=paris))
        naive = datetime(2026, 3, 29, 1, 30)  # a naive value is UTC, as everywhere in the product
        conn.execute(state.kv.insert().values(key="naive", value="y", updated_at=naive))
        rows = dict(conn.execute(state.kv.select().with_only_columns(state.kv.c.key, state.kv.c.updated_at)).all())
    assert rows["probe"] == paris and rows["probe"].tzinfo is UTC
    assert rows["naive"] == naive.replace(tzinfo=UTC) and rows["naive"].tzinfo is UTC

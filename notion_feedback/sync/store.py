"""The sync's memory in the state store: what each rated row last sent, its problem if any, and the cursor.

The store is the engine's view of the projection (LangSmith feedback). Before an effect the entry is marked
``MAYBE`` (an intent); after the effect is confirmed it holds the new value. So an entry either states what
LangSmith confirmed or says it does not know, and an unknown is resolved by reading LangSmith, never assumed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from typing import Any

from sqlalchemy import Engine, and_, or_, select

from notion_feedback.state import get_value, set_value, synced_ratings, utcnow
from notion_feedback.sync import decide

# Entry statuses, named where the sync decides with them (see decide.py). MAYBE: an effect was sent and its outcome
# is not known yet (saved before sending); the next pass reads the feedback back from LangSmith before deciding
# anything, so the store only ever claims what LangSmith confirmed.
SYNCED = decide.SYNCED_ENTRY
ERROR = decide.ERROR_ENTRY
REMOVED = decide.REMOVED_ENTRY
MAYBE = decide.MAYBE_ENTRY


@dataclass
class Stored:
    page_id: str
    feedback_key: str
    feedback_id: str
    status: str = REMOVED
    run_id: str | None = None
    project_id: str | None = None
    option: str | None = None
    score: float | None = None  # not None <=> the feedback exists in LangSmith
    comment: str | None = None
    error: str | None = None
    error_kind: str | None = None
    row_edited_at: str | None = None
    written_status: str | None = None  # what the row displays (encoded Shown), as last read or written
    pending_status: str | None = None  # what it should display, when that write has not been confirmed
    row_url: str | None = None
    rater: str | None = None
    run_start: str | None = None
    attempts: int | None = None
    retry_at: str | None = None


_COLUMNS = [f.name for f in fields(Stored)]


def _from_row(row: Any) -> Stored:
    return Stored(**{name: row._mapping[name] for name in _COLUMNS})


def load(engine: Engine, page_ids: list[str], key: str) -> dict[str, Stored]:
    """Entries of these rows (one query per page of rows)."""
    if not page_ids:
        return {}
    cols = [synced_ratings.c[name] for name in _COLUMNS]
    stmt = select(*cols).where(and_(synced_ratings.c.feedback_key == key, synced_ratings.c.page_id.in_(page_ids)))
    with engine.connect() as conn:
        return {r.page_id: _from_row(r) for r in conn.execute(stmt)}


def save(engine: Engine, entry: Stored) -> None:
    """Upsert one entry in its own transaction (durable before the engine moves on)."""
    values = asdict(entry) | {"updated_at": utcnow()}
    table = synced_ratings
    where = and_(table.c.page_id == entry.page_id, table.c.feedback_key == entry.feedback_key)
    with engine.begin() as conn:
        if conn.execute(table.update().where(where).values(**values)).rowcount == 0:
            conn.execute(table.insert().values(**values))


def save_many(engine: Engine, entries: list[Stored]) -> None:
    """Upsert several entries in one transaction (the intents of a page's creates)."""
    if not entries:
        return
    table = synced_ratings
    now = utcnow()
    with engine.begin() as conn:
        for entry in entries:
            values = asdict(entry) | {"updated_at": now}
            where = and_(table.c.page_id == entry.page_id, table.c.feedback_key == entry.feedback_key)
            if conn.execute(table.update().where(where).values(**values)).rowcount == 0:
                conn.execute(table.insert().values(**values))


def _stream(engine: Engine, *conditions: Any, limit: int | None = None) -> Iterator[Stored]:
    cols = [synced_ratings.c[name] for name in _COLUMNS]
    stmt = select(*cols).where(and_(*conditions)).order_by(synced_ratings.c.page_id)
    if limit is not None:
        stmt = stmt.limit(limit)
    with engine.connect() as conn:
        rows = conn.execute(stmt).fetchall() if limit is not None else None
        if rows is not None:
            yield from (_from_row(r) for r in rows)
            return
        for r in conn.execution_options(yield_per=500).execute(stmt):
            yield _from_row(r)


def due_retries(engine: Engine, key: str, now_iso: str, kinds: tuple[str, ...], limit: int) -> list[Stored]:
    """Errored rows whose cause may have gone away (e.g. the run was not ingested yet) and whose time has come."""
    t = synced_ratings.c
    return list(
        _stream(
            engine,
            t.feedback_key == key,
            t.status == ERROR,
            t.error_kind.in_(kinds),
            t.retry_at <= now_iso,
            limit=limit,
        )
    )


def pending_writes(engine: Engine, key: str, limit: int) -> list[Stored]:
    """Rows whose Sync status write-back was decided but not confirmed (a crash or a Notion outage in between)."""
    t = synced_ratings.c
    return list(_stream(engine, t.feedback_key == key, t.pending_status.is_not(None), limit=limit))


def with_feedback(engine: Engine, key: str) -> Iterator[Stored]:
    """Entries whose feedback exists (or may) in LangSmith, streamed (the full pass sweeps rows gone from Notion)."""
    t = synced_ratings.c
    return _stream(engine, t.feedback_key == key, or_(t.score.is_not(None), t.status == MAYBE))


def run_owners(engine: Engine, key: str, run_ids: list[str]) -> dict[str, Stored]:
    """For each run id, a row whose feedback with ``key`` is on that run (or may be): one query per page of rows."""
    if not run_ids:
        return {}
    t = synced_ratings.c
    owned = or_(t.score.is_not(None), t.status == MAYBE)
    out: dict[str, Stored] = {}
    for entry in _stream(engine, t.feedback_key == key, t.run_id.in_(sorted(set(run_ids))), owned):
        out.setdefault(entry.run_id or "", entry)
    return out


def cursor_key(data_source_id: str, key: str) -> str:
    return f"sync.cursor:{data_source_id}:{key}"


def get_cursor(engine: Engine, data_source_id: str, key: str) -> str | None:
    with engine.connect() as conn:
        return get_value(conn, cursor_key(data_source_id, key))


def set_cursor(engine: Engine, data_source_id: str, key: str, value: str) -> None:
    with engine.begin() as conn:
        set_value(conn, cursor_key(data_source_id, key), value)

"""The state store: what the daemon must remember between runs (SQLAlchemy Core; SQLite by default).

Cursors, what each row last sent to LangSmith, row errors, cached daily KPIs, published reports, job runs and the
single-active lease. Schema creation is automatic and additive (new tables and new nullable columns), so running
it twice, or an older store meeting newer code, is safe.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Dialect,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    inspect,
    select,
    text,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError, SQLAlchemyError
from sqlalchemy.types import TypeDecorator

from notion_feedback.errors import StateStoreError
from notion_feedback.private_files import private_file
from notion_feedback.timeutil import as_utc

SCHEMA_VERSION = 1
metadata = MetaData()


class AwareDateTime(TypeDecorator[datetime]):
    """A timestamp that goes in as UTC and comes out aware, on every engine.

    PostgreSQL keeps the zone; SQLite stores text and hands back naive values. Readers of the store then never
    compare a naive time with an aware one (a ``TypeError`` at the worst moment) or guess the zone.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return as_utc(value)  # a naive value is UTC, as everywhere in the product (timeutil)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return as_utc(value)


kv = Table(
    "kv",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", AwareDateTime(), nullable=False),
)

# One row per Notion Feedback row that has ever carried a rating: what LangSmith holds for it (the projection).
synced_ratings = Table(
    "synced_ratings",
    metadata,
    Column("page_id", String(64), primary_key=True),
    Column("feedback_key", String(200), primary_key=True),
    Column("feedback_id", String(64), nullable=False),
    Column("run_id", String(64)),
    Column("project_id", String(64)),
    Column("option", String(200)),  # the rating option as the user chose it
    Column("score", Float),  # None: no feedback exists in LangSmith (cleared, or never sent)
    Column("comment", Text),
    Column("status", String(32), nullable=False),  # synced | error | removed
    Column("error", Text),
    Column("row_edited_at", String(40)),  # the row's last_edited_time when we handled it
    Column("written_status", Text),  # what we last wrote to the row's Sync status / Sync error
    Column("updated_at", AwareDateTime(), nullable=False),
    # Added for the sync engine: enough of the row to retry without reading Notion, and the retry schedule.
    Column("row_url", Text),
    Column("rater", String(64)),
    Column("run_start", String(40)),
    Column("error_kind", String(32)),  # which check failed (run_not_found is retried on later passes)
    Column("attempts", Integer),
    Column("retry_at", String(40)),  # ISO time after which an errored row is tried again
    Column("pending_status", Text),  # a Sync status write-back decided but not yet confirmed by Notion
)

# Daily aggregates per project, so a 30-day trend costs one new day of queries.
kpi_daily = Table(
    "kpi_daily",
    metadata,
    Column("project", String(200), primary_key=True),
    Column("day", String(10), primary_key=True),  # YYYY-MM-DD in the report time zone
    Column("data", Text, nullable=False),  # JSON of the day's KPIs
    Column("final", Integer, nullable=False, default=0),  # 1 once the day is over and will not change
    Column("computed_at", AwareDateTime(), nullable=False),
)

published_reports = Table(
    "published_reports",
    metadata,
    Column("period", String(10), primary_key=True),  # day | week | month
    Column("period_start", String(10), primary_key=True),
    Column("page_id", String(64), nullable=False),
    Column("published_at", AwareDateTime(), nullable=False),
)

alert_state = Table(
    "alert_state",
    metadata,
    Column("rule", String(200), primary_key=True),
    Column("state", String(16), nullable=False),  # ok | firing
    Column("value", Float),
    Column("since", AwareDateTime(), nullable=False),
)

job_runs = Table(
    "job_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job", String(100), nullable=False, index=True),
    Column("started_at", AwareDateTime(), nullable=False),
    Column("finished_at", AwareDateTime()),
    Column("outcome", String(16)),  # ok | error | skipped
    Column("summary", Text),
    Column("error", Text),
)

leases = Table(
    "leases",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("expires_at", AwareDateTime(), nullable=False),
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers (status) never block the daemon's writes
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def driver_url(url: str) -> str:
    """``url`` with the PostgreSQL driver the product ships for (psycopg 3) when it names none: SQLAlchemy's own
    default for a bare ``postgresql://`` is psycopg2, which the ``postgres`` extra does not install."""
    for bare in ("postgresql://", "postgres://"):
        if url.startswith(bare):
            return "postgresql+psycopg://" + url.removeprefix(bare)
    return url


def open_state(url: str) -> Engine:
    """The engine for ``url`` with the schema in place (created or upgraded). One engine per URL per process."""
    with _engines_lock:
        if url in _engines:
            return _engines[url]
        try:
            if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
                private_file(Path(url.removeprefix("sqlite:///")).expanduser())  # it holds comments and answers
            engine = create_engine(driver_url(url), future=True, pool_pre_ping=True)
            if engine.dialect.name == "sqlite":
                event.listen(engine, "connect", _sqlite_pragmas)
            upgrade(engine)
        except ModuleNotFoundError as exc:
            raise StateStoreError(
                f"the state store at {safe_url(url)} needs the {exc.name} driver, which is not installed",
                "pip install 'notion-feedback[postgres]' (or point NOTION_FEEDBACK_STATE_URL at SQLite)",
            ) from None
        except (SQLAlchemyError, OSError) as exc:
            raise StateStoreError(
                f"cannot open the state store at {safe_url(url)}: {exc.__class__.__name__}: {_reason(exc)}",
                "check NOTION_FEEDBACK_STATE_URL (a SQLAlchemy URL) or that NOTION_FEEDBACK_HOME is writable",
            ) from exc
        _engines[url] = engine
        return engine


def _reason(exc: BaseException) -> str:
    """The first line of the cause, without SQLAlchemy's background link (the URL is never in it)."""
    cause = getattr(exc, "orig", None) or exc
    return str(cause).strip().splitlines()[0][:200] if str(cause).strip() else "no detail"


def safe_url(url: str) -> str:
    """``url`` as it may be shown: the password hidden."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - only for a message
        return "<unparseable url>"


UPGRADE_ATTEMPTS = 8
# Any constant: the key of the PostgreSQL advisory lock that serialises schema upgrades across processes.
_UPGRADE_LOCK = 0x6E66_7374  # "nfst"


def upgrade(engine: Engine) -> None:
    """Create missing tables and add missing nullable columns. Safe to run any number of times, concurrently.

    Several daemons (and agents' recorders) may open a fresh store at the same instant. On PostgreSQL the upgrade
    runs under a transaction-scoped advisory lock, so one process creates the tables and the others find them.
    SQLite has no such lock and its DDL can race (``table ... already exists``, ``database is locked``): every
    step checks first, so an attempt that lost the race is simply made again and finds the work done.
    """
    for attempt in range(UPGRADE_ATTEMPTS):
        try:
            _upgrade_once(engine)
            return
        except (OperationalError, ProgrammingError, IntegrityError):
            if attempt == UPGRADE_ATTEMPTS - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


def _upgrade_once(engine: Engine) -> None:
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _UPGRADE_LOCK})
        metadata.create_all(conn)
        inspector = inspect(conn)
        for table in metadata.sorted_tables:
            have = {c["name"] for c in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name not in have:
                    ddl = column.type.compile(dialect=engine.dialect)
                    conn.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {ddl}'))
        set_value(conn, "schema_version", str(SCHEMA_VERSION))


def set_value(conn: Any, key: str, value: str) -> None:
    """Upsert one key of the key-value table (cursors, versions, markers)."""
    now = utcnow()
    if conn.dialect.name == "sqlite":
        stmt = sqlite_insert(kv).values(key=key, value=value, updated_at=now)
        conn.execute(stmt.on_conflict_do_update(index_elements=["key"], set_={"value": value, "updated_at": now}))
        return
    updated = conn.execute(kv.update().where(kv.c.key == key).values(value=value, updated_at=now))
    if updated.rowcount == 0:
        conn.execute(kv.insert().values(key=key, value=value, updated_at=now))


def get_value(conn: Any, key: str, default: str | None = None) -> str | None:
    row = conn.execute(select(kv.c.value).where(kv.c.key == key)).first()
    return row[0] if row else default

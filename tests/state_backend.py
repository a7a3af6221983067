"""Where the tests keep their state store: a SQLite file by default, a fresh PostgreSQL database per test when
NOTION_FEEDBACK_TEST_POSTGRES names a server (``scripts/with-postgres`` starts one; CI runs the state, lease,
daemon and sync tests both ways)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

POSTGRES_ENV = "NOTION_FEEDBACK_TEST_POSTGRES"


def backend() -> str:
    return "postgresql" if os.environ.get(POSTGRES_ENV) else "sqlite"


def fresh_state_url(tmp_path: Path) -> str:
    """A state store URL nobody has used: a new SQLite file under ``tmp_path`` or a new PostgreSQL database."""
    server = os.environ.get(POSTGRES_ENV)
    if not server:
        return f"sqlite:///{tmp_path / 'state' / 'state.sqlite3'}"
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"nf_{uuid.uuid4().hex[:16]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return make_url(server).set(database=name).render_as_string(hide_password=False)

"""Where the tests keep their state store: a SQLite file by default, a fresh PostgreSQL database per test when
NOTION_FEEDBACK_TEST_POSTGRES names a server (``scripts/with-postgres`` starts one; CI runs the state, lease,
daemon and sync tests both ways)."""

from __future__ import annotations

import os
from pathlib import Path

from notion_feedback import testing

POSTGRES_ENV = "NOTION_FEEDBACK_TEST_POSTGRES"


def backend() -> str:
    return "postgresql" if os.environ.get(POSTGRES_ENV) else "sqlite"


def fresh_state_url(tmp_path: Path) -> str:
    """A state store URL nobody has used: a new SQLite file under ``tmp_path`` or a new PostgreSQL database."""
    return testing.fresh_state_url(tmp_path, os.environ.get(POSTGRES_ENV))

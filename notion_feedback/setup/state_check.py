"""`doctor`'s look at the state store: reachable, writable, at the schema this code expects, and who leads.

Nothing is changed: a missing SQLite store is not created (its folder is probed with a temporary file), and the
write probe is rolled back.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from notion_feedback.capture.spool import SPOOL_FILE
from notion_feedback.config import Settings, env_name
from notion_feedback.daemon.lease import current_holder
from notion_feedback.errors import StateStoreError
from notion_feedback.private_files import too_open
from notion_feedback.state import SCHEMA_VERSION, get_value, open_state, safe_url, set_value

NAME = "state store"
WRITABLE_FIX = (
    f"make {env_name('home')} writable by this user (or point {env_name('state_url')} at a writable store): "
    "the daemon saves what it sent there"
)


def state_checks(settings: Settings) -> list[tuple[bool, str, str]]:
    """(ok, detail, fix) for the state store."""
    url = settings.resolved_state_url
    shown = safe_url(url)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).expanduser().exists():
        folder = _existing_ancestor(Path(url.removeprefix("sqlite:///")).expanduser().parent)
        if not _can_write_in(folder):
            return [(False, f"the state store cannot be created: {folder} is not writable", WRITABLE_FIX)]
        return [(True, f"not created yet; the first sync creates it ({shown})", "")]
    try:
        engine = open_state(url)
    except StateStoreError as exc:
        return [(False, exc.message, exc.fix)]
    try:
        with engine.connect() as conn:
            probe = conn.begin()
            set_value(conn, "doctor_write_probe", datetime.now(UTC).isoformat())
            probe.rollback()
            version = get_value(conn, "schema_version")
        holder = current_holder(engine)
    except SQLAlchemyError as exc:
        cause = str(getattr(exc, "orig", exc)).splitlines()[0][:200]
        return [(False, f"the state store is not writable ({shown}): {cause}", WRITABLE_FIX)]
    if version != str(SCHEMA_VERSION):
        return [
            (
                False,
                f"schema version {version}, this release expects {SCHEMA_VERSION} ({shown})",
                "upgrade notion-feedback on every machine that shares this store",
            )
        ]
    if holder is None or holder.expired(datetime.now(UTC)):
        lead = "no daemon is running"
    else:
        lead = f"daemon {holder.holder} leads until {holder.expires_at:%H:%M:%S} UTC"
    return [(True, f"writable, schema {version}, {lead} ({shown})", "")]


def mode_checks(settings: Settings) -> list[tuple[bool, str, str]]:
    """Files of the product that others could read (state, spool, its lock, .env here), and its folder."""
    url = settings.resolved_state_url
    candidates = [settings.home, Path(".env"), settings.home / SPOOL_FILE, settings.home / f"{SPOOL_FILE}.lock"]
    if url.startswith("sqlite:///"):
        candidates.append(Path(url.removeprefix("sqlite:///")).expanduser())
    problems = [why for why in map(too_open, candidates) if why]
    if not problems:
        return []
    return [(False, "; ".join(problems), "they hold questions, answers, comments or tokens: run the chmod shown")]


def _existing_ancestor(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _can_write_in(folder: Path) -> bool:
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False

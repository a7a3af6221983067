"""The recorder's outbox on disk: every row waits here until Notion has it, so a crash or an outage loses nothing.

A SQLite file (WAL; a committed row survives the process being killed). One row per run id (a second record of
the same run is ignored). States: ``pending`` (not sent, or known not to have arrived), ``sending`` (a request went
out and its outcome is unknown: check Notion by Run ID before sending again), ``failed`` (parked: Notion refused
this row for good, a 400 the same request would get again; kept whole with its reason, and sent again only when
someone asks, ``notion-feedback spool --retry``, once the cause is fixed). Only one process at a time drains a
spool: the holder of an exclusive lock on ``<spool>.lock`` (released by the OS when that process dies); others
only append. A small ``counters`` table keeps what the sender did (delivered, found already in Notion, refused,
retries), so a recorder can report it even when the sending happens in another process, and how many rows a
recorder had to drop because this file could not be written (a full disk, say), added once the file can be
written again.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from notion_feedback.errors import SpoolWriteError, StateStoreError
from notion_feedback.private_files import private_file

SPOOL_FILE = "spool.sqlite3"
PENDING, SENDING, FAILED = "pending", "sending", "failed"
DELIVERED, FOUND_EXISTING, REFUSED, RETRIES, DROPPED = "delivered", "found_existing", "failed", "retries", "dropped"
_COUNTERS = (DELIVERED, FOUND_EXISTING, REFUSED, RETRIES, DROPPED)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_state ON outbox (state, seq);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


@dataclass(frozen=True)
class SpoolSummary:
    """What ``status`` and ``doctor`` say about a spool: rows waiting, how old the oldest is, rows dropped."""

    waiting: int
    failed: int
    oldest_age_seconds: float | None
    dropped: int
    reasons: tuple[tuple[str, int], ...] = ()
    """Why parked rows were refused, most frequent first: (Notion's message, rows)."""


def read_summary(path: Path) -> SpoolSummary | None:
    """The summary of the spool at ``path``, or None when no recorder has made one there (nothing is created)."""
    if not Path(path).exists():
        return None
    spool = Spool(path)
    try:
        return spool.summary()
    finally:
        spool.close()


@dataclass(frozen=True)
class SpooledRow:
    seq: int
    run_id: str
    payload: dict[str, Any]
    state: str
    attempts: int
    last_error: str | None = None


class Spool:
    """Thread-safe access to one spool file (one connection, short transactions under a lock)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            private_file(self.path)  # the spool holds questions and answers: 0600, in a 0700 folder
            self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StateStoreError(
                f"cannot open the recorder's spool {self.path}: {exc}",
                "make NOTION_FEEDBACK_HOME a writable folder on a local disk",
            ) from None
        self._lock = threading.Lock()
        self._lock_file: int | None = None

    # -- writing ---------------------------------------------------------------------------------------------------

    def add_many(self, rows: list[tuple[str, dict[str, Any]]], dropped: int = 0) -> int:
        """Append rows (run id, payload) in one transaction; a run id already spooled is left as it is.

        ``dropped`` rows (ones a recorder could not write earlier) are counted in the same transaction. A write
        that fails raises ``SpoolWriteError`` with SQLite's own cause (a full disk, say) and leaves nothing half
        written: the caller still holds its rows and may try again.
        """
        if not rows and not dropped:
            return 0
        now = time.time()
        values = [(run_id, json.dumps(payload, separators=(",", ":")), now) for run_id, payload in rows]
        with self._lock:
            try:
                with self._transaction():
                    cur = self._db.executemany(
                        "INSERT OR IGNORE INTO outbox (run_id, payload, created_at) VALUES (?, ?, ?)", values
                    )
                    added = cur.rowcount if values else 0
                    if dropped:
                        self._bump(DROPPED, dropped)
            except (OSError, sqlite3.Error) as exc:
                raise SpoolWriteError(
                    f"cannot write to the recorder's spool {self.path}: {exc}",
                    f"free space on the disk that holds {self.path.parent} (NOTION_FEEDBACK_HOME), or point "
                    "NOTION_FEEDBACK_HOME at a writable local folder; rows wait in memory meanwhile",
                ) from exc
        return added

    def _set(self, seq: int, state: str, error: str | None = None, attempt: bool = False) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE outbox SET state = ?, last_error = coalesce(?, last_error), attempts = attempts + ? "
                "WHERE seq = ?",
                (state, error, 1 if attempt else 0, seq),
            )

    def mark_sending(self, seq: int) -> None:
        """Committed before the request goes out: after a crash, this row is checked before it is sent again."""
        self._set(seq, SENDING, attempt=True)

    def mark_pending(self, seq: int, error: str | None = None) -> None:
        self._set(seq, PENDING, error)

    def mark_failed(self, seq: int, error: str) -> None:
        with self._lock, self._transaction():
            self._db.execute("UPDATE outbox SET state = ?, last_error = ? WHERE seq = ?", (FAILED, error, seq))
            self._bump(REFUSED)

    def done(self, seq: int, counter: str = DELIVERED) -> None:
        """The row is in Notion (``counter`` says how we know): forget it and count it, in one transaction."""
        with self._lock, self._transaction():
            self._db.execute("DELETE FROM outbox WHERE seq = ?", (seq,))
            self._bump(counter)

    def bump(self, counter: str) -> None:
        with self._lock:
            self._bump(counter)

    def _bump(self, counter: str, by: int = 1) -> None:
        self._db.execute(
            "INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = value + ?",
            (counter, by, by),
        )

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE … COMMIT. On an error the original one propagates: SQLite may already have rolled the
        transaction back itself (it does on a full disk), and a failing ROLLBACK must not replace the cause."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
            raise

    def retry_failed(self) -> int:
        """Parked rows get another chance, once their cause (a changed schema, say) is fixed: pending again."""
        with self._lock:
            return self._db.execute("UPDATE outbox SET state = 'pending' WHERE state = 'failed'").rowcount

    def parked(self, limit: int = 20) -> list[SpooledRow]:
        """The oldest parked rows, with their reason in ``last_error``."""
        with self._lock:
            found = self._db.execute(
                "SELECT seq, run_id, payload, state, attempts, last_error FROM outbox WHERE state = 'failed' "
                "ORDER BY seq LIMIT ?",
                (limit,),
            ).fetchall()
        return [SpooledRow(seq, run_id, json.loads(p), state, n, error) for seq, run_id, p, state, n, error in found]

    def reasons(self, limit: int = 3) -> tuple[tuple[str, int], ...]:
        with self._lock:
            found = self._db.execute(
                "SELECT coalesce(last_error, ''), count(*) FROM outbox WHERE state = 'failed' "
                "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?",
                (limit,),
            ).fetchall()
        return tuple((str(reason), int(n)) for reason, n in found)

    # -- reading ---------------------------------------------------------------------------------------------------

    def next_rows(self, limit: int = 50) -> list[SpooledRow]:
        """The oldest rows still to deliver, in the order they were recorded."""
        with self._lock:
            found = self._db.execute(
                "SELECT seq, run_id, payload, state, attempts FROM outbox WHERE state IN ('pending', 'sending') "
                "ORDER BY seq LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            SpooledRow(seq, run_id, json.loads(payload), state, attempts)
            for seq, run_id, payload, state, attempts in found
        ]

    def counts(self) -> dict[str, int]:
        with self._lock:
            found = dict(self._db.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall())
        return {state: int(found.get(state, 0)) for state in (PENDING, SENDING, FAILED)}

    def undelivered(self) -> int:
        counts = self.counts()
        return counts[PENDING] + counts[SENDING]

    def counters(self) -> dict[str, int]:
        """What senders of this spool did, since the file was created (every process's work together)."""
        with self._lock:
            found = dict(self._db.execute("SELECT name, value FROM counters").fetchall())
        return {name: int(found.get(name, 0)) for name in _COUNTERS}

    def summary(self) -> SpoolSummary:
        """Rows waiting (and refused), the age of the oldest waiting row, and rows recorders had to drop."""
        counts = self.counts()
        with self._lock:
            oldest = self._db.execute(
                "SELECT min(created_at) FROM outbox WHERE state IN ('pending', 'sending')"
            ).fetchone()[0]
        return SpoolSummary(
            waiting=counts[PENDING] + counts[SENDING],
            failed=counts[FAILED],
            oldest_age_seconds=None if oldest is None else max(0.0, time.time() - float(oldest)),
            dropped=self.counters()[DROPPED],
            reasons=self.reasons() if counts[FAILED] else (),
        )

    # -- the drain lock --------------------------------------------------------------------------------------------

    def try_lock_drain(self) -> bool:
        """Become the one process that sends this spool's rows. False while another live process holds it."""
        if self._lock_file is not None:
            return True
        fd = os.open(str(self.path) + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._lock_file = fd
        return True

    def drain_locked_elsewhere(self) -> bool:
        """Whether another live process is sending this spool's rows (so starting a sender of our own is useless)."""
        if self._lock_file is not None:
            return False
        fd = os.open(str(self.path) + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        finally:
            os.close(fd)  # closing the descriptor releases a lock we took
        return False

    def close(self) -> None:
        if self._lock_file is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._lock_file, fcntl.LOCK_UN)
                os.close(self._lock_file)
            self._lock_file = None
        with self._lock:
            self._db.close()

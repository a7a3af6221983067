"""SQLite persistence of the emulator's documents, so the demo's traces and feedback survive a restart.

Only documents are stored (sessions, ingested runs, feedback, tokens, configs, datasets, examples, annotation
queues and their items, chart sections and their charts), one JSON row each; the columnar indexes are rebuilt
from them on start. Bulk-loaded benchmark runs stay in memory by design.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

KINDS = (
    "sessions",
    "runs",
    "pending",
    "feedback",
    "tokens",
    "configs",
    "datasets",
    "examples",
    "queues",
    "queue_items",
    "sections",
    "charts",
)


class DocStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        for kind in KINDS:
            self._db.execute(f"CREATE TABLE IF NOT EXISTS {kind} (id TEXT PRIMARY KEY, doc TEXT NOT NULL)")

    def put_many(self, kind: str, docs: list[tuple[str, dict[str, Any]]]) -> None:
        if not docs:
            return
        rows = [(key, json.dumps(doc, default=str)) for key, doc in docs]
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany(f"INSERT OR REPLACE INTO {kind} (id, doc) VALUES (?, ?)", rows)
            self._db.execute("COMMIT")

    def put(self, kind: str, key: str, doc: dict[str, Any]) -> None:
        self.put_many(kind, [(key, doc)])

    def delete(self, kind: str, key: str) -> None:
        with self._lock:
            self._db.execute(f"DELETE FROM {kind} WHERE id = ?", (key,))

    def load(self, kind: str) -> Iterator[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(f"SELECT doc FROM {kind} ORDER BY rowid").fetchall()
        for (text,) in rows:
            yield json.loads(text)

    def clear(self) -> None:
        with self._lock:
            for kind in KINDS:
                self._db.execute(f"DELETE FROM {kind}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

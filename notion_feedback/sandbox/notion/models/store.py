"""The emulated workspace's records: plain dicts in memory, written through to SQLite when a data_dir is set.

Every object (page, block, database, data source, comment, file upload) is one JSON record keyed by id, so a
demo workspace survives a restart with the same ids. One re-entrant lock guards everything: uvicorn runs
sync handlers on a thread pool, and Notion's own writes are serialised per object anyway.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class Store:
    """Records by id plus small indexes (rows per data source) that are rebuilt on load, not persisted."""

    def __init__(self, path: Path | None = None) -> None:
        self.lock = threading.RLock()
        self.objects: dict[str, dict[str, Any]] = {}
        self.meta: dict[str, Any] = {}
        self.rows: dict[str, list[str]] = {}  # data source id -> page ids in creation order
        self._dirty: set[str] = set()
        self._deleted: set[str] = set()
        self._meta_dirty = False
        self._seq = 0
        self._blobs: dict[str, bytes] = {}
        self._db: sqlite3.Connection | None = None
        if path is not None:
            self._db = sqlite3.connect(str(path), check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS objects (id TEXT PRIMARY KEY, data TEXT NOT NULL)")
            self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            self._db.execute("CREATE TABLE IF NOT EXISTS blobs (id TEXT PRIMARY KEY, data BLOB NOT NULL)")
            self._db.commit()
            self._load()

    def _load(self) -> None:
        assert self._db is not None
        for key, value in self._db.execute("SELECT key, value FROM meta"):
            self.meta[key] = json.loads(value)
        for (data,) in self._db.execute("SELECT data FROM objects"):
            obj = json.loads(data)
            self.objects[obj["id"]] = obj
        for obj in sorted(self.objects.values(), key=lambda o: o.get("seq", 0)):
            self._index(obj)
            self._seq = max(self._seq, obj.get("seq", 0))

    def _index(self, obj: dict[str, Any]) -> None:
        ds = obj.get("data_source_id") if obj["kind"] == "page" else None
        if ds:
            rows = self.rows.setdefault(ds, [])
            if obj["id"] not in rows:
                rows.append(obj["id"])

    # -- records ---------------------------------------------------------------------------------------
    def get(self, object_id: str, kind: str | tuple[str, ...] | None = None) -> dict[str, Any] | None:
        obj = self.objects.get(object_id)
        if obj is None or kind is None:
            return obj
        kinds = (kind,) if isinstance(kind, str) else kind
        return obj if obj["kind"] in kinds else None

    def put(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Insert or mark changed; new records get a sequence number that fixes creation order."""
        with self.lock:
            if obj["id"] not in self.objects:
                self._seq += 1
                obj.setdefault("seq", self._seq)
                self.objects[obj["id"]] = obj
                self._index(obj)
            self._dirty.add(obj["id"])
            self._deleted.discard(obj["id"])
        return obj

    def touch(self, obj: dict[str, Any]) -> None:
        self._dirty.add(obj["id"])

    def of_kind(self, kind: str) -> Iterator[dict[str, Any]]:
        return (o for o in list(self.objects.values()) if o["kind"] == kind)

    def set_meta(self, key: str, value: Any) -> None:
        self.meta[key] = value
        self._meta_dirty = True

    # -- blobs (uploaded file bytes) ------------------------------------------------------------------------
    def put_blob(self, blob_id: str, data: bytes) -> None:
        """Bytes live in SQLite when persisting (not also in memory), else in a dict."""
        with self.lock:
            if self._db is None:
                self._blobs[blob_id] = data
            else:
                self._db.execute("INSERT OR REPLACE INTO blobs VALUES (?, ?)", (blob_id, data))
                self._db.commit()

    def get_blob(self, blob_id: str) -> bytes | None:
        with self.lock:
            if self._db is None:
                return self._blobs.get(blob_id)
            row = self._db.execute("SELECT data FROM blobs WHERE id = ?", (blob_id,)).fetchone()
            return bytes(row[0]) if row else None

    # -- persistence ----------------------------------------------------------------------------------------
    def flush(self) -> None:
        """Write changed records in one transaction (called once per mutating request)."""
        with self.lock:
            if self._db is None:
                self._dirty.clear()
                self._meta_dirty = False
                return
            if not self._dirty and not self._meta_dirty:
                return
            rows = [(i, json.dumps(self.objects[i])) for i in self._dirty if i in self.objects]
            self._db.executemany("INSERT OR REPLACE INTO objects VALUES (?, ?)", rows)
            if self._meta_dirty:
                self._db.executemany(
                    "INSERT OR REPLACE INTO meta VALUES (?, ?)", [(k, json.dumps(v)) for k, v in self.meta.items()]
                )
            self._db.commit()
            self._dirty.clear()
            self._meta_dirty = False

    def clear(self) -> None:
        """Admin reset: forget every object (the caller re-seeds the workspace)."""
        with self.lock:
            self.objects.clear()
            self.rows.clear()
            self.meta.clear()
            self._dirty.clear()
            self._seq = 0
            self._blobs.clear()
            if self._db is not None:
                self._db.execute("DELETE FROM objects")
                self._db.execute("DELETE FROM meta")
                self._db.execute("DELETE FROM blobs")
                self._db.commit()

    def close(self) -> None:
        with self.lock:
            self.flush()
            if self._db is not None:
                self._db.close()
                self._db = None

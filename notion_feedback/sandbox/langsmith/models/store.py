"""The emulator's state: projects, runs (documents plus numpy columns), feedback, tokens, configs, datasets and
their examples, annotation queues and their items, custom chart sections and their charts.

Runs are kept twice on purpose. Ingested runs keep their full document (inputs, outputs, extra...) for reads;
every run, including bulk-loaded benchmark runs that have no document, also lives in columns (times, tokens,
costs, codes) so filters and aggregates are vectorised and a million runs answer in milliseconds.
"""

from __future__ import annotations

import copy
import logging
import threading
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from notion_feedback.sandbox.langsmith.exceptions import ApiError, PayloadError
from notion_feedback.sandbox.langsmith.models.columns import (
    FEEDBACK_COLUMNS,
    RUN_COLUMNS,
    Columns,
    Interner,
    MetaColumn,
    meta_str,
)
from notion_feedback.sandbox.langsmith.models.persist import DocStore
from notion_feedback.sandbox.langsmith.models.pricing import PriceMap
from notion_feedback.sandbox.langsmith.models.runs import (
    api_uuid,
    as_uuid,
    dotted_order_ids,
    dotted_order_time,
    extract_usage,
    first_token_time,
    iso_aware,
    iso_naive,
    model_of,
    parse_time,
)

log = logging.getLogger(__name__)

TENANT_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "https://sandbox.local/langsmith/tenant"))
BULK_TRACE_BASE = 1 << 40  # trace codes of bulk-loaded runs never collide with interned ones
USAGE_COLS = ("pt", "ct", "tt", "pc", "cc", "tc")


class LangSmithStore:
    def __init__(self, prices: PriceMap, now: Callable[[], datetime], data_dir: Path | None = None) -> None:
        self.prices = prices
        self.now = now
        self.lock = threading.RLock()
        self.require_feedback_session_id = False
        self.db = DocStore(data_dir / "langsmith.sqlite3") if data_dir else None
        self._clear_memory()
        if self.db:
            self._load()

    # -- lifecycle ---------------------------------------------------------------------------------------
    def _clear_memory(self) -> None:
        self.sessions: dict[str, dict[str, Any]] = {}
        self.sess_codes = Interner()  # session id <-> column code
        self.session_by_name: dict[str, str] = {}
        self.runs = Columns(RUN_COLUMNS)
        self.docs: list[dict[str, Any] | None] = []
        self.row_by_id: dict[str, int] = {}
        self.pending: dict[str, dict[str, Any]] = {}
        self.names = Interner()
        self.rtypes = Interner()
        self.traces = Interner()
        self.trace_rows: dict[int, list[int]] = {}
        self.dirty: set[int] = set()
        self.next_bulk_trace = BULK_TRACE_BASE
        self.meta: dict[str, MetaColumn] = {}
        self.tags: dict[str, set[int]] = {}
        self.attachments: dict[tuple[str, str], tuple[str, bytes]] = {}
        self.fb = Columns(FEEDBACK_COLUMNS)
        self.fb_docs: list[dict[str, Any] | None] = []
        self.fb_by_id: dict[str, int] = {}
        self.fb_keys = Interner()
        self.fb_by_run: dict[int, list[int]] = {}
        self.tokens: dict[str, dict[str, Any]] = {}
        self.configs: dict[str, dict[str, Any]] = {}
        # datasets, examples and annotation queues (rules in ``datasets`` and ``queues``); dicts keep creation order
        self.datasets: dict[str, dict[str, Any]] = {}
        self.examples: dict[str, dict[str, Any]] = {}
        self.queues: dict[str, dict[str, Any]] = {}
        self.queue_items: dict[str, dict[str, Any]] = {}
        # custom chart sections and their charts (rules in ``charts``)
        self.sections: dict[str, dict[str, Any]] = {}
        self.charts: dict[str, dict[str, Any]] = {}

    def reset(self) -> None:
        with self.lock:
            self._clear_memory()
            if self.db:
                self.db.clear()

    def close(self) -> None:
        if self.db:
            self.db.close()
            self.db = None

    def _load(self) -> None:
        assert self.db is not None
        db, self.db = self.db, None  # replay without writing back
        try:
            for s in db.load("sessions"):
                self._add_session(s)
            for d in db.load("runs"):
                self._insert_doc(d)
            for p in db.load("pending"):
                self.pending[p["id"]] = p
            for f in db.load("feedback"):
                self._insert_feedback(f)
            for t in db.load("tokens"):
                self.tokens[t["id"]] = t
            for c in db.load("configs"):
                self.configs[c["feedback_key"]] = c
            for kind in ("datasets", "examples", "queues", "queue_items", "sections", "charts"):
                table = getattr(self, kind)
                for doc in db.load(kind):
                    table[doc["id"]] = doc
        finally:
            self.db = db

    def _save(self, kind: str, key: str, doc: dict[str, Any]) -> None:
        if self.db:
            self.db.put(kind, key, doc)

    def lookup(self, kind: str, key: Any, what: str, label: str) -> dict[str, Any]:
        """The ``kind`` document a request names by ``key`` (its ``what``): 422 for a malformed id, 404 for an
        unknown one, with the API's "<label> not found"."""
        doc = getattr(self, kind).get(api_uuid(key, what))
        if doc is None:
            raise ApiError(404, f"{label} not found")
        return doc  # type: ignore[no-any-return]

    def delete_with_children(self, kind: str, key: str, children: str, parent_key: str) -> None:
        """Drop the ``kind`` document ``key`` and every ``children`` document whose ``parent_key`` names it, in
        memory and on disk (a dataset with its examples, a queue with its items). The caller holds the lock."""
        del getattr(self, kind)[key]
        owned = getattr(self, children)
        gone = [cid for cid, child in owned.items() if child[parent_key] == key]
        for cid in gone:
            del owned[cid]
        if self.db:
            self.db.delete(kind, key)
            for cid in gone:
                self.db.delete(children, cid)

    # -- sessions ----------------------------------------------------------------------------------------
    def _add_session(self, doc: dict[str, Any]) -> dict[str, Any]:
        self.sessions[doc["id"]] = doc
        self.sess_codes.code(doc["id"])
        self.session_by_name[doc["name"]] = doc["id"]
        return doc

    def create_session(self, body: dict[str, Any], *, upsert: bool = False) -> dict[str, Any]:
        with self.lock:
            name = body.get("name")
            if not name or not isinstance(name, str):
                raise ApiError(422, "name is required")
            existing = self.session_by_name.get(name)
            if existing:
                if not upsert:
                    raise ApiError(409, "Session already exists.")
                doc = self.sessions[existing]
                for k in ("description", "extra", "reference_dataset_id"):
                    if body.get(k) is not None:
                        doc[k] = body[k]
                self._save("sessions", doc["id"], doc)
                return doc
            sid = as_uuid(body["id"]) if body.get("id") else str(uuid.uuid4())
            if sid in self.sessions:
                raise ApiError(409, "Session already exists.")
            doc = {
                "id": sid,
                "name": name,
                "description": body.get("description"),
                "extra": body.get("extra"),
                "start_time": iso_aware(parse_time(body.get("start_time")) or self.now()),
                "end_time": iso_aware(parse_time(body.get("end_time"))),
                "tenant_id": TENANT_ID,
                "reference_dataset_id": body.get("reference_dataset_id"),
                "default_dataset_id": None,
                "trace_tier": body.get("trace_tier") or "longlived",
            }
            self._add_session(doc)
            self._save("sessions", sid, doc)
            return doc

    def get_session(self, session_id: str) -> dict[str, Any]:
        try:
            sid = as_uuid(session_id)
        except PayloadError as exc:
            raise ApiError(422, str(exc)) from exc
        doc = self.sessions.get(sid)
        if doc is None:
            raise ApiError(404, "Session not found")
        return doc

    def update_session(self, session_id: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            doc = self.get_session(session_id)
            if body.get("name") and body["name"] != doc["name"]:
                if body["name"] in self.session_by_name:
                    raise ApiError(409, "Session already exists.")
                del self.session_by_name[doc["name"]]
                doc["name"] = body["name"]
                self.session_by_name[doc["name"]] = doc["id"]
            for k in ("description", "extra"):
                if body.get(k) is not None:
                    doc[k] = body[k]
            if body.get("end_time"):
                doc["end_time"] = iso_aware(parse_time(body["end_time"]))
            self._save("sessions", doc["id"], doc)
            return doc

    def delete_session(self, session_id: str) -> None:
        with self.lock:
            doc = self.get_session(session_id)
            code = self.sess_codes.get(doc["id"])
            alive = self.runs["alive"]
            alive[self.runs["sess"] == code] = False
            del self.sessions[doc["id"]]
            self.session_by_name.pop(doc["name"], None)
            if self.db:
                self.db.delete("sessions", doc["id"])

    def resolve_session(self, session_id: Any, session_name: Any) -> str:
        """A run's project: by id (must exist), else by name, created on first use as LangSmith does."""
        if session_id:
            sid = as_uuid(session_id, "session_id")
            if sid not in self.sessions:
                raise ApiError(404, f"Session {sid} not found")
            return sid
        name = str(session_name or "default")
        sid = self.session_by_name.get(name)
        if sid is None:
            sid = self.create_session({"name": name})["id"]
        return sid

    # -- run ingestion -----------------------------------------------------------------------------------
    def ingest(self, posts: list[dict[str, Any]], patches: list[dict[str, Any]], *, strict: bool = False) -> None:
        """Apply creates then updates. ``strict`` (single ``POST /runs``) turns a duplicate id into 409."""
        with self.lock:
            norm_posts = [self._normalize(p, post=True) for p in posts]
            norm_patches = [self._normalize(p, post=False) for p in patches]
            for p in norm_posts:
                p["session_id"] = self.resolve_session(p.pop("session_id", None), p.pop("session_name", None))
            saved: list[tuple[str, dict[str, Any]]] = []
            for p in norm_posts:
                if p["id"] in self.row_by_id:
                    if strict:
                        raise ApiError(409, f"Run {p['id']} already exists")
                    continue  # the SDK treats re-sent creates as delivered
                pend = self.pending.pop(p["id"], None)
                if pend is not None:
                    if self.db:
                        self.db.delete("pending", p["id"])
                    self._merge(p, pend)
                row = self._insert_doc(p)
                saved.append((p["id"], self.docs[row]))  # type: ignore[arg-type]
            for p in norm_patches:
                row = self.row_by_id.get(p["id"])
                if row is None:
                    # An update may overtake its create across background batches: hold it until the create.
                    self.pending[p["id"]] = self._merge(self.pending.get(p["id"], {}), p)
                    self._save("pending", p["id"], self.pending[p["id"]])
                    continue
                doc = self.docs[row]
                assert doc is not None
                self._merge(doc, p)
                self._index_row(row)
                saved.append((p["id"], doc))
            if self.db and saved:
                self.db.put_many("runs", saved)

    def _normalize(self, raw: dict[str, Any], *, post: bool) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise PayloadError("each run must be a JSON object")
        if "id" not in raw or raw["id"] is None:
            if not post:
                raise PayloadError("run update needs an id")
            raw = {**raw, "id": str(uuid.uuid4())}
        d: dict[str, Any] = {k: v for k, v in raw.items() if v is not None or k in ("parent_run_id",)}
        d["id"] = as_uuid(d["id"])
        for key in ("trace_id", "parent_run_id", "reference_example_id", "session_id"):
            if d.get(key):
                d[key] = as_uuid(d[key], key)
        for key in ("start_time", "end_time"):
            if key in d:
                d[key] = iso_naive(parse_time(d[key]))
        if post:
            if not d.get("name"):
                raise PayloadError("run name is required")
            if not d.get("run_type"):
                raise PayloadError("run_type is required")
            if not d.get("start_time"):
                d["start_time"] = iso_naive(dotted_order_time(d.get("dotted_order")) or self.now())
            if not d.get("parent_run_id"):
                d["parent_run_id"] = None
            if not d.get("trace_id"):
                ids = dotted_order_ids(d.get("dotted_order"))
                d["trace_id"] = ids[0] if ids else (None if d.get("parent_run_id") else d["id"])
            if not d.get("dotted_order") and not d.get("parent_run_id"):
                st = parse_time(d["start_time"])
                assert st is not None
                d["dotted_order"] = f"{st:%Y%m%dT%H%M%S%f}Z{d['id']}"
        if "tags" in d and not isinstance(d["tags"], list):
            raise PayloadError("tags must be a list")
        for key in ("inputs", "outputs", "extra"):
            if key in d and not isinstance(d[key], dict):
                d[key] = {"output": d[key]} if key == "outputs" else {"input": d[key]} if key == "inputs" else {}
        if "error" in d and d["error"] is not None and not isinstance(d["error"], str):
            d["error"] = str(d["error"])
        return d

    @staticmethod
    def _merge(doc: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
        for k, v in patch.items():
            if k == "id":
                doc.setdefault("id", v)
            elif k == "extra" and isinstance(v, dict) and isinstance(doc.get("extra"), dict):
                merged = {**doc["extra"], **v}
                if isinstance(doc["extra"].get("metadata"), dict) and isinstance(v.get("metadata"), dict):
                    merged["metadata"] = {**doc["extra"]["metadata"], **v["metadata"]}
                doc["extra"] = merged
            elif k in ("session_id", "session_name") and doc.get("session_id"):
                continue
            elif v is not None or k not in doc:
                doc[k] = v
        return doc

    def _insert_doc(self, doc: dict[str, Any]) -> int:
        row = self.runs.alloc(1)
        self.docs.append(doc)
        self.row_by_id[doc["id"]] = row
        trace_id = doc.get("trace_id") or doc["id"]
        tcode = self.traces.code(trace_id)
        self.trace_rows.setdefault(tcode, []).append(row)
        u = uuid.UUID(doc["id"]).int
        self.runs.arr["id_hi"][row] = u >> 64
        self.runs.arr["id_lo"][row] = u & 0xFFFFFFFFFFFFFFFF
        self.runs.arr["trace"][row] = tcode
        self._index_row(row)
        return row

    def _index_row(self, row: int) -> None:
        """Derive a run's columns from its document (after every create or update)."""
        doc = self.docs[row]
        assert doc is not None
        a = self.runs.arr
        a["alive"][row] = True
        a["has_doc"][row] = True
        a["sess"][row] = self.sess_codes.code(doc["session_id"])
        a["name"][row] = self.names.code(str(doc.get("name") or ""))
        a["rtype"][row] = self.rtypes.code(str(doc.get("run_type") or ""))
        a["root"][row] = not doc.get("parent_run_id")
        start = parse_time(doc.get("start_time"))
        end = parse_time(doc.get("end_time"))
        a["start"][row] = start.timestamp() if start else np.nan
        a["end"][row] = end.timestamp() if end else np.nan
        a["err"][row] = bool(doc.get("error"))
        ft = first_token_time(doc.get("events"))
        a["first_tok"][row] = ft.timestamp() if ft else np.nan
        a["stream"][row] = ft is not None
        usage = extract_usage(doc)
        model, provider = model_of(doc)
        pc = cc = tc = 0.0
        pcd: dict[str, float] = dict(usage.prompt_cost_details)
        ccd: dict[str, float] = dict(usage.completion_cost_details)
        if usage.found:
            priced = self.prices.price(
                model, provider, usage.prompt_tokens, usage.completion_tokens, usage.prompt_token_details
            )
            if priced is not None:
                pc, cc = priced.prompt_cost, priced.completion_cost
                pcd = pcd or priced.prompt_cost_details
            # Costs sent directly in usage_metadata are taken as given (custom models, negotiated prices).
            if usage.direct_prompt_cost is not None:
                pc = usage.direct_prompt_cost
            if usage.direct_completion_cost is not None:
                cc = usage.direct_completion_cost
            tc = pc + cc
            if usage.direct_total_cost is not None:
                tc = usage.direct_total_cost
        a["own_pt"][row] = usage.prompt_tokens
        a["own_ct"][row] = usage.completion_tokens
        a["own_tt"][row] = usage.total_tokens
        a["own_pc"][row] = pc
        a["own_cc"][row] = cc
        a["own_tc"][row] = tc
        doc["_derived"] = {
            "prompt_token_details": usage.prompt_token_details or None,
            "completion_token_details": usage.completion_token_details or None,
            "prompt_cost_details": pcd or None,
            "completion_cost_details": ccd or None,
            "first_token_time": iso_naive(ft),
            "model": model,
            "provider": provider,
            "priced": usage.found,
        }
        md = (doc.get("extra") or {}).get("metadata") or {}
        if isinstance(md, dict):
            for k, v in md.items():
                s = meta_str(v)
                if s is None:
                    continue
                col = self.meta.get(k)
                if col is None:
                    col = self.meta[k] = MetaColumn(self.runs.cap)
                col.set(row, s)
        for t in doc.get("tags") or []:
            self.tags.setdefault(str(t), set()).add(row)
        self.dirty.add(int(a["trace"][row]))

    def refresh(self) -> None:
        """Recompute subtree usage (own + descendants) of traces touched since the last read."""
        with self.lock:
            if not self.dirty:
                return
            a = self.runs.arr
            for tcode in self.dirty:
                rows = self.trace_rows.get(tcode)
                if not rows:
                    continue
                idx = np.asarray(rows)
                for c in USAGE_COLS:
                    a[c][idx] = a["own_" + c][idx]
                depth = {r: (self.docs[r] or {}).get("dotted_order", "").count(".") for r in rows}
                for r in sorted(rows, key=lambda r: -depth[r]):
                    parent = (self.docs[r] or {}).get("parent_run_id")
                    p = self.row_by_id.get(parent) if parent else None
                    if p is None or p == r:
                        continue
                    for c in USAGE_COLS:
                        a[c][p] += a[c][r]
            self.dirty.clear()

    def add_attachment(self, run_id: str, name: str, content_type: str, data: bytes) -> None:
        with self.lock:
            self.attachments[(run_id, name)] = (content_type, data)

    # -- run lookup --------------------------------------------------------------------------------------
    def row_of(self, run_id: Any) -> int | None:
        try:
            rid = as_uuid(run_id)
        except PayloadError:
            return None
        row = self.row_by_id.get(rid)
        if row is not None:
            return row if self.runs.arr["alive"][row] else None
        u = uuid.UUID(rid).int
        hits = np.flatnonzero(
            (self.runs["id_hi"] == np.uint64(u >> 64)) & (self.runs["id_lo"] == np.uint64(u & 0xFFFFFFFFFFFFFFFF))
        )
        hits = hits[self.runs["alive"][hits]]
        return int(hits[0]) if len(hits) else None

    def run_id_of(self, row: int) -> str:
        doc = self.docs[row]
        if doc is not None:
            return doc["id"]
        a = self.runs.arr
        return str(uuid.UUID(int=(int(a["id_hi"][row]) << 64) | int(a["id_lo"][row])))

    def session_id_of_code(self, code: int) -> str | None:
        return self.sess_codes.values[code] if 0 <= code < len(self.sess_codes.values) else None

    # -- feedback ------------------------------------------------------------------------------------------
    def _insert_feedback(self, doc: dict[str, Any]) -> int:
        row = self.fb.alloc(1)
        self.fb_docs.append(doc)
        self.fb_by_id[doc["id"]] = row
        self._index_feedback(row)
        return row

    def _index_feedback(self, row: int) -> None:
        doc = self.fb_docs[row]
        assert doc is not None
        a = self.fb.arr
        a["alive"][row] = True
        run_row = self.row_of(doc["run_id"]) if doc.get("run_id") else None
        a["run"][row] = -1 if run_row is None else run_row
        if run_row is not None:
            rows = self.fb_by_run.setdefault(run_row, [])
            if row not in rows:
                rows.append(row)
        a["sess"][row] = self.sess_codes.code(doc["session_id"]) if doc.get("session_id") else -1
        a["key"][row] = self.fb_keys.code(doc["key"])
        score = doc.get("score")
        a["score"][row] = float(score) if isinstance(score, int | float) else np.nan
        created = parse_time(doc.get("created_at"))
        a["created"][row] = created.timestamp() if created else np.nan

    def feedback_rows_for_runs(self, run_rows: np.ndarray) -> np.ndarray:
        """Live feedback rows on the given runs (vectorised for bulk-loaded feedback)."""
        live = np.flatnonzero(self.fb["alive"])
        if not len(live) or not len(run_rows):
            return live[:0]
        return live[np.isin(self.fb["run"][live], run_rows)]

    def snapshot_doc(self, row: int) -> dict[str, Any] | None:
        doc = self.docs[row]
        return None if doc is None else copy.deepcopy(doc)

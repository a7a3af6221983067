"""Annotation queues and their items: create, read and list queues; add runs (once each); list items by review
status; a reviewer marks an item viewed or completed; counts.

The sandbox has one reviewer (its API key), so a queue needs one review per item: an item the reviewer
completed is ``archived`` (the API's "review requirements satisfied"), the rest ``needs_my_review``, and
``needs_others_review`` is always empty. Only RUN items are emulated.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import numpy as np

from notion_feedback.sandbox.langsmith.exceptions import ApiError
from notion_feedback.sandbox.langsmith.models.datasets import page_of
from notion_feedback.sandbox.langsmith.models.query import decode_cursor, encode_cursor, run_docs
from notion_feedback.sandbox.langsmith.models.runs import api_uuid, iso_aware, parse_time
from notion_feedback.sandbox.langsmith.models.store import TENANT_ID, LangSmithStore

REVIEWER_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "https://sandbox.local/langsmith/reviewer"))
RUBRIC_KEYS = (
    "feedback_key",
    "description",
    "value_descriptions",
    "score_descriptions",
    "is_required",
    "required_if",
    "visible_if",
    "is_assertion",
    "regex_validator",
    "feedback_config_id",
)
"""The rubric item keys a queue keeps (``schemas.AnnotationQueueRubricItem`` without the read-only config)."""
STATUSES = ("needs_my_review", "needs_others_review", "archived")


# -- queues ------------------------------------------------------------------------------------------------
def public_queue(doc: dict[str, Any], *, details: bool = False, rubric: bool = False) -> dict[str, Any]:
    """A queue as listed; ``details`` adds the rubric instructions (create), ``rubric`` its items (read)."""
    out = {k: v for k, v in doc.items() if k not in ("rubric_instructions", "rubric_items")}
    if details or rubric:
        out["rubric_instructions"] = doc.get("rubric_instructions")
    if rubric:
        out["rubric_items"] = doc.get("rubric_items") or []
    return out


def _rubric(items: Any) -> list[dict[str, Any]]:
    if items is None:
        return []
    if not isinstance(items, list) or not all(isinstance(i, dict) and i.get("feedback_key") for i in items):
        raise ApiError(422, "rubric_items must be a list of objects with a feedback_key")
    return [{k: i[k] for k in RUBRIC_KEYS if k in i} for i in items]


def create_queue(store: LangSmithStore, body: Any) -> dict[str, Any]:
    """POST /annotation-queues (the client chooses the id; a known id is 409)."""
    if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"]:
        raise ApiError(422, "name is required")
    with store.lock:
        qid = api_uuid(body["id"], "id") if body.get("id") else str(uuid.uuid4())
        if qid in store.queues:
            raise ApiError(409, f"Annotation queue {qid} already exists")
        now = iso_aware(store.now())
        doc = {
            "id": qid,
            "name": body["name"],
            "description": body.get("description"),
            "created_at": now,
            "updated_at": now,
            "tenant_id": TENANT_ID,
            "queue_type": "single",
            "num_reviewers_per_item": 1,
            "enable_reservations": False,
            "default_dataset": body.get("default_dataset"),
            "metadata": body.get("metadata"),
            "rubric_instructions": body.get("rubric_instructions"),
            "rubric_items": _rubric(body.get("rubric_items")),
        }
        store.queues[qid] = doc
        store._save("queues", qid, doc)
        return public_queue(doc, details=True)


def get_queue(store: LangSmithStore, queue_id: str) -> dict[str, Any]:
    return store.lookup("queues", queue_id, "queue_id", "Annotation queue")


def list_queues(store: LangSmithStore, params: dict[str, list[str]]) -> list[dict[str, Any]]:
    """GET /annotation-queues: by ``ids`` (repeated), ``name``, ``name_contains``; newest first, paged; each
    with ``total_runs``, its item count."""
    ids = {api_uuid(i, "ids") for i in params.get("ids", [])}
    name = (params.get("name") or [None])[-1]
    contains = (params.get("name_contains") or [""])[-1].lower()
    with store.lock:
        docs = [
            {**public_queue(q), "total_runs": sum(1 for i in store.queue_items.values() if i["queue_id"] == q["id"])}
            for q in reversed(store.queues.values())
            if (not ids or q["id"] in ids) and (name is None or q["name"] == name) and contains in q["name"].lower()
        ]
    return page_of(params, docs)


def update_queue(store: LangSmithStore, queue_id: str, body: Any) -> dict[str, Any]:
    """PATCH /annotation-queues/{id}: the given fields replace the stored ones (``rubric_items`` as a whole)."""
    if not isinstance(body, dict):
        raise ApiError(422, "the body must be an object")
    with store.lock:
        doc = get_queue(store, queue_id)
        if "name" in body and (not isinstance(body["name"], str) or not body["name"]):
            raise ApiError(422, "name must be a non-empty string")
        for key in ("name", "description", "rubric_instructions", "default_dataset", "metadata"):
            if key in body:
                doc[key] = body[key]
        if "rubric_items" in body:
            doc["rubric_items"] = _rubric(body["rubric_items"])
        doc["updated_at"] = iso_aware(store.now())
        store._save("queues", doc["id"], doc)
        return public_queue(doc, rubric=True)


def delete_queue(store: LangSmithStore, queue_id: str) -> None:
    """DELETE /annotation-queues/{id}: the queue and its items."""
    with store.lock:
        store.delete_with_children("queues", get_queue(store, queue_id)["id"], "queue_items", "queue_id")


# -- items ---------------------------------------------------------------------------------------------------
def _add_run(store: LangSmithStore, queue: dict[str, Any], run_id: Any, now: str | None) -> dict[str, Any]:
    """The queue's item for the run: the existing one when the run is already there."""
    rid = api_uuid(run_id, "run_id")
    for item in store.queue_items.values():
        if item["queue_id"] == queue["id"] and item["run_id"] == rid:
            return item
    row = store.row_of(rid)
    if row is None:
        raise ApiError(404, f"Run {rid} not found")
    start = float(store.runs.arr["start"][row])
    item = {
        "id": str(uuid.uuid4()),
        "queue_id": queue["id"],
        "item_type": "RUN",
        "run_id": rid,
        "project_id": store.session_id_of_code(int(store.runs.arr["sess"][row])),
        "start_time": iso_aware(datetime.fromtimestamp(start, UTC)) if start == start else None,
        "added_at": now,
        "override_added_at": None,
        "last_reviewed_time": None,
        "source_proposed_example_id": None,
        "thread_id": None,
        "status": None,
    }
    store.queue_items[item["id"]] = item
    store._save("queue_items", item["id"], item)
    return item


def add_runs(store: LangSmithStore, queue_id: str, run_ids: list[Any]) -> list[dict[str, Any]]:
    """Runs into a queue, each at most once (adding a run again returns its item unchanged)."""
    with store.lock:
        queue = get_queue(store, queue_id)
        now = iso_aware(store.now())
        return [_add_run(store, queue, rid, now) for rid in run_ids]


def create_items(store: LangSmithStore, queue_id: str, body: Any) -> list[dict[str, Any]]:
    """POST /platform/annotation-queues/{id}/items ``{"items": [{"run_id": …}, …]}``."""
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ApiError(422, "items must be a list of objects")
    for i in items:
        if i.get("item_type", "RUN") != "RUN" or not i.get("run_id"):
            raise ApiError(422, "only RUN items with a run_id are supported by the emulator")
    return add_runs(store, queue_id, [i["run_id"] for i in items])


def public_item(item: dict[str, Any], keys: tuple[str, ...] | None = None) -> dict[str, Any]:
    """An item as the items API answers it (``keys``: the subset one answer model declares)."""
    completed = item["status"] == "completed"
    out = {
        **{k: v for k, v in item.items() if k not in ("status", "override_added_at")},
        "effective_added_at": item.get("override_added_at") or item["added_at"],
        "completed_by": [REVIEWER_ID] if completed else [],
        "assigned_to": [],
        "reserved_by": [],
    }
    return out if keys is None else {k: out.get(k) for k in keys}


def _bucket(item: dict[str, Any]) -> str:
    return "archived" if item["status"] == "completed" else "needs_my_review"


def queue_items(store: LangSmithStore, queue_id: str, status: str | None) -> list[dict[str, Any]]:
    """The queue's items in ``status`` (one of ``STATUSES``, ``completed`` as ``archived``; None or ``all``:
    every item), in the order they were added."""
    status = "archived" if status == "completed" else status
    if status not in (None, "all", *STATUSES):
        raise ApiError(422, f"status must be one of {', '.join(STATUSES)}")
    with store.lock:
        queue = get_queue(store, queue_id)
        return [
            i
            for i in store.queue_items.values()
            if i["queue_id"] == queue["id"] and (status in (None, "all") or _bucket(i) == status)
        ]


def list_items(store: LangSmithStore, queue_id: str, params: dict[str, str]) -> dict[str, Any]:
    """GET /platform/annotation-queues/{id}/items: one status section, ``page_size`` at a time, by cursor."""
    if not params.get("status"):
        raise ApiError(422, "status is required")
    items = queue_items(store, queue_id, params["status"])
    if params.get("item_type") not in (None, "RUN"):
        items = []
    try:
        size = max(1, min(int(params.get("page_size", 100)), 100))
    except ValueError as exc:
        raise ApiError(422, "page_size must be an integer") from exc
    start = decode_cursor(params.get("cursor"))
    page = items[start : start + size]
    more = start + size < len(items)
    return {"items": [public_item(i) for i in page], "next_cursor": encode_cursor(start + size) if more else None}


def set_status(store: LangSmithStore, item_id: str, body: Any) -> dict[str, Any]:
    """POST /platform/annotation-queues/items/{id}/status: ``completed`` reviews the item, ``viewed`` marks it
    seen, null shows it again to review."""
    body = body if isinstance(body, dict) else {}
    status = body.get("status")
    if status not in (None, "viewed", "completed"):
        raise ApiError(422, "status must be viewed, completed or null")
    with store.lock:
        item = get_item(store, item_id)
        item["status"] = status
        if status == "completed":
            item["last_reviewed_time"] = iso_aware(store.now())
        if body.get("override_added_at"):
            item["override_added_at"] = iso_aware(parse_time(body["override_added_at"]))
        store._save("queue_items", item["id"], item)
        return {
            "queue_item_id": item["id"],
            "status": status,
            "is_archived": status == "completed",
            "override_added_at": item["override_added_at"],
        }


def get_item(store: LangSmithStore, item_id: str) -> dict[str, Any]:
    return store.lookup("queue_items", item_id, "queue_item_id", "Annotation queue item")


def remove_run(store: LangSmithStore, queue_id: str, run_id: str) -> None:
    """DELETE /annotation-queues/{id}/runs/{run_id}."""
    with store.lock:
        queue = get_queue(store, queue_id)
        rid = api_uuid(run_id, "run_id")
        hits = [i for i in store.queue_items.values() if i["queue_id"] == queue["id"] and i["run_id"] == rid]
        if not hits:
            raise ApiError(404, "Run not found in the annotation queue")
        del store.queue_items[hits[0]["id"]]
        if store.db:
            store.db.delete("queue_items", hits[0]["id"])


def queue_runs(store: LangSmithStore, queue_id: str, status: str | None) -> list[dict[str, Any]]:
    """GET /annotation-queues/{id}/runs: the queue's runs as runs, with the item's place in the queue
    (``queue_run_id`` is the item id a review status is posted to)."""
    with store.lock:
        items = [i for i in queue_items(store, queue_id, status) if store.row_of(i["run_id"]) is not None]
        store.refresh()
        rows = np.asarray([store.row_of(i["run_id"]) for i in items], dtype=np.int64)
        docs = run_docs(store, rows, None) if len(rows) else []
    return [
        {
            **doc,
            "queue_run_id": item["id"],
            "added_at": item["added_at"],
            "effective_added_at": item.get("override_added_at") or item["added_at"],
            "last_reviewed_time": item["last_reviewed_time"],
            "completed_by": public_item(item)["completed_by"],
        }
        for doc, item in zip(docs, items, strict=True)
    ]

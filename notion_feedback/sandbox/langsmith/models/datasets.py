"""Datasets and their examples: create, read, list, update, delete, as ``langsmith.Client`` sends them with
``dataset_examples_multipart_enabled`` off (``POST``/``PATCH /examples/bulk``, ``PATCH /examples/{id}``).

Example ids are the client's (deterministic ids are how a caller makes a re-send harmless): creating an id
that exists answers 409 and creates nothing of that request. Examples list in creation order.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from notion_feedback.sandbox.langsmith.exceptions import ApiError
from notion_feedback.sandbox.langsmith.models.runs import api_uuid, iso_aware, parse_time
from notion_feedback.sandbox.langsmith.models.store import TENANT_ID, LangSmithStore

DATA_TYPES = ("kv", "llm", "chat")
EXAMPLE_FIELDS = ("id", "dataset_id", "inputs", "outputs", "metadata", "created_at", "modified_at", "source_run_id")
"""What an example answer carries: the keys ``schemas.Example`` declares (attachments are not emulated)."""


def _dict_or_none(value: Any, what: str) -> dict[str, Any] | None:
    if value is not None and not isinstance(value, dict):
        raise ApiError(422, f"{what} must be an object")
    return value


# -- datasets ----------------------------------------------------------------------------------------------
def public_dataset(store: LangSmithStore, doc: dict[str, Any]) -> dict[str, Any]:
    """The dataset as the API answers it: its stored fields (``_``-keys are the emulator's) and live counts."""
    out = {k: v for k, v in doc.items() if not k.startswith("_")}
    out["example_count"] = sum(1 for e in store.examples.values() if e["dataset_id"] == doc["id"])
    out["session_count"] = sum(1 for s in store.sessions.values() if s.get("reference_dataset_id") == doc["id"])
    return out


def create_dataset(store: LangSmithStore, body: Any) -> dict[str, Any]:
    """POST /datasets. Names are unique in a workspace (409 otherwise, as LangSmith answers)."""
    if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"]:
        raise ApiError(422, "name is required")
    data_type = body.get("data_type") or "kv"
    if data_type not in DATA_TYPES:
        raise ApiError(422, f"data_type must be one of {', '.join(DATA_TYPES)}")
    extra = _dict_or_none(body.get("extra"), "extra") or {}
    with store.lock:
        if any(d["name"] == body["name"] for d in store.datasets.values()):
            raise ApiError(409, f"Dataset with name {body['name']!r} already exists")
        did = api_uuid(body["id"], "id") if body.get("id") else str(uuid.uuid4())
        if did in store.datasets:
            raise ApiError(409, f"Dataset {did} already exists")
        now = iso_aware(store.now())
        doc = {
            "id": did,
            "name": body["name"],
            "description": body.get("description"),
            "data_type": data_type,
            "created_at": now,
            "modified_at": now,
            "tenant_id": TENANT_ID,
            "inputs_schema_definition": _dict_or_none(body.get("inputs_schema_definition"), "inputs_schema"),
            "outputs_schema_definition": _dict_or_none(body.get("outputs_schema_definition"), "outputs_schema"),
            "transformations": body.get("transformations"),
            "metadata": extra.get("metadata"),
            "externally_managed": False,
            "last_session_start_time": None,
            "_indexed": False,
        }
        store.datasets[did] = doc
        store._save("datasets", did, doc)
        return public_dataset(store, doc)


def get_dataset(store: LangSmithStore, dataset_id: str) -> dict[str, Any]:
    return store.lookup("datasets", dataset_id, "dataset_id", "Dataset")


def _metadata_filter(raw: str | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        wanted = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ApiError(422, "metadata must be a JSON object") from exc
    if not isinstance(wanted, dict):
        raise ApiError(422, "metadata must be a JSON object")
    return wanted


def _has_metadata(metadata: Any, wanted: dict[str, Any] | None) -> bool:
    """LangSmith's metadata filter is containment: every given key with the given value."""
    if not wanted:
        return True
    have = metadata if isinstance(metadata, dict) else {}
    return all(k in have and have[k] == v for k, v in wanted.items())


def page_of(params: dict[str, list[str]], items: list[Any]) -> list[Any]:
    """The ``offset``/``limit`` (≤ 100) page the SDK's ``_get_paginated_list`` asks for."""
    try:
        limit = max(1, min(int((params.get("limit") or ["100"])[-1]), 100))
        offset = max(0, int((params.get("offset") or ["0"])[-1]))
    except ValueError as exc:
        raise ApiError(422, "limit and offset must be integers") from exc
    return items[offset : offset + limit]


def list_datasets(store: LangSmithStore, params: dict[str, list[str]]) -> list[dict[str, Any]]:
    """GET /datasets: by ``id`` (repeated), ``name``, ``name_contains``, ``data_type``, ``metadata``; newest first."""
    ids = {api_uuid(i, "id") for i in params.get("id", [])}
    name = (params.get("name") or [None])[-1]
    contains = (params.get("name_contains") or [""])[-1].lower()
    data_type = (params.get("data_type") or [None])[-1]
    wanted = _metadata_filter((params.get("metadata") or [None])[-1])
    with store.lock:
        docs = [
            d
            for d in store.datasets.values()
            if (not ids or d["id"] in ids)
            and (name is None or d["name"] == name)
            and contains in d["name"].lower()
            and (data_type is None or d["data_type"] == data_type)
            and _has_metadata(d.get("metadata"), wanted)
        ]
        docs.reverse()
        return [public_dataset(store, d) for d in page_of(params, docs)]


def delete_dataset(store: LangSmithStore, dataset_id: str) -> None:
    """DELETE /datasets/{id}: the dataset and its examples."""
    with store.lock:
        store.delete_with_children("datasets", get_dataset(store, dataset_id)["id"], "examples", "dataset_id")


def set_indexed(store: LangSmithStore, dataset_id: str) -> None:
    """POST /datasets/{id}/index: the dataset becomes searchable (``models.similarity``)."""
    with store.lock:
        doc = get_dataset(store, dataset_id)
        doc["_indexed"] = True
        store._save("datasets", doc["id"], doc)


# -- examples ----------------------------------------------------------------------------------------------
def public_example(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: doc.get(k) for k in EXAMPLE_FIELDS}


def _with_split(metadata: dict[str, Any] | None, split: Any) -> dict[str, Any] | None:
    """A split is kept where LangSmith keeps it: ``metadata.dataset_split``, always a list."""
    if split is None:
        return metadata
    splits = [split] if isinstance(split, str) else split
    if not isinstance(splits, list) or not all(isinstance(s, str) for s in splits):
        raise ApiError(422, "split must be a string or a list of strings")
    return {**(metadata or {}), "dataset_split": splits}


def _new_example(store: LangSmithStore, raw: Any, now: str | None) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ApiError(422, "each example must be an object")
    if not raw.get("dataset_id"):
        raise ApiError(422, "dataset_id is required")
    dataset = get_dataset(store, raw["dataset_id"])
    metadata = _with_split(_dict_or_none(raw.get("metadata"), "metadata"), raw.get("split"))
    created = parse_time(raw["created_at"]) if raw.get("created_at") else None
    return {
        "id": api_uuid(raw["id"], "id") if raw.get("id") else str(uuid.uuid4()),
        "dataset_id": dataset["id"],
        "inputs": _dict_or_none(raw.get("inputs"), "inputs") or {},
        "outputs": _dict_or_none(raw.get("outputs"), "outputs"),
        "metadata": metadata,
        "created_at": iso_aware(created) if created else now,
        "modified_at": now,
        "source_run_id": api_uuid(raw["source_run_id"], "source_run_id") if raw.get("source_run_id") else None,
    }


def create_examples(store: LangSmithStore, body: Any) -> list[dict[str, Any]]:
    """POST /examples/bulk: all or nothing; an id already in the workspace (or twice in the body) is a 409."""
    if not isinstance(body, list):
        raise ApiError(422, "the body must be a list of examples")
    with store.lock:
        now = iso_aware(store.now())
        docs = [_new_example(store, raw, now) for raw in body]
        seen: set[str] = set()
        for doc in docs:
            if doc["id"] in store.examples or doc["id"] in seen:
                raise ApiError(409, f"Example {doc['id']} already exists")
            seen.add(doc["id"])
        for doc in docs:
            store.examples[doc["id"]] = doc
        if store.db:
            store.db.put_many("examples", [(d["id"], d) for d in docs])
        return [public_example(d) for d in docs]


def get_example(store: LangSmithStore, example_id: str) -> dict[str, Any]:
    return store.lookup("examples", example_id, "example_id", "Example")


def _apply_update(store: LangSmithStore, doc: dict[str, Any], body: dict[str, Any], now: str | None) -> None:
    """Given fields replace the stored ones; absent (or null) fields stay, as ``update_examples`` documents."""
    if body.get("dataset_id"):
        doc["dataset_id"] = get_dataset(store, body["dataset_id"])["id"]
    for key in ("inputs", "outputs", "metadata"):
        if body.get(key) is not None:
            doc[key] = _dict_or_none(body[key], key)
    if body.get("split") is not None:
        doc["metadata"] = _with_split(doc.get("metadata"), body["split"])
    doc["modified_at"] = now


def update_example(store: LangSmithStore, example_id: str, body: Any) -> dict[str, Any]:
    """PATCH /examples/{id}."""
    if not isinstance(body, dict):
        raise ApiError(422, "the body must be an object")
    with store.lock:
        doc = get_example(store, example_id)
        _apply_update(store, doc, body, iso_aware(store.now()))
        store._save("examples", doc["id"], doc)
        return public_example(doc)


def update_examples(store: LangSmithStore, body: Any) -> dict[str, Any]:
    """PATCH /examples/bulk: every id must exist (404 otherwise, nothing changed)."""
    if not isinstance(body, list) or not all(isinstance(u, dict) and u.get("id") for u in body):
        raise ApiError(422, "the body must be a list of example updates, each with an id")
    with store.lock:
        docs = [get_example(store, u["id"]) for u in body]
        now = iso_aware(store.now())
        for doc, update in zip(docs, body, strict=True):
            _apply_update(store, doc, update, now)
        if store.db:
            store.db.put_many("examples", [(d["id"], d) for d in docs])
        return {"count": len(docs), "example_ids": [d["id"] for d in docs], "as_of": now}


def list_examples(store: LangSmithStore, params: dict[str, list[str]]) -> list[dict[str, Any]]:
    """GET /examples: by ``dataset``, ``id`` (repeated), ``splits``, ``metadata`` (containment); paged."""
    if params.get("filter"):
        raise ApiError(422, "the emulator does not evaluate example filter expressions; use metadata")
    dataset = (params.get("dataset") or [None])[-1]
    dataset_id = get_dataset(store, dataset)["id"] if dataset else None
    ids = {api_uuid(i, "id") for i in params.get("id", [])}
    splits = set(params.get("splits", []))
    wanted = _metadata_filter((params.get("metadata") or [None])[-1])
    with store.lock:
        docs = [
            public_example(e)
            for e in store.examples.values()
            if (dataset_id is None or e["dataset_id"] == dataset_id)
            and (not ids or e["id"] in ids)
            and (not splits or splits & set((e.get("metadata") or {}).get("dataset_split") or ["base"]))
            and _has_metadata(e.get("metadata"), wanted)
        ]
    return page_of(params, docs)


def delete_examples(store: LangSmithStore, example_ids: list[str], *, strict: bool) -> None:
    """DELETE /examples/{id} (``strict``: 404 for an unknown id) and DELETE /examples?example_ids=…"""
    with store.lock:
        ids = [api_uuid(i, "example_id") for i in example_ids]
        if strict:
            for i in ids:
                get_example(store, i)
        for i in ids:
            if store.examples.pop(i, None) is not None and store.db:
                store.db.delete("examples", i)

"""``POST /api/v2/runs/query`` (SmithDB, what ``client.runs.query()`` calls): upper-case ``selects``, only
``id`` without them, ``{items, next_cursor}`` pages of up to 1000, own usage unless ``include_subtree_usage``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from notion_feedback.sandbox.langsmith.exceptions import ApiError
from notion_feedback.sandbox.langsmith.models.query import (
    decode_cursor,
    encode_cursor,
    latency_seconds,
    order_rows,
    run_docs,
    select_rows,
)
from notion_feedback.sandbox.langsmith.models.runs import iso_aware, parse_time
from notion_feedback.sandbox.langsmith.models.store import LangSmithStore

MAX_PAGE_V2 = 1000
# v2 select name -> legacy field of the run document (None: computed below)
SELECTS: dict[str, str | None] = {
    "ID": "id",
    "NAME": "name",
    "RUN_TYPE": "run_type",
    "STATUS": None,
    "START_TIME": "start_time",
    "END_TIME": "end_time",
    "INPUTS": "inputs",
    "OUTPUTS": "outputs",
    "PARENT_RUN_IDS": "parent_run_ids",
    "PROJECT_ID": None,
    "TRACE_ID": "trace_id",
    "DOTTED_ORDER": "dotted_order",
    "REFERENCE_EXAMPLE_ID": "reference_example_id",
    "ERROR": "error",
    "TAGS": "tags",
    "EXTRA": "extra",
    "EVENTS": "events",
    "FEEDBACK_STATS": "feedback_stats",
    "FIRST_TOKEN_TIME": "first_token_time",
    "APP_PATH": "app_path",
    "PROMPT_TOKENS": "prompt_tokens",
    "COMPLETION_TOKENS": "completion_tokens",
    "TOTAL_TOKENS": "total_tokens",
    "PROMPT_COST": "prompt_cost",
    "COMPLETION_COST": "completion_cost",
    "TOTAL_COST": "total_cost",
    "PROMPT_TOKEN_DETAILS": "prompt_token_details",
    "COMPLETION_TOKEN_DETAILS": "completion_token_details",
    "PROMPT_COST_DETAILS": "prompt_cost_details",
    "COMPLETION_COST_DETAILS": "completion_cost_details",
    "LATENCY_SECONDS": None,
    "METADATA": None,
    "IS_ROOT": None,
    "THREAD_ID": "thread_id",
}


def _time(v: str | None) -> str | None:
    return iso_aware(parse_time(v)) if v else None


def query_runs_v2(store: LangSmithStore, body: dict[str, Any]) -> dict[str, Any]:
    if not body.get("project_ids") and not body.get("reference_dataset_id"):
        raise ApiError(422, "project_ids or reference_dataset_id is required")
    page = int(body.get("page_size") or 100)
    if not 1 <= page <= MAX_PAGE_V2:
        raise ApiError(422, f"page_size must be between 1 and {MAX_PAGE_V2}")
    now = store.now()
    q = {
        "session": body.get("project_ids"),
        "min_start_time": body.get("min_start_time") or (now - timedelta(days=1)).isoformat(),
        "max_start_time": body.get("max_start_time") or now.isoformat(),
        "filter": body.get("filter"),
        "trace_filter": body.get("trace_filter"),
        "tree_filter": body.get("tree_filter"),
        "is_root": body.get("is_root"),
        "has_error": body.get("has_error"),
        "id": body.get("ids"),
        "trace": body.get("trace_id"),
        "run_type": body.get("run_type"),
    }
    selects = [str(s).upper() for s in body.get("selects") or ["ID"]]
    unknown = [s for s in selects if s not in SELECTS]
    if unknown:
        raise ApiError(422, f"unknown selects: {unknown}")
    with store.lock:
        mask = select_rows(store, {k: v for k, v in q.items() if v is not None})
        ordered = order_rows(store, mask, "desc")
        offset = decode_cursor(body.get("cursor"))
        chunk = ordered[offset : offset + page]
        docs = run_docs(store, chunk, None, subtree=bool(body.get("include_subtree_usage")))
    items = []
    for d in docs:
        item: dict[str, Any] = {}
        for s in selects:
            f = SELECTS[s]
            if f is not None:
                item[f] = d.get(f)
        if "STATUS" in selects:
            item["status"] = d["status"].upper()
        if "PROJECT_ID" in selects:
            item["project_id"] = d["session_id"]
        if "LATENCY_SECONDS" in selects:
            item["latency_seconds"] = latency_seconds(d)
        if "METADATA" in selects:
            item["metadata"] = (d.get("extra") or {}).get("metadata")
        if "IS_ROOT" in selects:
            item["is_root"] = d.get("parent_run_id") is None
        for k in ("start_time", "end_time", "first_token_time"):
            if k in item:
                item[k] = _time(item[k])
        items.append(item)
    more = offset + page < len(ordered)
    return {"items": items, "next_cursor": encode_cursor(offset + page) if more else None}

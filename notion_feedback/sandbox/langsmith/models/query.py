"""Run selection shared by ``/runs/query``, ``/runs/stats``, the dashboard and v2 queries, plus the run
documents the read endpoints return.

Token and cost fields on a run are subtree totals (the run plus its descendants), which is what LangSmith's
legacy runs API reports on chain and root runs; v2 queries report the run's own usage unless
``include_subtree_usage`` is set, as the v2 API documents.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np

from notion_feedback.sandbox.langsmith.exceptions import ApiError, PayloadError
from notion_feedback.sandbox.langsmith.models.feedback import feedback_stats
from notion_feedback.sandbox.langsmith.models.filter import filter_mask
from notion_feedback.sandbox.langsmith.models.runs import as_uuid, dotted_order_ids, iso_naive, parse_time
from notion_feedback.sandbox.langsmith.models.store import LangSmithStore

MAX_PAGE = 100
ALWAYS = ("id", "name", "run_type", "start_time", "trace_id", "dotted_order", "session_id", "parent_run_id")


def _list(v: Any) -> list[Any]:
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def select_rows(store: LangSmithStore, body: dict[str, Any], *, need_session: bool = False) -> np.ndarray:
    """Boolean mask of the runs a query/stats body selects."""
    store.refresh()
    mask = store.runs["alive"].copy()
    sessions = _list(body.get("session")) + _list(body.get("project_ids"))
    if need_session and not sessions and not body.get("id") and not body.get("trace"):
        raise ApiError(422, "session is required")
    return _by_fields(store, body, _by_identity(store, body, mask))


def _by_identity(store: LangSmithStore, body: dict[str, Any], mask: np.ndarray) -> np.ndarray:
    """Narrow ``mask`` by session, run id, trace, parent run and reference example (ids must parse)."""
    r = store.runs
    n = r.n
    sessions = _list(body.get("session")) + _list(body.get("project_ids"))
    try:
        if sessions:
            codes = []
            for s in sessions:
                sid = as_uuid(s, "session")
                if sid not in store.sessions:
                    raise ApiError(404, f"Session {sid} not found")
                codes.append(store.sess_codes.get(sid))
            mask &= np.isin(r["sess"], codes)
        if body.get("id"):
            hit = np.zeros(n, dtype=bool)
            for rid in _list(body["id"]):
                row = store.row_of(rid)
                if row is not None:
                    hit[row] = True
            mask &= hit
        if body.get("trace") or body.get("trace_id"):
            row = store.row_of(as_uuid(body.get("trace") or body.get("trace_id"), "trace"))
            tcode = store.traces.codes.get(as_uuid(body.get("trace") or body.get("trace_id")))
            if tcode is None and row is not None:
                tcode = int(r["trace"][row])
            mask &= r["trace"] == (tcode if tcode is not None else -9)
        if body.get("parent_run"):
            pid = as_uuid(body["parent_run"], "parent_run")
            hit = np.zeros(n, dtype=bool)
            for row in np.flatnonzero(r["has_doc"] & mask):
                if (store.docs[row] or {}).get("parent_run_id") == pid:
                    hit[row] = True
            mask &= hit
        if body.get("reference_example"):
            refs = {as_uuid(x) for x in _list(body["reference_example"])}
            hit = np.zeros(n, dtype=bool)
            for row in np.flatnonzero(r["has_doc"] & mask):
                if (store.docs[row] or {}).get("reference_example_id") in refs:
                    hit[row] = True
            mask &= hit
    except PayloadError as exc:
        raise ApiError(422, str(exc)) from exc
    return mask


def _by_fields(store: LangSmithStore, body: dict[str, Any], mask: np.ndarray) -> np.ndarray:
    """Narrow ``mask`` by run type, root, time bounds, error, full-text query and the three filter expressions."""
    r = store.runs
    run_types = _list(body.get("run_type"))
    if run_types:
        mask &= np.isin(r["rtype"], [store.rtypes.get(str(t)) for t in run_types])
    if body.get("is_root") is not None:
        mask &= r["root"] if body["is_root"] else ~r["root"]
    for key, op in (
        ("start_time", np.greater_equal),
        ("min_start_time", np.greater_equal),
        ("end_time", np.less_equal),
        ("max_start_time", np.less_equal),
    ):
        if body.get(key):
            t = parse_time(body[key])
            assert t is not None
            mask &= op(r["start"], t.timestamp())
    err = body.get("error", body.get("has_error"))
    if err is not None:
        mask &= r["err"] if err else ~r["err"]
    if body.get("query"):
        from notion_feedback.sandbox.langsmith.models.filter import Evaluator

        mask &= Evaluator(store)._text(str(body["query"]))
    f = filter_mask(store, body.get("filter"))
    if f is not None:
        mask &= f
    for key in ("trace_filter", "tree_filter"):
        m = filter_mask(store, body.get(key))
        if m is None:
            continue
        if key == "trace_filter":
            m &= r["root"]  # the condition holds on the trace's root run
        traces = np.unique(r["trace"][m & r["alive"]])
        mask &= np.isin(r["trace"], traces)
    return mask


def order_rows(store: LangSmithStore, mask: np.ndarray, order: str = "desc") -> np.ndarray:
    idx = np.flatnonzero(mask)
    starts = store.runs["start"][idx]
    # stable on equal start times: later-ingested first when descending
    perm = np.lexsort((idx, starts))
    idx = idx[perm]
    return idx[::-1] if order != "asc" else idx


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode()


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        return int(json.loads(base64.urlsafe_b64decode(cursor.encode()))["o"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ApiError(400, "Invalid cursor") from exc


def _num(v: float) -> float:
    return float(v)


def run_docs(
    store: LangSmithStore, rows: np.ndarray, select: list[str] | None, *, subtree: bool = True
) -> list[dict[str, Any]]:
    """Run objects in the legacy API shape, restricted to ``select`` (plus the fields every Run needs)."""
    a = store.runs.arr
    wanted = set(select) if select else None
    fb_rows = store.feedback_rows_for_runs(rows) if (wanted is None or "feedback_stats" in wanted) else None
    by_run: dict[int, list[int]] = {}
    if fb_rows is not None:
        for fr, rr in zip(fb_rows.tolist(), store.fb.arr["run"][fb_rows].tolist(), strict=True):
            by_run.setdefault(rr, []).append(fr)
    p = "" if subtree else "own_"
    out = []
    for row in rows.tolist():
        doc = store.docs[row]
        d = doc or {}
        derived = d.get("_derived") or {}
        start, end, ft = a["start"][row], a["end"][row], a["first_tok"][row]
        err = bool(a["err"][row])
        status = "error" if err else ("success" if not np.isnan(end) else "pending")
        rid = store.run_id_of(row)
        trace_id = d.get("trace_id") or rid
        full: dict[str, Any] = {
            "id": rid,
            "name": d.get("name") or store.names.values[int(a["name"][row])],
            "run_type": d.get("run_type") or store.rtypes.values[int(a["rtype"][row])],
            "start_time": d.get("start_time") or _iso(start),
            "end_time": d.get("end_time") or _iso(end),
            "extra": d.get("extra"),
            "error": d.get("error") if doc else ("error" if err else None),
            "serialized": d.get("serialized"),
            "events": d.get("events"),
            "inputs": d.get("inputs") or {},
            "outputs": d.get("outputs"),
            "reference_example_id": d.get("reference_example_id"),
            "parent_run_id": d.get("parent_run_id"),
            "tags": d.get("tags") or [],
            "session_id": store.session_id_of_code(int(a["sess"][row])),
            "status": status,
            "trace_id": trace_id,
            "dotted_order": d.get("dotted_order") or _dotted(start, rid),
            "parent_run_ids": dotted_order_ids(d.get("dotted_order"))[:-1] if doc else [],
            "child_run_ids": None,
            "direct_child_run_ids": None,
            "feedback_stats": feedback_stats(store, np.asarray(by_run.get(row, []), dtype=np.int64)) or None,
            "prompt_tokens": int(a[p + "pt"][row]),
            "completion_tokens": int(a[p + "ct"][row]),
            "total_tokens": int(a[p + "tt"][row]),
            "prompt_token_details": derived.get("prompt_token_details"),
            "completion_token_details": derived.get("completion_token_details"),
            "prompt_cost": _num(a[p + "pc"][row]),
            "completion_cost": _num(a[p + "cc"][row]),
            "total_cost": _num(a[p + "tc"][row]),
            "prompt_cost_details": derived.get("prompt_cost_details"),
            "completion_cost_details": derived.get("completion_cost_details"),
            "first_token_time": derived.get("first_token_time") or (None if np.isnan(ft) else _iso(ft)),
            "app_path": f"/o/{'0' * 8}/projects/p/{a['sess'][row]}/r/{rid}?trace_id={trace_id}",
            "manifest_id": None,
            "in_dataset": False,
            "thread_id": None,
            "s3_urls": _s3_urls(store, rid, d),
            "inputs_preview": None,
            "outputs_preview": None,
            "share_token": None,
        }
        if wanted is not None:
            full = {k: v for k, v in full.items() if k in wanted or k in ALWAYS}
        out.append(full)
    return out


def _s3_urls(store: LangSmithStore, rid: str, doc: dict[str, Any]) -> dict[str, Any] | None:
    names = [name for (run, name) in store.attachments if run == rid]
    if not names:
        return None
    return {
        f"attachment.{name}": {
            "presigned_url": f"/public/attachments/{rid}/{name}",
            "mime_type": store.attachments[(rid, name)][0],
        }
        for name in names
    }


def latency_seconds(run: dict[str, Any]) -> float | None:
    """End minus start of a run answer, in seconds: the v1 answer carries no latency (the SDK derives
    ``Run.latency`` this way), the v2 answer's ``latency_seconds`` is this."""
    start, end = parse_time(run.get("start_time")), parse_time(run.get("end_time"))
    return None if start is None or end is None else round((end - start).total_seconds(), 6)


def _iso(ts: float) -> str | None:
    if np.isnan(ts):
        return None
    from datetime import UTC, datetime

    return iso_naive(datetime.fromtimestamp(float(ts), UTC))


def _dotted(start: float, rid: str) -> str:
    from datetime import UTC, datetime

    return f"{datetime.fromtimestamp(float(start), UTC):%Y%m%dT%H%M%S%f}Z{rid}"


def query_runs(store: LangSmithStore, body: dict[str, Any]) -> dict[str, Any]:
    """POST /runs/query: ``{runs, cursors: {next, prev}, parsed_query}`` with pages of at most 100."""
    limit = body.get("limit")
    if limit is not None:
        limit = int(limit)
        if limit > MAX_PAGE:
            raise ApiError(400, f"limit must be less than or equal to {MAX_PAGE}")
        if limit < 1:
            raise ApiError(422, "limit must be at least 1")
    page = limit or MAX_PAGE
    with store.lock:
        mask = select_rows(store, body)
        ordered = order_rows(store, mask, str(body.get("order") or "desc"))
        offset = decode_cursor(body.get("cursor"))
        chunk = ordered[offset : offset + page]
        runs = run_docs(store, chunk, body.get("select"))
    nxt = encode_cursor(offset + page) if offset + page < len(ordered) and not body.get("skip_pagination") else None
    prev = encode_cursor(max(0, offset - page)) if offset > 0 else None
    return {"runs": runs, "cursors": {"next": nxt, "prev": prev}, "parsed_query": body.get("filter")}

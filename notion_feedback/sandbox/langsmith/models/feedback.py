"""Feedback semantics: create (409 on a known id, 404 on an unknown run), update, list, presigned tokens,
feedback configs, and the ``feedback_stats`` aggregate that runs and stats carry.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from notion_feedback.sandbox.langsmith.exceptions import ApiError, PayloadError
from notion_feedback.sandbox.langsmith.models.runs import as_uuid, iso_aware, parse_time
from notion_feedback.sandbox.langsmith.models.store import TENANT_ID, LangSmithStore

SOURCE_TYPES = ("api", "model", "app", "auto_eval")
DEFAULT_TOKEN_TTL = timedelta(hours=3)


def _round_score(score: Any) -> Any:
    if isinstance(score, bool):
        return int(score)
    if isinstance(score, float):
        return round(score, 4)
    return score


def _check_config(store: LangSmithStore, key: str, score: Any, value: Any) -> None:
    """LangSmith validates feedback against its key's config: bounds for continuous, labels for categorical."""
    cfg = (store.configs.get(key) or {}).get("feedback_config") or {}
    kind = cfg.get("type")
    if kind == "continuous" and isinstance(score, int | float):
        lo, hi = cfg.get("min"), cfg.get("max")
        if (lo is not None and score < lo) or (hi is not None and score > hi):
            raise ApiError(400, f"Score {score} is outside [{lo}, {hi}] for feedback key {key!r}")
    elif kind == "categorical" and (score is not None or value is not None):
        cats = cfg.get("categories") or []
        ok = any(
            (score is not None and c.get("value") == score) or (value is not None and c.get("label") == value)
            for c in cats
        )
        if cats and not ok:
            raise ApiError(400, f"Feedback for {key!r} must be one of its categories")


def create_feedback(store: LangSmithStore, body: dict[str, Any], *, lenient: bool = False) -> dict[str, Any] | None:
    """POST /feedback. ``lenient`` (multipart parts) skips bad items instead of failing the whole batch."""
    with store.lock:
        try:
            return _create(store, body)
        except (ApiError, PayloadError):
            if lenient:
                return None
            raise


def _create(store: LangSmithStore, body: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(body, dict) or not body.get("key"):
        raise ApiError(422, "feedback key is required")
    try:
        fid = as_uuid(body["id"]) if body.get("id") else str(uuid.uuid4())
        run_id = as_uuid(body["run_id"], "run_id") if body.get("run_id") else None
        trace_id = as_uuid(body["trace_id"], "trace_id") if body.get("trace_id") else None
        session_id = as_uuid(body["session_id"], "session_id") if body.get("session_id") else None
    except PayloadError as exc:
        raise ApiError(422, str(exc)) from exc
    if fid in store.fb_by_id:
        raise ApiError(409, f"Feedback with id {fid} already exists")
    run_id = run_id or trace_id
    if run_id is None and session_id is None:
        raise ApiError(422, "One of run_id, trace_id or session_id is required")
    start_time = None
    if run_id is not None:
        row = store.row_of(run_id)
        if row is None:
            raise ApiError(404, f"Run {run_id} not found")
        run_session = store.session_id_of_code(int(store.runs.arr["sess"][row]))
        if session_id is None:
            if store.require_feedback_session_id:
                raise ApiError(422, "session_id is required when creating feedback for a run")
            session_id = run_session
        elif session_id != run_session:
            raise ApiError(404, f"Run {run_id} not found in session {session_id}")
        if trace_id is None:
            trace_id = _trace_of(store, row)
        start_time = float(store.runs.arr["start"][row])
    elif session_id not in store.sessions:
        raise ApiError(404, f"Session {session_id} not found")
    key = str(body["key"])
    score = _round_score(body.get("score"))
    if score is not None and not isinstance(score, int | float):
        raise ApiError(422, "score must be a number or boolean")
    if body.get("feedback_config") and key not in store.configs:
        upsert_config(store, {"feedback_key": key, "feedback_config": body["feedback_config"]})
    _check_config(store, key, score, body.get("value"))
    now = store.now()
    source = body.get("feedback_source") or {"type": "api"}
    if not isinstance(source, dict):
        source = {"type": str(source)}
    source = {
        "type": source.get("type") or "api",
        "metadata": source.get("metadata") or {},
        "user_id": source.get("user_id"),
        "user_name": source.get("user_name"),
    }
    doc = {
        "id": fid,
        "created_at": iso_aware(parse_time(body.get("created_at")) or now),
        "modified_at": iso_aware(parse_time(body.get("modified_at")) or now),
        "run_id": run_id,
        "trace_id": trace_id,
        "key": key,
        "score": score,
        "value": body.get("value"),
        "comment": body.get("comment"),
        "correction": body.get("correction"),
        "feedback_source": source,
        "session_id": session_id,
        "start_time": iso_aware(datetime.fromtimestamp(start_time, UTC)) if start_time else None,
        "comparative_experiment_id": body.get("comparative_experiment_id"),
        "feedback_group_id": body.get("feedback_group_id"),
        "feedback_thread_id": body.get("feedback_thread_id"),
        "extra": body.get("extra"),
    }
    store._insert_feedback(doc)
    store._save("feedback", fid, doc)
    return doc


def _trace_of(store: LangSmithStore, row: int) -> str:
    doc = store.docs[row]
    return doc.get("trace_id") or doc["id"] if doc else store.run_id_of(row)


def get_feedback(store: LangSmithStore, feedback_id: str) -> tuple[int, dict[str, Any]]:
    try:
        fid = as_uuid(feedback_id)
    except PayloadError as exc:
        raise ApiError(422, str(exc)) from exc
    row = store.fb_by_id.get(fid)
    if row is None or not store.fb.arr["alive"][row]:
        raise ApiError(404, "Feedback not found")
    doc = store.fb_docs[row]
    assert doc is not None
    return row, doc


def update_feedback(store: LangSmithStore, feedback_id: str, body: dict[str, Any]) -> dict[str, Any]:
    with store.lock:
        row, doc = get_feedback(store, feedback_id)
        score = _round_score(body["score"]) if "score" in body else doc["score"]
        value = body.get("value", doc["value"])
        _check_config(store, doc["key"], score, value)
        for k in ("score", "value", "comment", "correction", "feedback_config"):
            if k in body:
                doc[k] = _round_score(body[k]) if k == "score" else body[k]
        doc["modified_at"] = iso_aware(store.now())
        store._index_feedback(row)
        store._save("feedback", doc["id"], doc)
        return doc


def delete_feedback(store: LangSmithStore, feedback_id: str) -> None:
    with store.lock:
        row, doc = get_feedback(store, feedback_id)
        store.fb.arr["alive"][row] = False
        del store.fb_by_id[doc["id"]]
        if store.db:
            store.db.delete("feedback", doc["id"])


def _as_list(v: Any) -> list[str]:
    if v is None:
        return []
    return [str(x) for x in (v if isinstance(v, list) else [v])]


def _truthy(v: str | None) -> bool | None:
    return None if v is None else v.lower() in ("1", "true", "yes")


def list_feedback(store: LangSmithStore, params: dict[str, list[str]]) -> list[dict[str, Any]]:
    """GET /feedback with run, key, session, source, user, has_comment, has_score, level, min/max_created_at."""
    one = {k: v[-1] for k, v in params.items() if v}
    runs = {as_uuid(r) for r in params.get("run", []) + params.get("run_id", [])}
    keys = set(params.get("key", []))
    sessions = {as_uuid(s) for s in params.get("session", [])}
    sources = set(params.get("source", []))
    users = set(params.get("user", []))
    has_comment, has_score = _truthy(one.get("has_comment")), _truthy(one.get("has_score"))
    level = one.get("level")
    lo, hi = parse_time(one.get("min_created_at")), parse_time(one.get("max_created_at"))
    limit = max(1, min(int(one.get("limit", 100)), 100))
    offset = max(0, int(one.get("offset", 0)))
    out = []
    with store.lock:
        for row, doc in enumerate(store.fb_docs):
            if doc is None or not store.fb.arr["alive"][row]:
                continue
            if runs and doc["run_id"] not in runs:
                continue
            if keys and doc["key"] not in keys:
                continue
            if sessions and doc["session_id"] not in sessions:
                continue
            src = doc.get("feedback_source") or {}
            if sources and src.get("type") not in sources:
                continue
            if users and str(src.get("user_id")) not in users:
                continue
            if has_comment is not None and bool(doc.get("comment")) != has_comment:
                continue
            if has_score is not None and (doc.get("score") is not None) != has_score:
                continue
            if level == "run" and not doc.get("run_id") or level == "session" and doc.get("run_id"):
                continue
            created = parse_time(doc["created_at"])
            if (lo and created and created < lo) or (hi and created and created > hi):
                continue
            if (
                one.get("comparative_experiment_id")
                and doc.get("comparative_experiment_id") != one["comparative_experiment_id"]
            ):
                continue
            out.append(doc)
    out.sort(key=lambda d: (d["created_at"], d["id"]), reverse=True)
    return out[offset : offset + limit]


# -- feedback stats ---------------------------------------------------------------------------------------
def feedback_stats(store: LangSmithStore, fb_rows: np.ndarray) -> dict[str, Any]:
    """``{key: {n, avg, stdev, min, max, errors, values, comments, sources, ...}}`` over the given rows."""
    if not len(fb_rows):
        return {}
    a = store.fb.arr
    keys = a["key"][fb_rows]
    scores = a["score"][fb_rows]
    out: dict[str, Any] = {}
    for code in np.unique(keys):
        sel = keys == code
        s = scores[sel]
        s = s[~np.isnan(s)]
        rows = fb_rows[sel]
        values: dict[str, int] = {}
        comments: list[str] = []
        sources: dict[str, int] = {}
        docs = [store.fb_docs[r] for r in rows[:10_000]]
        for d in docs:
            if d is None:
                continue
            v = d.get("value")
            if isinstance(v, str):  # categorical labels are counted per value
                values[v] = values.get(v, 0) + 1
            if d.get("comment") and len(comments) < 10:
                comments.append(d["comment"])
            t = (d.get("feedback_source") or {}).get("type") or "api"
            sources[t] = sources.get(t, 0) + 1
        n = int(sel.sum())
        avg = float(s.mean()) if len(s) else None
        name = store.fb_keys.values[int(code)]
        cfg = (store.configs.get(name) or {}).get("feedback_config") or {}
        out[name] = {
            "n": n,
            "avg": None if avg is None else round(avg, 6),
            "stdev": float(s.std()) if len(s) else None,
            "min": float(s.min()) if len(s) else None,
            "max": float(s.max()) if len(s) else None,
            "errors": 0,
            "show_feedback_arrow": cfg.get("type") == "continuous",
            "values": values,
            "comments": comments,
            "sources": sources,
            "contains_thread_feedback": False,
        }
    return out


# -- presigned tokens --------------------------------------------------------------------------------------
def create_token(store: LangSmithStore, body: dict[str, Any], base_url: str) -> dict[str, Any]:
    with store.lock:
        if not isinstance(body, dict) or not body.get("run_id") or not body.get("feedback_key"):
            raise ApiError(422, "run_id and feedback_key are required")
        run_id = as_uuid(body["run_id"], "run_id")
        if store.row_of(run_id) is None:
            raise ApiError(404, f"Run {run_id} not found")
        now = store.now()
        if body.get("expires_at"):
            expires = parse_time(body["expires_at"])
        else:
            d = body.get("expires_in") or {}
            ttl = (
                timedelta(days=d.get("days", 0), hours=d.get("hours", 0), minutes=d.get("minutes", 0))
                if d
                else DEFAULT_TOKEN_TTL
            )
            expires = now + ttl
        if body.get("feedback_config") and body["feedback_key"] not in store.configs:
            upsert_config(store, {"feedback_key": body["feedback_key"], "feedback_config": body["feedback_config"]})
        tid = str(uuid.uuid4())
        tok = {
            "id": tid,
            "url": f"{base_url}/api/v1/feedback/tokens/{tid}",
            "expires_at": iso_aware(expires),
            "run_id": run_id,
            "feedback_key": body["feedback_key"],
            "feedback_id": as_uuid(body["id"]) if body.get("id") else None,
            "created_at": iso_aware(now),
        }
        store.tokens[tid] = tok
        store._save("tokens", tid, tok)
        return public_token(tok)


def public_token(tok: dict[str, Any]) -> dict[str, Any]:
    return {"id": tok["id"], "url": tok["url"], "expires_at": tok["expires_at"]}


def list_tokens(store: LangSmithStore, run_id: str | None) -> list[dict[str, Any]]:
    rid = as_uuid(run_id) if run_id else None
    return [public_token(t) for t in store.tokens.values() if rid is None or t["run_id"] == rid]


def use_token(store: LangSmithStore, token: str, body: dict[str, Any]) -> dict[str, Any]:
    """Feedback through a presigned URL. A token made with a feedback id writes that one feedback: the first
    use creates it, later uses update it (the documented intent of ``feedback_id``; repeat semantics are not
    documented upstream)."""
    with store.lock:
        try:
            tid = as_uuid(token)
        except PayloadError as exc:
            raise ApiError(404, "Token not found") from exc
        tok = store.tokens.get(tid)
        if tok is None:
            raise ApiError(404, "Token not found")
        if parse_time(tok["expires_at"]) <= store.now():
            raise ApiError(403, "Token expired")
        fields = {k: body.get(k) for k in ("score", "value", "comment", "correction") if body.get(k) is not None}
        fid = tok.get("feedback_id")
        if fid and fid in store.fb_by_id:
            return update_feedback(store, fid, fields)
        meta = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
        return _create(
            store,
            {
                **fields,
                "id": fid,
                "run_id": tok["run_id"],
                "key": tok["feedback_key"],
                "feedback_source": {"type": "app", "metadata": {**meta, "__token_id": tid}},
            },
        )


# -- feedback configs ------------------------------------------------------------------------------------
def upsert_config(store: LangSmithStore, body: dict[str, Any]) -> dict[str, Any]:
    with store.lock:
        key = body.get("feedback_key")
        cfg = body.get("feedback_config")
        if not key or not isinstance(cfg, dict) or cfg.get("type") not in ("continuous", "categorical", "freeform"):
            raise ApiError(
                422, "feedback_key and a feedback_config of type continuous|categorical|freeform are required"
            )
        existing = store.configs.get(key)
        if existing is not None:
            if existing["feedback_config"] == cfg and body.get("is_lower_score_better") in (
                None,
                existing.get("is_lower_score_better"),
            ):
                return existing
            raise ApiError(400, f"A different feedback config already exists for key {key!r}")
        doc = {
            "feedback_key": key,
            "feedback_config": cfg,
            "tenant_id": TENANT_ID,
            "modified_at": iso_aware(store.now()),
            "is_lower_score_better": bool(body.get("is_lower_score_better") or False),
            "is_enforced": bool(body.get("is_enforced") or False),
        }
        store.configs[key] = doc
        store._save("configs", key, doc)
        return doc


def update_config(store: LangSmithStore, body: dict[str, Any]) -> dict[str, Any]:
    with store.lock:
        doc = store.configs.get(body.get("feedback_key") or "")
        if doc is None:
            raise ApiError(404, "Feedback config not found")
        if body.get("feedback_config") is not None:
            doc["feedback_config"] = body["feedback_config"]
        if body.get("is_lower_score_better") is not None:
            doc["is_lower_score_better"] = bool(body["is_lower_score_better"])
        doc["modified_at"] = iso_aware(store.now())
        store._save("configs", doc["feedback_key"], doc)
        return doc


def delete_config(store: LangSmithStore, key: str) -> None:
    with store.lock:
        if store.configs.pop(key, None) is None:
            raise ApiError(404, "Feedback config not found")
        if store.db:
            store.db.delete("configs", key)


def list_configs(store: LangSmithStore, params: dict[str, list[str]]) -> list[dict[str, Any]]:
    keys = set(params.get("key", []))
    contains = (params.get("name_contains") or [""])[-1].lower()
    limit = min(int((params.get("limit") or ["100"])[-1]), 100)
    offset = int((params.get("offset") or ["0"])[-1])
    items = [c for k, c in sorted(store.configs.items()) if (not keys or k in keys) and contains in k.lower()]
    return items[offset : offset + limit]

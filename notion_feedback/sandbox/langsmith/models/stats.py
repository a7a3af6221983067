"""Aggregates: ``POST /runs/stats`` (optionally grouped), project stats and the prebuilt dashboard series.

Everything is computed from the numpy columns of the selected rows, so the cost is a few vectorised passes
(sums, one partition per percentile family) whatever the number of runs. Percentiles interpolate linearly
(numpy's default); LangSmith's ClickHouse quantiles are approximate, so expect agreement, not identity.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from notion_feedback.sandbox.langsmith.exceptions import ApiError
from notion_feedback.sandbox.langsmith.models.feedback import feedback_stats
from notion_feedback.sandbox.langsmith.models.query import select_rows
from notion_feedback.sandbox.langsmith.models.runs import iso_naive, parse_time
from notion_feedback.sandbox.langsmith.models.store import LangSmithStore


def _q(values: np.ndarray, qs: tuple[float, ...]) -> list[float | None]:
    if not len(values):
        return [None] * len(qs)
    return [float(x) for x in np.quantile(values, qs)]


def _details(store: LangSmithStore, idx: np.ndarray, key: str) -> dict[str, float] | None:
    """Sums of token/cost detail maps; only ingested runs carry them."""
    docs = idx[store.runs.arr["has_doc"][idx]]
    out: dict[str, float] = {}
    for row in docs.tolist():
        d = ((store.docs[row] or {}).get("_derived") or {}).get(key) or {}
        for k, v in d.items():
            out[k] = out.get(k, 0) + v
    return out or None


def run_stats(store: LangSmithStore, idx: np.ndarray, *, with_feedback: bool = True) -> dict[str, Any]:
    """RunStats over the given rows (the shape of langsmith-java ``RunStatsResponse.RunStats``)."""
    a = store.runs.arr
    n = len(idx)
    start, end = a["start"][idx], a["end"][idx]
    with np.errstate(invalid="ignore"):
        lat = end - start
        ftl = a["first_tok"][idx] - start
    lat = lat[~np.isnan(lat)]
    ftl = ftl[~np.isnan(ftl)]
    tt, pt, ct, tc = a["tt"][idx], a["pt"][idx], a["ct"][idx], a["tc"][idx]
    lat50, lat99 = _q(lat, (0.5, 0.99))
    ft50, ft99 = _q(ftl, (0.5, 0.99))
    tok50, tok99 = _q(tt, (0.5, 0.99))
    pt50, pt99 = _q(pt, (0.5, 0.99))
    ct50, ct99 = _q(ct, (0.5, 0.99))
    c50, c99 = _q(tc, (0.5, 0.99))
    out: dict[str, Any] = {
        "run_count": int(n),
        "latency_p50": lat50,
        "latency_p99": lat99,
        "first_token_p50": ft50,
        "first_token_p99": ft99,
        "total_tokens": int(tt.sum()),
        "prompt_tokens": int(pt.sum()),
        "completion_tokens": int(ct.sum()),
        "median_tokens": None if tok50 is None else int(round(tok50)),
        "tokens_p99": None if tok99 is None else int(round(tok99)),
        "prompt_tokens_p50": None if pt50 is None else int(round(pt50)),
        "prompt_tokens_p99": None if pt99 is None else int(round(pt99)),
        "completion_tokens_p50": None if ct50 is None else int(round(ct50)),
        "completion_tokens_p99": None if ct99 is None else int(round(ct99)),
        "total_cost": float(tc.sum()),
        "prompt_cost": float(a["pc"][idx].sum()),
        "completion_cost": float(a["cc"][idx].sum()),
        "cost_p50": c50,
        "cost_p99": c99,
        "error_rate": float(a["err"][idx].mean()) if n else None,
        "streaming_rate": float(a["stream"][idx].mean()) if n else None,
        "last_run_start_time": iso_naive(datetime.fromtimestamp(float(start.max()), UTC)) if n else None,
        "feedback_stats": feedback_stats(store, store.feedback_rows_for_runs(idx)) if with_feedback else None,
        "run_facets": [],
        "prompt_token_details": _details(store, idx, "prompt_token_details"),
        "completion_token_details": _details(store, idx, "completion_token_details"),
        "prompt_cost_details": _details(store, idx, "prompt_cost_details"),
        "completion_cost_details": _details(store, idx, "completion_cost_details"),
    }
    return out


def _group_codes(store: LangSmithStore, idx: np.ndarray, group_by: dict[str, Any]) -> tuple[np.ndarray, list[str]]:
    """Per selected row a group code (-1 = no group) and the label of each code."""
    attr = str(group_by.get("attribute") or "").lower()
    a = store.runs.arr
    if attr == "name":
        return a["name"][idx], store.names.values
    if attr == "run_type":
        return a["rtype"][idx].astype(np.int32), store.rtypes.values
    if attr == "metadata":
        col = store.meta.get(str(group_by.get("path") or ""))
        if col is None:
            return np.full(len(idx), -1, dtype=np.int32), []
        return col.view(store.runs.n)[idx], col.values.values
    if attr == "tag":
        labels = sorted(store.tags)
        # a run with several tags counts in each of its tags' groups; handled by the caller via masks
        return np.full(len(idx), -1, dtype=np.int32), labels
    raise ApiError(422, "group_by.attribute must be one of name, run_type, tag, metadata")


def grouped_stats(store: LangSmithStore, idx: np.ndarray, group_by: dict[str, Any]) -> dict[str, Any]:
    """``{group label: RunStats}`` for the ``max_groups`` (default 5) largest groups."""
    max_groups = int(group_by.get("max_groups") or 5)
    if str(group_by.get("attribute")).lower() == "tag":
        sizes = []
        for tag, rows in store.tags.items():
            member = np.zeros(store.runs.n, dtype=bool)
            member[np.fromiter(rows, dtype=np.int64, count=len(rows))] = True
            sel = idx[member[idx]]
            if len(sel):
                sizes.append((len(sel), tag, sel))
        sizes.sort(key=lambda t: (-t[0], t[1]))
        return {tag: run_stats(store, sel) for _, tag, sel in sizes[:max_groups]}
    codes, labels = _group_codes(store, idx, group_by)
    valid = codes >= 0
    counts = np.bincount(codes[valid], minlength=len(labels)) if valid.any() else np.zeros(0, dtype=np.int64)
    top = [int(c) for c in np.argsort(-counts, kind="stable")[:max_groups] if counts[c] > 0]
    return {labels[c]: run_stats(store, idx[codes == c]) for c in top}


def stats(store: LangSmithStore, body: dict[str, Any]) -> dict[str, Any]:
    """POST /runs/stats."""
    with store.lock:
        mask = select_rows(store, body, need_session=True)
        idx = np.flatnonzero(mask)
        if body.get("group_by"):
            return grouped_stats(store, idx, body["group_by"])
        out = run_stats(store, idx)
        if body.get("select"):
            keep = set(body["select"])
            out = {k: v for k, v in out.items() if k in keep}
        return out


def session_stats(store: LangSmithStore, session_id: str, start: datetime | None = None) -> dict[str, Any]:
    """Project stats as ``GET /sessions?include_stats=true`` gives them: over the project's traces (root runs)."""
    body: dict[str, Any] = {"session": [session_id], "is_root": True}
    if start:
        body["start_time"] = start.isoformat()
    idx = np.flatnonzero(select_rows(store, body))
    s = run_stats(store, idx)
    s["session_feedback_stats"] = _session_feedback(store, session_id)
    return s


def _session_feedback(store: LangSmithStore, session_id: str) -> dict[str, Any] | None:
    code = store.sess_codes.get(session_id)
    fb = store.fb
    rows = np.flatnonzero(fb["alive"] & (fb["sess"] == code) & (fb["run"] < 0))
    return feedback_stats(store, rows) or None


# -- dashboard ---------------------------------------------------------------------------------------------
CHARTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Trace Count", "bar", ("run_count",)),
    ("Trace Latency", "line", ("latency_p50", "latency_p99")),
    ("Trace Error Rate", "line", ("error_rate",)),
    ("Total Tokens", "bar", ("total_tokens", "prompt_tokens", "completion_tokens")),
    ("Total Cost", "bar", ("total_cost", "prompt_cost", "completion_cost")),
    ("Cost per Trace", "line", ("cost_p50", "cost_p99")),
    ("First Token Latency", "line", ("first_token_p50", "first_token_p99")),
    ("Streaming Rate", "line", ("streaming_rate",)),
)


def _stride_seconds(stride: dict[str, Any] | None) -> float:
    s = stride or {"days": 1}
    secs = timedelta(days=s.get("days", 0), hours=s.get("hours", 0), minutes=s.get("minutes", 0)).total_seconds()
    if secs <= 0:
        raise ApiError(422, "stride must be positive")
    return secs


def _series_id(session_id: str, name: str) -> str:
    return str(uuid.uuid5(uuid.UUID(session_id), name))


ZERO_WHEN_EMPTY = (
    "run_count",
    "total_tokens",
    "prompt_tokens",
    "completion_tokens",
    "total_cost",
    "prompt_cost",
    "completion_cost",
)


def dashboard(store: LangSmithStore, session_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST /api/v1/sessions/{id}/dashboard: a ``CustomChartsSection`` of prebuilt charts over root runs, per
    time bucket of ``bucket_rows``."""
    with store.lock:
        sess = store.get_session(session_id)
        sid = sess["id"]
        per_bucket, stamps = _buckets(store, sid, body)
        omit = bool(body.get("omit_data"))
        charts = [
            _metric_chart(sid, i, title, kind, metrics, per_bucket, stamps, omit)
            for i, (title, kind, metrics) in enumerate(CHARTS)
        ]
        charts.append(_feedback_chart(sid, len(charts), per_bucket, stamps, omit))
        return {
            "id": sid,
            "title": sess["name"],
            "description": "Prebuilt dashboard (sandbox): trace-level metrics per time bucket",
            "index": 0,
            "session_id": sid,
            "charts": charts,
            "sub_sections": [],
        }


def _buckets(store: LangSmithStore, sid: str, body: dict[str, Any]) -> tuple[list[dict[str, Any] | None], list[str]]:
    """The stats of the session's root runs per time bucket (None for an empty one), and each bucket's start."""
    rows, stamps = bucket_rows(store, {"session": [sid], "is_root": True}, body)
    return [run_stats(store, r) if len(r) else None for r in rows], stamps


def bucket_rows(
    store: LangSmithStore, query: dict[str, Any], body: dict[str, Any]
) -> tuple[list[np.ndarray], list[str]]:
    """The rows ``query`` selects in each time bucket of ``body``'s window, and each bucket's start (ISO).

    Buckets start at ``start_time`` (default: end minus 7 days) and step by ``stride``; with a whole-day stride
    the first bucket is aligned to midnight in ``timezone`` (default UTC). The prebuilt dashboard and the custom
    charts share this one bucketing.
    """
    end = parse_time(body.get("end_time")) or store.now()
    start = parse_time(body.get("start_time")) or end - timedelta(days=7)
    step = _stride_seconds(body.get("stride"))
    try:
        tz = ZoneInfo(body.get("timezone") or "UTC")
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ApiError(422, f"unknown timezone {body.get('timezone')!r}") from exc
    if step % 86400 == 0:
        local = start.astimezone(tz)
        start = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
    t0, t1 = start.timestamp(), end.timestamp()
    nb = max(1, int(np.ceil((t1 - t0) / step)))
    q: dict[str, Any] = {**query, "start_time": start.isoformat(), "end_time": end.isoformat()}
    for k in ("filter", "trace_filter", "tree_filter"):
        if body.get(k):
            q[k] = body[k]
    idx = np.flatnonzero(select_rows(store, q))
    a = store.runs.arr
    bucket = ((a["start"][idx] - t0) // step).astype(np.int64)
    keep = (bucket >= 0) & (bucket < nb)
    idx, bucket = idx[keep], bucket[keep]
    order = np.argsort(bucket, kind="stable")
    idx, bucket = idx[order], bucket[order]
    bounds = np.searchsorted(bucket, np.arange(nb + 1))
    rows = [idx[bounds[b] : bounds[b + 1]] for b in range(nb)]
    stamps = [datetime.fromtimestamp(t0 + b * step, UTC).isoformat() for b in range(nb)]
    return rows, stamps


def _series(sid: str, key: str, name: str, metric: str, feedback_key: str | None) -> dict[str, Any]:
    return {
        "id": _series_id(sid, key),
        "name": name,
        "metric": metric,
        "feedback_key": feedback_key,
        "filters": None,
        "group_by": None,
    }


def _metric_chart(
    sid: str,
    index: int,
    title: str,
    kind: str,
    metrics: Any,
    per_bucket: list[dict[str, Any] | None],
    stamps: list[str],
    omit: bool,
) -> dict[str, Any]:
    series = [_series(sid, f"{title}:{m}", m, m, None) for m in metrics]

    def value(metric: str, stats_of_bucket: dict[str, Any] | None) -> Any:
        if stats_of_bucket:
            return stats_of_bucket.get(metric)
        return 0 if metric in ZERO_WHEN_EMPTY else None

    data = (
        []
        if omit
        else [
            {"series_id": s["id"], "timestamp": stamps[b], "value": value(s["metric"], per_bucket[b]), "group": None}
            for s in series
            for b in range(len(stamps))
        ]
    )
    return _chart(sid, title, kind, index, series, data)


def _feedback_chart(
    sid: str, index: int, per_bucket: list[dict[str, Any] | None], stamps: list[str], omit: bool
) -> dict[str, Any]:
    """One series per feedback key (top 5 by count), value = average score in the bucket."""
    keys: dict[str, int] = {}
    for st in per_bucket:
        for k, v in ((st or {}).get("feedback_stats") or {}).items():
            keys[k] = keys.get(k, 0) + v["n"]
    top = sorted(keys, key=lambda k: (-keys[k], k))[:5]
    fseries = [_series(sid, f"feedback:{k}", k, "feedback_score_avg", k) for k in top]

    def value(key: str, stats_of_bucket: dict[str, Any] | None) -> Any:
        return (((stats_of_bucket or {}).get("feedback_stats") or {}).get(key) or {}).get("avg")

    fdata = (
        []
        if omit
        else [
            {
                "series_id": s["id"],
                "timestamp": stamps[b],
                "value": value(s["feedback_key"], per_bucket[b]),
                "group": None,
            }
            for s in fseries
            for b in range(len(stamps))
        ]
    )
    return _chart(sid, "Feedback Scores", "line", index, fseries, fdata)


def _chart(
    sid: str, title: str, kind: str, index: int, series: list[dict[str, Any]], data: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "id": _series_id(sid, f"chart:{title}"),
        "title": title,
        "description": None,
        "index": index,
        "chart_type": kind,
        "series": series,
        "data": data,
        "common_filters": None,
        "metadata": None,
    }

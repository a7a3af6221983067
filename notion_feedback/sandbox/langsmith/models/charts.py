"""Custom charts: sections (dashboards) and their charts, created, listed, read with their data and deleted.

The bodies are those of LangSmith's API as the generated ``langsmith-java`` SDK models them
(``CustomChartsSectionCreate``, ``CustomChartCreate`` with ``CustomChartSeriesCreate`` series); the answers
those of ``CustomChartsSectionResponse`` and ``CustomChartResponse``, and, read with data, the Python SDK's
``types.CustomChartsSection``. A chart's data is computed from the emulator's runs and feedback with the prebuilt
dashboard's bucketing (``stats.bucket_rows``) and statistics (``stats.run_stats``, ``stats.grouped_stats``); a
series ``group_by`` splits each bucket by name, run type, tag or a metadata key, one point per group.
"""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np

from notion_feedback.sandbox.langsmith.exceptions import ApiError
from notion_feedback.sandbox.langsmith.models.runs import api_uuid, iso_aware
from notion_feedback.sandbox.langsmith.models.stats import ZERO_WHEN_EMPTY, bucket_rows, grouped_stats, run_stats
from notion_feedback.sandbox.langsmith.models.store import LangSmithStore

CHART_TYPES = ("line", "bar", "table", "kpi", "top-k", "pie")
METRICS = (
    "run_count",
    "latency_p50",
    "latency_p99",
    "latency_avg",
    "first_token_p50",
    "first_token_p99",
    "total_tokens",
    "prompt_tokens",
    "completion_tokens",
    "median_tokens",
    "completion_tokens_p50",
    "prompt_tokens_p50",
    "tokens_p99",
    "completion_tokens_p99",
    "prompt_tokens_p99",
    "feedback",
    "feedback_score_avg",
    "feedback_values",
    "total_cost",
    "prompt_cost",
    "completion_cost",
    "error_rate",
    "streaming_rate",
    "cost_p50",
    "cost_p99",
)
"""``CustomChartMetric``: what a series may chart."""
FEEDBACK_METRICS = ("feedback", "feedback_score_avg", "feedback_values")
FILTER_KEYS = ("filter", "session", "trace_filter", "tree_filter")
GROUP_ATTRIBUTES = ("name", "run_type", "tag", "metadata")
ALL_GROUPS = 1_000_000


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(422, "the body must be a JSON object")
    return body


# -- sections ------------------------------------------------------------------------------------------------
def public_section(store: LangSmithStore, doc: dict[str, Any]) -> dict[str, Any]:
    """``CustomChartsSectionResponse``: the section with its chart count."""
    return {**doc, "chart_count": sum(1 for c in store.charts.values() if c["section_id"] == doc["id"])}


def create_section(store: LangSmithStore, body: Any) -> dict[str, Any]:
    """POST /charts/section ``{title, description?, index?}``; titles need not be unique (as in LangSmith)."""
    body = _object(body)
    if not isinstance(body.get("title"), str) or not body["title"]:
        raise ApiError(422, "title is required")
    with store.lock:
        now = iso_aware(store.now())
        index = body.get("index")
        doc = {
            "id": str(uuid.uuid4()),
            "title": body["title"],
            "description": body.get("description"),
            "index": index if isinstance(index, int) else len(store.sections),
            "created_at": now,
            "modified_at": now,
        }
        store.sections[doc["id"]] = doc
        store._save("sections", doc["id"], doc)
        return public_section(store, doc)


def get_section(store: LangSmithStore, section_id: str) -> dict[str, Any]:
    return store.lookup("sections", section_id, "section_id", "Section")


def list_sections(store: LangSmithStore, params: dict[str, list[str]]) -> list[dict[str, Any]]:
    """GET /charts/section: by ``id`` (repeated) and ``title_contains``, by index then title, paged."""
    ids = {api_uuid(i, "id") for i in params.get("id", [])}
    contains = (params.get("title_contains") or [""])[-1].lower()
    try:
        limit = max(1, min(int((params.get("limit") or ["100"])[-1]), 100))
        offset = max(0, int((params.get("offset") or ["0"])[-1]))
    except ValueError as exc:
        raise ApiError(422, "limit and offset must be integers") from exc
    with store.lock:
        docs = [
            public_section(store, s)
            for s in store.sections.values()
            if (not ids or s["id"] in ids) and contains in s["title"].lower()
        ]
    docs.sort(key=lambda d: (d["index"], d["title"]))
    return docs[offset : offset + limit]


def delete_section(store: LangSmithStore, section_id: str) -> None:
    """DELETE /charts/section/{id}: the section and its charts."""
    with store.lock:
        doc = get_section(store, section_id)
        gone = [cid for cid, c in store.charts.items() if c["section_id"] == doc["id"]]
        del store.sections[doc["id"]]
        for cid in gone:
            del store.charts[cid]
        if store.db:
            store.db.delete("sections", doc["id"])
            for cid in gone:
                store.db.delete("charts", cid)


def read_section(store: LangSmithStore, section_id: str, body: Any) -> dict[str, Any]:
    """POST /charts/section/{id}: a ``CustomChartsSection``, each chart with its data over the body's window."""
    body = _object(body)
    with store.lock:
        doc = get_section(store, section_id)
        charts = sorted((c for c in store.charts.values() if c["section_id"] == doc["id"]), key=lambda c: c["index"])
        return {
            "id": doc["id"],
            "title": doc["title"],
            "description": doc["description"],
            "index": doc["index"],
            "session_id": None,
            "charts": [chart_with_data(store, c, body) for c in charts],
            "sub_sections": [],
        }


def list_charts(store: LangSmithStore, body: Any) -> dict[str, Any]:
    """POST /charts: every section with its charts and data (``CustomChartsResponse``)."""
    body = _object(body)
    with store.lock:
        ordered = sorted(store.sections.values(), key=lambda d: (d["index"], d["title"]))
        return {"sections": [read_section(store, s["id"], body) for s in ordered]}


# -- charts --------------------------------------------------------------------------------------------------
def _filters(value: Any, what: str) -> dict[str, Any] | None:
    """``CustomChartSeriesFilters`` as given (sessions as UUIDs), None when absent."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - set(FILTER_KEYS):
        raise ApiError(422, f"{what} takes only {', '.join(FILTER_KEYS)}")
    out = {k: value[k] for k in FILTER_KEYS if value.get(k) is not None}
    if "session" in out:
        if not isinstance(out["session"], list):
            raise ApiError(422, f"{what}.session must be a list of project ids")
        out["session"] = [api_uuid(s, f"{what}.session") for s in out["session"]]
    return out


def _group_by(value: Any) -> dict[str, Any] | None:
    """``RunStatsGroupBy``: ``attribute`` (``metadata`` needs a ``path``), ``max_groups`` (default 5)."""
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("attribute") not in GROUP_ATTRIBUTES:
        raise ApiError(422, f"group_by.attribute must be one of {', '.join(GROUP_ATTRIBUTES)}")
    if value["attribute"] == "metadata" and not value.get("path"):
        raise ApiError(422, "group_by.path is required to group by metadata")
    return {
        "attribute": value["attribute"],
        "path": value.get("path"),
        "max_groups": int(value.get("max_groups") or 5),
        "set_by": "series",
    }


def _series(chart_id: str, i: int, raw: Any) -> dict[str, Any]:
    """One ``CustomChartSeriesCreate`` as stored: a ``name``, a ``metric`` (a feedback metric needs its key)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise ApiError(422, f"series[{i}] needs a name")
    if raw.get("metric") not in METRICS:
        raise ApiError(422, f"series[{i}].metric must be one of {', '.join(METRICS)}")
    if raw["metric"] in FEEDBACK_METRICS and not raw.get("feedback_key"):
        raise ApiError(422, f"series[{i}]: a feedback metric needs a feedback_key")
    return {
        "id": str(uuid.uuid5(uuid.UUID(chart_id), f"series:{i}")),
        "name": raw["name"],
        "metric": raw["metric"],
        "feedback_key": raw.get("feedback_key"),
        "filters": _filters(raw.get("filters"), f"series[{i}].filters"),
        "group_by": _group_by(raw.get("group_by")),
    }


def create_chart(store: LangSmithStore, body: Any) -> dict[str, Any]:
    """POST /charts/create: a chart in a section (``section_id`` is required by the emulator), placed last
    unless ``index`` says where."""
    body = _object(body)
    if not isinstance(body.get("title"), str) or not body["title"]:
        raise ApiError(422, "title is required")
    if body.get("chart_type") not in CHART_TYPES:
        raise ApiError(422, f"chart_type must be one of {', '.join(CHART_TYPES)}")
    if not isinstance(body.get("series"), list) or not body["series"]:
        raise ApiError(422, "series must be a non-empty list")
    if not body.get("section_id"):
        raise ApiError(422, "section_id is required")
    with store.lock:
        section = get_section(store, body["section_id"])
        cid = str(uuid.uuid4())
        index = body.get("index")
        siblings = sum(1 for c in store.charts.values() if c["section_id"] == section["id"])
        doc = {
            "id": cid,
            "section_id": section["id"],
            "title": body["title"],
            "description": body.get("description"),
            "index": index if isinstance(index, int) else siblings,
            "chart_type": body["chart_type"],
            "series": [_series(cid, i, s) for i, s in enumerate(body["series"])],
            "common_filters": _filters(body.get("common_filters"), "common_filters"),
            "metadata": body.get("metadata"),
        }
        store.charts[cid] = doc
        store._save("charts", cid, doc)
        return {k: v for k, v in doc.items() if k != "common_filters"}


def get_chart(store: LangSmithStore, chart_id: str) -> dict[str, Any]:
    return store.lookup("charts", chart_id, "chart_id", "Chart")


def read_chart(store: LangSmithStore, chart_id: str, body: Any) -> dict[str, Any]:
    """POST /charts/{id}: the chart with its data."""
    with store.lock:
        return chart_with_data(store, get_chart(store, chart_id), _object(body))


def delete_chart(store: LangSmithStore, chart_id: str) -> None:
    with store.lock:
        doc = get_chart(store, chart_id)
        del store.charts[doc["id"]]
        if store.db:
            store.db.delete("charts", doc["id"])


# -- data ----------------------------------------------------------------------------------------------------
def chart_with_data(store: LangSmithStore, chart: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """A ``SingleCustomChartResponse``: the chart and, unless ``omit_data``, one point per series, bucket and
    group."""
    data = [] if body.get("omit_data") else [p for s in chart["series"] for p in _points(store, chart, s, body)]
    out = {k: v for k, v in chart.items() if k != "section_id"}
    return {**out, "data": data}


def _query(chart: dict[str, Any], series: dict[str, Any]) -> dict[str, Any]:
    """The runs a series covers: its filters over the chart's common ones (both must hold)."""
    common, own = chart.get("common_filters") or {}, series.get("filters") or {}
    q: dict[str, Any] = {}
    if own.get("session") or common.get("session"):
        q["session"] = own.get("session") or common.get("session")
    for key in ("filter", "trace_filter", "tree_filter"):
        parts = [f[key] for f in (common, own) if f.get(key)]
        if parts:
            q[key] = parts[0] if len(parts) == 1 else f"and({', '.join(parts)})"
    return q


def _value(series: dict[str, Any], stats_of: dict[str, Any] | None) -> Any:
    metric = series["metric"]
    if metric in FEEDBACK_METRICS:
        found = ((stats_of or {}).get("feedback_stats") or {}).get(series["feedback_key"]) or {}
        if metric == "feedback":
            return found.get("n", 0)
        return found.get("avg") if metric == "feedback_score_avg" else None  # the values' counts: not emulated
    if stats_of is None:
        return 0 if metric in ZERO_WHEN_EMPTY else None
    return stats_of.get(metric)


def _points(
    store: LangSmithStore, chart: dict[str, Any], series: dict[str, Any], body: dict[str, Any]
) -> list[dict[str, Any]]:
    rows, stamps = bucket_rows(store, _query(chart, series), body)
    group_by = series.get("group_by")
    if not group_by:
        return [
            {"series_id": series["id"], "timestamp": t, "value": _value(series, run_stats(store, r)), "group": None}
            if len(r)
            else {"series_id": series["id"], "timestamp": t, "value": _value(series, None), "group": None}
            for r, t in zip(rows, stamps, strict=True)
        ]
    every = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    labels = list(grouped_stats(store, every, group_by))  # the window's largest groups, as LangSmith picks them
    points = []
    for r, t in zip(rows, stamps, strict=True):
        per_group = grouped_stats(store, r, {**group_by, "max_groups": ALL_GROUPS}) if len(r) else {}
        for label in labels:
            value = _value(series, per_group.get(label))
            points.append({"series_id": series["id"], "timestamp": t, "value": value, "group": label})
    return points

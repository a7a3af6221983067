"""LangSmith's server-side aggregates, read for reports: run stats and the time-bucketed dashboard series.

Why aggregates: a report must cost the same few requests at 10k or 1M runs a day, so nothing here lists runs.
``/runs/stats`` gives counts, percentiles, tokens, cost, error rate and feedback stats for one window (and, with
``group_by``, per metadata value); ``/sessions/{id}/dashboard`` gives daily buckets for a range in one call. The
SDK wraps neither ``group_by`` nor the dashboard, so both go through the product client's own session
(``request_with_retries``), which keeps the shared budget, retries and authentication.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import langsmith
from langsmith import utils as ls_utils

from notion_feedback.errors import LangSmithAccessError, SeriesUnavailable
from notion_feedback.timeutil import parse_iso

log = logging.getLogger(__name__)

# Metrics asked of the dashboard series, and the field of a day's record each one fills.
SERIES_METRICS = {
    "run_count": "runs",
    "error_rate": "error_rate",
    "latency_p50": "latency_p50_s",
    "latency_p99": "latency_p99_s",
    "latency_avg": "latency_avg_s",
    "total_tokens": "tokens",
    "total_cost": "cost",
    "feedback_score_avg": "rating_avg",
    "feedback": "rating_count",
}


INCLUSIVE_END = timedelta(microseconds=1)


def number(value: Any) -> float | None:
    """Numbers may arrive as strings (Decimal costs) or null; parse defensively."""
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def iso_utc(moment: datetime) -> str:
    """An aware UTC timestamp: naive ones are read as UTC by the server, so never send them."""
    return moment.astimezone(UTC).isoformat()


def _post(client: langsmith.Client, path: str, body: dict[str, Any]) -> Any:
    try:
        response = client.request_with_retries("POST", path, request_kwargs={"data": json.dumps(body, default=str)})
        ls_utils.raise_for_status_with_text(response)
    except ls_utils.LangSmithNotFoundError:
        raise
    except ls_utils.LangSmithAuthError as exc:
        raise LangSmithAccessError(
            "LangSmith refused the API key while reading run stats",
            "check LANGSMITH_API_KEY (and LANGSMITH_WORKSPACE_ID for org-scoped keys)",
        ) from exc
    return response.json()


def get_run_stats(
    client: langsmith.Client,
    project: str,
    start: datetime,
    end: datetime,
    *,
    group_by: str | None = None,
    max_groups: int = 50,
    filter: str | None = None,
    select: list[str] | None = None,
) -> dict[str, Any]:
    """Stats of root runs (one per interaction) started in [start, end): one ``POST /runs/stats``.

    With ``group_by="variant"`` the body carries ``group_by: {attribute: metadata, path: variant}`` and the
    response is ``{group value: stats}``.
    """
    body: dict[str, Any] = {
        "session": [project],
        "start_time": iso_utc(start),
        # the server's end bound is inclusive: stop a microsecond short so midnight belongs to the next day only
        "end_time": iso_utc(end - INCLUSIVE_END),
        "is_root": True,
    }
    if filter:
        body["filter"] = filter
    if select:
        body["select"] = select
    if group_by:
        body["group_by"] = {"attribute": "metadata", "path": group_by, "max_groups": max_groups}
    return _post(client, "/runs/stats", body) or {}


def feedback_stats(stats: dict[str, Any], key: str) -> dict[str, Any]:
    """``{n, avg, stdev, values}`` of one feedback key in a stats response (empty when nobody rated).

    ``stdev`` is the spread of the scores (None when the server does not send it); A/B tests need it.
    """
    fb = (stats.get("feedback_stats") or {}).get(key) or {}
    values = fb.get("values") or {}
    return {
        "n": int(number(fb.get("n")) or 0),
        "avg": number(fb.get("avg")),
        "stdev": number(fb.get("stdev")),
        "values": {str(k): int(number(v) or 0) for k, v in values.items()},
    }


@dataclass
class DaySeries:
    """One day's numbers from the dashboard series (seconds for latency, USD for cost)."""

    day: date
    values: dict[str, float | None] = field(default_factory=dict)


def dashboard_series(
    client: langsmith.Client,
    project: str,
    start: datetime,
    end: datetime,
    timezone: str,
    rating_key: str,
) -> dict[date, dict[str, float | None]]:
    """Daily buckets for [start, end) in one ``POST /sessions/{id}/dashboard`` with ``stride: 1 day``.

    Returns ``{local day: {field: value}}`` for the fields in ``SERIES_METRICS``. Raises ``SeriesUnavailable``
    when the server has no such endpoint.
    """
    body = {
        "start_time": iso_utc(start),
        "end_time": iso_utc(end),
        "stride": {"days": 1, "hours": 0, "minutes": 0},
        "timezone": timezone,
        "omit_data": False,
    }
    try:
        section = _post(client, f"/sessions/{project}/dashboard", body) or {}
    except ls_utils.LangSmithNotFoundError as exc:
        raise SeriesUnavailable(str(exc)) from exc
    except ls_utils.LangSmithError as exc:
        if "405" in str(exc) or "Method Not Allowed" in str(exc):
            raise SeriesUnavailable(str(exc)) from exc
        raise
    return parse_dashboard(section, timezone, rating_key)


def parse_dashboard(section: dict[str, Any], timezone: str, rating_key: str) -> dict[date, dict[str, float | None]]:
    """Map a ``CustomChartsSection`` onto days: each series names its metric; data points name their series."""
    tz = ZoneInfo(timezone)
    out: dict[date, dict[str, float | None]] = {}
    for chart in section.get("charts") or []:
        metric_of: dict[str, str] = {}
        for series in chart.get("series") or []:
            metric = series.get("metric")
            if metric not in SERIES_METRICS:
                continue
            if metric.startswith("feedback") and series.get("feedback_key") not in (None, rating_key):
                continue
            metric_of[str(series.get("id"))] = SERIES_METRICS[metric]
        for point in chart.get("data") or []:
            name = metric_of.get(str(point.get("series_id")))
            if name is None or point.get("group") not in (None, ""):
                continue
            stamp = point.get("timestamp")
            if not stamp:
                continue
            day = parse_iso(str(stamp)).astimezone(tz).date()
            out.setdefault(day, {})[name] = number(point.get("value"))
    return out


def day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """[local midnight, next local midnight) in UTC: DST days are 23 or 25 hours long."""
    tz = ZoneInfo(timezone)
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    nxt = day + timedelta(days=1)
    end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)

"""The observation dashboard: a LangSmith custom-charts section of the agent's health, split by variant.

Seven charts over the project's traces, each series grouped by the run metadata key ``variant`` (what an A/B
test sets): trace count, error rate, latency p50 and p99, total tokens, total cost and the average user rating
(the feedback key of the settings). ``init`` makes it once; it is found again by its title, never duplicated.

The Python SDK has no method for custom charts, so the requests are LangSmith's charts API
(``/api/v1/charts/section``, ``/api/v1/charts/create``, as the generated ``langsmith-java`` SDK calls it), sent
through the product client's own session (``request_with_retries``) to keep the shared budget and retries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import langsmith
from langsmith import utils as ls_utils

from notion_feedback.config import Settings
from notion_feedback.smith import projects
from notion_feedback.smith.client import v1_url
from notion_feedback.smith.datasets import translate

GROUP_KEY = "variant"
"""The run metadata key every series is split by (``capture.tracing`` records it)."""
MAX_GROUPS = 5
TRACES_ONLY = "eq(is_root, true)"


@dataclass(frozen=True)
class ChartSpec:
    title: str
    chart_type: str
    metric: str
    rating: bool = False  # the series reads the rating's feedback key


CHARTS: tuple[ChartSpec, ...] = (
    ChartSpec("Traces", "bar", "run_count"),
    ChartSpec("Error rate", "line", "error_rate"),
    ChartSpec("Latency p50", "line", "latency_p50"),
    ChartSpec("Latency p99", "line", "latency_p99"),
    ChartSpec("Total tokens", "bar", "total_tokens"),
    ChartSpec("Total cost", "bar", "total_cost"),
    ChartSpec("User rating", "line", "feedback_score_avg", rating=True),
)
"""The dashboard's charts, in order: the one place that says what it shows."""


@dataclass(frozen=True)
class DashboardRef:
    id: str
    url: str | None  # the dashboard's page in the LangSmith app
    charts: int | None = None  # how many charts it has, as listed (None: not said)

    @property
    def complete(self) -> bool:
        """Every chart of ``CHARTS`` is there (a creation cut short leaves fewer; ``init`` adds the rest)."""
        return self.charts is None or self.charts >= len(CHARTS)


def title(settings: Settings) -> str:
    return f"{settings.langsmith_project} · agent health"


def _send(client: langsmith.Client, method: str, path: str, what: str, **kwargs: Any) -> Any:
    try:
        response = client.request_with_retries(method, v1_url(client, path), **kwargs)
        ls_utils.raise_for_status_with_text(response)
    except Exception as exc:  # noqa: BLE001 - translated
        raise translate(exc, what) from None
    return response.json()


def app_url(client: langsmith.Client, settings: Settings, section_id: str) -> str | None:
    """The dashboard's page, beside the project's (``…/o/{workspace}/projects/p/{id}`` → ``…/dashboards/{id}``);
    None when this process does not know the project's page (never a request)."""
    ref = projects.cached_project(client.api_url, settings.langsmith_project)
    if ref is None or not ref.url or "/projects/p/" not in ref.url:
        return None
    return f"{ref.url.split('/projects/p/')[0]}/dashboards/{section_id}"


def find_dashboard(client: langsmith.Client, settings: Settings) -> DashboardRef | None:
    """The section titled ``title(settings)``, or None: one request."""
    wanted = title(settings)
    params = {"title_contains": wanted, "limit": 100}
    listed = _send(client, "GET", "charts/section", f"find the dashboard {wanted!r}", params=params)
    for section in listed or []:
        if section.get("title") == wanted:
            sid, count = str(section["id"]), section.get("chart_count")
            return DashboardRef(sid, app_url(client, settings, sid), count if isinstance(count, int) else None)
    return None


def chart_titles(client: langsmith.Client, section_id: str) -> set[str]:
    """The titles of the section's charts (read without their data): one request."""
    read = _send(client, "POST", f"charts/section/{section_id}", "read the dashboard", json={"omit_data": True})
    return {str(c.get("title")) for c in read.get("charts") or []}


def chart_body(spec: ChartSpec, settings: Settings, project_id: str, section_id: str, index: int) -> dict[str, Any]:
    """``CustomChartCreate``: one series over the project's traces, grouped by the variant."""
    series: dict[str, Any] = {
        "name": spec.title,
        "metric": spec.metric,
        "filters": {"session": [project_id], "filter": TRACES_ONLY},
        "group_by": {"attribute": "metadata", "path": GROUP_KEY, "max_groups": MAX_GROUPS},
    }
    if spec.rating:
        series["feedback_key"] = settings.rating_key
    return {
        "title": spec.title,
        "chart_type": spec.chart_type,
        "section_id": section_id,
        "index": index,
        "series": [series],
    }


def ensure_dashboard(
    client: langsmith.Client, settings: Settings, project_id: str, create: bool = True
) -> DashboardRef | None:
    """The dashboard, created with its charts when missing, its missing charts added when it has fewer than
    ``CHARTS`` (``create=False``: as found, None when missing; nothing written)."""
    found = find_dashboard(client, settings)
    if not create or (found is not None and found.complete):
        return found
    return complete_dashboard(client, settings, project_id, found)


def complete_dashboard(
    client: langsmith.Client, settings: Settings, project_id: str, found: DashboardRef | None
) -> DashboardRef:
    """Create the dashboard (``found`` None) or add the charts ``found`` lacks."""
    if found is None:
        name = title(settings)
        body = {"title": name, "description": f"Traces of {settings.langsmith_project!r} by {GROUP_KEY}"}
        section_id = str(_send(client, "POST", "charts/section", f"create the dashboard {name!r}", json=body)["id"])
        have: set[str] = set()
    else:
        section_id, have = found.id, chart_titles(client, found.id)
    for index, spec in enumerate(CHARTS):
        if spec.title not in have:
            chart = chart_body(spec, settings, project_id, section_id, index)
            _send(client, "POST", "charts/create", f"create the chart {spec.title!r}", json=chart)
    return DashboardRef(section_id, app_url(client, settings, section_id), len(CHARTS))

"""The observation dashboard: ``init`` makes one LangSmith custom-charts section of seven charts, each split by
the run metadata key ``variant``; a second ``init`` finds it by its title; ``doctor`` checks it; a weekly report
links to it. On the sandbox, whose charts API computes each chart's data from the runs and their feedback."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from notion_feedback.report import kpi
from notion_feedback.report import publish as report
from notion_feedback.setup.doctor import run_checks
from notion_feedback.setup.workspace import init_workspace
from notion_feedback.smith import dashboard
from notion_feedback.smith.client import v1_url
from notion_feedback.testing import World, make_world

TEMPLATE = Path(__file__).resolve().parents[2] / "templates" / "report.md.j2"
"""This checkout's report template (an editable install may resolve the packaged one elsewhere)."""


def _section(world: World, section_id: str, **window: object) -> dict:
    url = v1_url(world.langsmith, f"charts/section/{section_id}")
    response = world.langsmith.request_with_retries("POST", url, json=window)
    response.raise_for_status()
    return response.json()


def _sections(world: World) -> list[dict]:
    response = world.langsmith.request_with_retries("GET", v1_url(world.langsmith, "charts/section"))
    response.raise_for_status()
    return response.json()


def _trace(world: World, variant: str, rating: float | None, *, error: bool = False) -> str:
    """One finished trace tagged with ``variant``, rated ``rating`` under the settings' feedback key."""
    client, rid, now = world.langsmith, str(uuid.uuid4()), datetime.now(UTC)
    client.create_run(
        "agent",
        {"q": "hi"},
        "chain",
        id=rid,
        project_name=world.settings.langsmith_project,
        start_time=now - timedelta(seconds=2),
        end_time=now,
        outputs={"a": "hello"},
        error="boom" if error else None,
        extra={"metadata": {"variant": variant}},
    )
    if rating is not None:
        client.create_feedback(rid, world.settings.rating_key, score=rating, trace_id=rid)
    return rid


def test_init_makes_the_dashboard_of_seven_charts_split_by_variant(sandbox, settings) -> None:  # type: ignore[no-untyped-def]
    world = make_world(sandbox, settings)
    found = dashboard.find_dashboard(world.langsmith, world.settings)
    assert found is not None
    assert found.url and found.url.endswith(f"/dashboards/{found.id}") and "/o/" in found.url
    section = _section(world, found.id, omit_data=True)
    assert section["title"] == f"{world.settings.langsmith_project} · agent health"
    charts = section["charts"]
    assert [c["title"] for c in charts] == [spec.title for spec in dashboard.CHARTS]
    metrics = [s["metric"] for c in charts for s in c["series"]]
    assert metrics == ["run_count", "error_rate", "latency_p50", "latency_p99", "total_tokens", "total_cost"] + [
        "feedback_score_avg"
    ]
    for chart in charts:
        (series,) = chart["series"]
        assert series["group_by"]["attribute"] == "metadata" and series["group_by"]["path"] == "variant"
        assert series["filters"]["session"] == [world.project_id]
    assert charts[-1]["series"][0]["feedback_key"] == world.settings.rating_key


def test_the_dashboards_data_is_split_by_variant(sandbox, settings) -> None:  # type: ignore[no-untyped-def]
    world = make_world(sandbox, settings)
    _trace(world, "A", 5)
    _trace(world, "A", 3, error=True)
    _trace(world, "B", 1)
    found = dashboard.find_dashboard(world.langsmith, world.settings)
    assert found is not None
    section = _section(world, found.id, stride={"days": 1})
    by_title = {c["title"]: c for c in section["charts"]}

    def totals(title: str) -> dict[str, float]:
        out: dict[str, float] = {}
        for point in by_title[title]["data"]:
            if point["value"] is not None:
                out[point["group"]] = out.get(point["group"], 0) + point["value"]
        return out

    assert totals("Traces") == {"A": 2, "B": 1}
    assert totals("Error rate") == {"A": 0.5, "B": 0.0}
    assert totals("User rating") == {"A": 4.0, "B": 1.0}


def test_a_second_init_creates_nothing_and_keeps_one_dashboard(sandbox, settings) -> None:  # type: ignore[no-untyped-def]
    world = make_world(sandbox, settings)
    title = dashboard.title(world.settings)
    again = init_workspace(world.settings, world.settings.parent_page_id)  # type: ignore[arg-type]
    assert again.created == []
    assert [s["title"] for s in _sections(world)].count(title) == 1


def test_doctor_checks_the_dashboard_and_says_how_to_make_it(sandbox, settings) -> None:  # type: ignore[no-untyped-def]
    world = make_world(sandbox, settings)
    (check,) = [c for c in run_checks(world.settings) if c.name == "dashboard"]
    assert check.ok, check
    found = dashboard.find_dashboard(world.langsmith, world.settings)
    assert found is not None
    url = v1_url(world.langsmith, f"charts/section/{found.id}")
    world.langsmith.request_with_retries("DELETE", url).raise_for_status()
    (check,) = [c for c in run_checks(world.settings) if c.name == "dashboard"]
    assert not check.ok and "no dashboard" in check.detail
    assert "notion-feedback init" in check.fix


def _links(world: World, page_id: str) -> list[str]:
    blocks = world.notion.blocks.children.list(page_id, page_size=100)["results"]
    return [t["href"] for b in blocks for t in b[b["type"]].get("rich_text", []) if t.get("href")]


def test_the_weekly_report_links_to_the_dashboard(sandbox, settings) -> None:  # type: ignore[no-untyped-def]
    world = make_world(sandbox, settings, report_template=str(TEMPLATE))
    found = dashboard.find_dashboard(world.langsmith, world.settings)
    assert found is not None and found.url
    result = report.publish_report(world.settings, "week", notify=False)
    assert found.url in _links(world, result.page_id)
    url = v1_url(world.langsmith, f"charts/section/{found.id}")
    world.langsmith.request_with_retries("DELETE", url).raise_for_status()
    tz = ZoneInfo(world.settings.timezone)
    earlier = kpi.period_range("week", kpi.last_complete("week", datetime.now(tz).date()))[0] - timedelta(days=7)
    without = report.publish_report(world.settings, "week", anchor=earlier, notify=False)
    assert not [link for link in _links(world, without.page_id) if "/dashboards/" in link]


def test_a_dashboard_missing_a_chart_fails_the_doctor_and_init_adds_it(sandbox, settings) -> None:  # type: ignore[no-untyped-def]
    world = make_world(sandbox, settings)
    found = dashboard.find_dashboard(world.langsmith, world.settings)
    assert found is not None and found.charts == len(dashboard.CHARTS)
    latency = next(c for c in _section(world, found.id, omit_data=True)["charts"] if c["title"] == "Latency p99")
    world.langsmith.request_with_retries(
        "DELETE", v1_url(world.langsmith, f"charts/{latency['id']}")
    ).raise_for_status()
    (check,) = [c for c in run_checks(world.settings) if c.name == "dashboard"]
    assert not check.ok and "6 of its 7 charts" in check.detail and "notion-feedback init" in check.fix
    again = init_workspace(world.settings, world.settings.parent_page_id)  # type: ignore[arg-type]
    assert len(again.created) == 1 and "missing charts" in again.created[0]
    titles = [c["title"] for c in _section(world, found.id, omit_data=True)["charts"]]
    assert sorted(titles) == sorted(spec.title for spec in dashboard.CHARTS)
    (check,) = [c for c in run_checks(world.settings) if c.name == "dashboard"]
    assert check.ok, check

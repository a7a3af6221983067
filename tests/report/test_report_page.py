"""The page and the Reports row, rendered offline from known KPIs: what a reader sees, word for word."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from notion_feedback.config import Settings
from notion_feedback.notion.schema import REPORTS
from notion_feedback.report import kpi
from notion_feedback.report import publish as report
from notion_feedback.setup.workspace import reports_schema

DAY = date(2026, 12, 1)


def _settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, home=tmp_path, langsmith_project="agent")  # type: ignore[call-arg]


def _group(name: str, ratings: int, avg: float) -> kpi.GroupKpis:
    return kpi.GroupKpis(name, 12, 0.0833, 900.0, 2600.0, 600.0, 0.015, 0.00125, avg, ratings, 0.8)


def _data(settings: Settings, groups: list[kpi.GroupKpis]) -> report.ReportData:
    k = kpi.Kpis("day", DAY, DAY, runs=24, error_rate=0.0833, success_rate=0.9167, by_variant=groups)
    series = kpi.Series(points=[kpi.DayPoint(day=DAY, runs=24)], fetched=[], requests=0)
    data = report.ReportData("day", DAY, DAY, k, None, series, kpi.checks(k, settings))
    report.analyse(settings, data)
    return data


def _page_text(settings: Settings, data: report.ReportData) -> str:
    now = datetime(2026, 12, 2, 8, tzinfo=UTC)
    return report.render_text(report.load_template(settings), report.context(settings, data, [], now))


@pytest.mark.parametrize(
    "groups",
    [
        [_group("A", 4, 4.0), _group("B", 5, 4.4)],  # too few ratings: "Not enough data yet: …"
        [_group("A", 0, 4.0), kpi.GroupKpis("B", 12, 0.0, 900.0, 2600.0, 600.0, 0.015, 0.00125, None, 0)],
        [_group("A", 200, 4.0), _group("B", 200, 4.4)],  # judged: "B rated 0.40 higher than A …"
    ],
)
def test_each_verdict_names_its_pair_once(tmp_path: Path, groups: list[kpi.GroupKpis]) -> None:
    settings = _settings(tmp_path)
    text = _page_text(settings, _data(settings, groups))
    [verdict] = [line for line in text.splitlines() if line.startswith("- **B vs A**")]
    assert verdict.count("B vs A") == 1, verdict
    assert text.count("B vs A") == 1


def test_error_rate_is_a_fraction_in_a_percent_formatted_number(tmp_path: Path) -> None:
    """Notion shows 0.0833 in a ``percent`` number as 8.33 %: the row stores the fraction, the schema the format."""
    settings = _settings(tmp_path)
    props = report.row_properties(settings, _data(settings, [_group("A", 4, 4.0)]))
    assert props["Error rate"] == {"number": 0.0833}
    assert reports_schema(settings)["Error rate"] == {"number": {"format": "percent"}}
    assert REPORTS.error_rate.schema() == {"number": {"format": "percent"}}

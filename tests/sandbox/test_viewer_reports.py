"""The Reports data source as `init` makes it, read in the viewer: numbers shown per their format, rows by date."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from notion_feedback.config import Settings
from notion_feedback.notion.client import make_notion_client
from notion_feedback.notion.drift import verify_schema
from notion_feedback.notion.schema import REPORTS
from notion_feedback.sandbox.server import Sandbox
from notion_feedback.sandbox.viewer.format import format_number
from notion_feedback.setup.workspace import init_workspace


def _cell(row_html: str, name: str) -> str:
    cell = rf'<td class="t-[a-z_]+" data-prop="{re.escape(name)}">\s*<div class="cell">(.*?)</div>'
    found = re.search(cell, row_html)
    assert found, f"no {name} cell"
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


def _rows(page: str) -> list[str]:
    return re.findall(r'<tr data-page-id="[^"]+">(.*?)</tr>', page, re.S)


@pytest.fixture()
def reports(settings: Settings, sandbox: Sandbox) -> dict[str, Any]:
    ids = init_workspace(settings, settings.parent_page_id, langsmith=False)
    notion = make_notion_client(settings)
    ds = ids.reports_data_source_id

    def publish(day: str, error_rate: float, cost: float) -> None:
        notion.pages.create(
            parent={"type": "data_source_id", "data_source_id": ds},
            properties={
                REPORTS.title.name: {"title": [{"type": "text", "text": {"content": f"Daily report · {day}"}}]},
                REPORTS.date.name: {"date": {"start": day}},
                REPORTS.runs.name: {"number": 1200},
                REPORTS.error_rate.name: {"number": error_rate},
                REPORTS.cost_usd.name: {"number": cost},
            },
        )

    # published out of date order, as a backfill does
    publish("2026-11-20", 0.0833, 1234.5)
    publish("2026-11-24", 0.05, 3.14159)
    publish("2026-11-22", 0.125, 0.0035)
    return {"notion": notion, "ds_id": ds, "url": f"{sandbox.notion.viewer_url}ds/{ds}"}


def test_the_reports_schema_stores_error_rate_as_a_percent(reports: dict[str, Any]) -> None:
    props = reports["notion"].data_sources.retrieve(reports["ds_id"])["properties"]
    assert props[REPORTS.error_rate.name]["number"]["format"] == "percent"
    assert props[REPORTS.cost_usd.name]["number"]["format"] == "dollar"
    assert props[REPORTS.runs.name]["number"]["format"] == "number"


def test_drift_accepts_a_number_shown_in_another_format() -> None:
    """The format is how Notion displays the number; a team that shows Error rate as a plain number breaks nothing."""
    props = {p.name: {"id": k, "type": p.type, p.type: dict(p.config)} for k, p in REPORTS.all().items()}
    props[REPORTS.error_rate.name]["number"] = {"format": "number"}
    assert verify_schema(props, REPORTS.all(), {}) == []


def test_the_reports_table_shows_numbers_as_notion_formats_them(reports: dict[str, Any]) -> None:
    page = httpx.get(reports["url"])
    assert page.status_code == 200
    by_title = {_cell(r, REPORTS.date.name): r for r in _rows(page.text)}
    oldest = by_title["2026-11-20"]
    assert _cell(oldest, REPORTS.error_rate.name) == "8.33%"
    assert _cell(oldest, REPORTS.cost_usd.name) == "$1,234.50"
    assert _cell(oldest, REPORTS.runs.name) == "1200"
    assert _cell(by_title["2026-11-22"], REPORTS.error_rate.name) == "12.5%"
    assert _cell(by_title["2026-11-24"], REPORTS.cost_usd.name) == "$3.14"


@pytest.mark.parametrize(
    ("value", "fmt", "shown"),
    [
        (0.0833, "percent", "8.33%"),
        (1, "percent", "100%"),
        (12.5, "percent", "1,250%"),
        (1234.5, "number", "1234.5"),
        (1234.5, "number_with_commas", "1,234.5"),
        (0.1 + 0.2, "number", "0.3"),
        (-3.5, "dollar", "-$3.50"),
        (1234.5, "euro", "€1,234.50"),
        (1234.5, "yen", "¥1,235"),
        (0.125, "dollar", "$0.13"),
        (None, "percent", ""),
    ],
)
def test_number_formats(value: float | None, fmt: str, shown: str) -> None:
    assert format_number(value, fmt) == shown


def test_init_gives_the_reports_database_a_view_by_date_newest_first(
    reports: dict[str, Any], settings: Settings
) -> None:
    notion = reports["notion"]
    listed = notion.request(path="views", method="GET", query={"data_source_id": reports["ds_id"]})
    (ref,) = listed["results"]
    view = notion.request(path=f"views/{ref['id']}", method="GET")
    assert view["type"] == "table" and view["sorts"] == [{"property": REPORTS.date.name, "direction": "descending"}]
    again = init_workspace(settings, settings.parent_page_id, langsmith=False)
    assert again.created == []
    assert len(notion.request(path="views", method="GET", query={"data_source_id": reports["ds_id"]})["results"]) == 1


def test_the_reports_table_lists_rows_by_date_newest_first(reports: dict[str, Any]) -> None:
    page = httpx.get(reports["url"])
    dates = [_cell(r, REPORTS.date.name) for r in _rows(page.text)]
    assert dates == ["2026-11-24", "2026-11-22", "2026-11-20"], "published 20, 24, 22: shown by Date, not creation"
    assert "View: Newest first" in page.text


def test_a_data_source_without_a_view_lists_its_newest_rows_first(reports: dict[str, Any], sandbox: Sandbox) -> None:
    notion = reports["notion"]
    db = notion.databases.create(
        parent={"type": "page_id", "page_id": sandbox.notion.root_page_id},
        title=[{"type": "text", "text": {"content": "Loose"}}],
        initial_data_source={"properties": {"Name": {"title": {}}}},
    )
    ds = db["data_sources"][0]["id"]
    clock = sandbox.notion.control.clock
    clock.set(datetime(2026, 11, 24, 9, 0, tzinfo=UTC), frozen=True)
    try:
        for name in ("first", "second"):
            clock.advance(120)  # created_time is in minutes: two rows two minutes apart
            notion.pages.create(
                parent={"type": "data_source_id", "data_source_id": ds},
                properties={"Name": {"title": [{"type": "text", "text": {"content": name}}]}},
            )
    finally:
        clock.set(None)
    page = httpx.get(f"{sandbox.notion.viewer_url}ds/{ds}")
    names = [_cell(r, "Name") for r in _rows(page.text)]
    assert names == ["second", "first"] and "View:" not in page.text

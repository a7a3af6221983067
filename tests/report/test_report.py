"""Publishing report pages on the sandbox: content, uploads, idempotence, template override, block limits."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from report_helpers import Interaction, trace
from sqlalchemy import delete

from notion_feedback.config import Settings
from notion_feedback.notion.client import make_notion_client
from notion_feedback.notion.text import plain_text
from notion_feedback.report import publish as report
from notion_feedback.sandbox.server import Sandbox
from notion_feedback.state import open_state, published_reports


def _yesterday() -> datetime:
    d = datetime.now(UTC).date() - timedelta(days=1)
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def _traffic(settings: Settings) -> None:
    t = _yesterday()
    trace(
        settings,
        [
            Interaction(t + timedelta(hours=1), 0.8, 500, 0.003, "A", "gpt-4o-mini", "u1", rating=5),
            Interaction(t + timedelta(hours=2), 1.2, 700, 0.004, "B", "gpt-4.1", "u2", rating=3),
            Interaction(t + timedelta(hours=3), 2.5, 900, 0.006, "B", "gpt-4.1", "u3", error=True),
        ],
    )


def _children(notion, block_id: str) -> list[dict]:  # type: ignore[no-untyped-def]
    out, cursor = [], None
    while True:
        page = (
            notion.blocks.children.list(block_id, start_cursor=cursor, page_size=100)
            if cursor
            else notion.blocks.children.list(block_id, page_size=100)
        )
        out += page["results"]
        if not page.get("has_more"):
            return out
        cursor = page["next_cursor"]


def _settled(read, tries: int = 50) -> int:  # type: ignore[no-untyped-def]
    """The emulator records a request just after answering it: read until the figure stops moving."""
    last = read()
    for _ in range(tries):
        time.sleep(0.02)
        now = read()
        if now == last:
            return now
        last = now
    return last


def _rows(notion, settings: Settings) -> list[dict]:  # type: ignore[no-untyped-def]
    return notion.data_sources.query(settings.reports_data_source_id, page_size=100)["results"]


def test_day_report_page_has_kpis_charts_and_a_reports_row(ws: Settings, sandbox: Sandbox) -> None:
    _traffic(ws)
    before = sandbox.notion.control.count()
    result = report.publish_report(ws, "day")
    notion_requests = _settled(lambda: sandbox.notion.control.count() - before)

    assert result.created and result.runs == 3 and result.charts == 5
    # +1: users.me, once a day; +1: one alert comment for the 3 alerts that fired with this report;
    # +2: both data sources checked before any LangSmith work
    assert result.alert_transitions == 3
    assert notion_requests == result.notion_requests <= 4 + 2 * result.charts + 1 + 1 + 2
    notion = make_notion_client(ws)
    blocks = _children(notion, result.page_id)
    types = [b["type"] for b in blocks]
    headings = [plain_text(b["heading_2"]["rich_text"]) for b in blocks if b["type"] == "heading_2"]
    assert headings[:4] == ["Summary", "Volume", "Response time", "Tokens and cost"] and "A/B comparison" in headings
    assert types.count("table") >= 5 and "callout" in types
    images = [b for b in blocks if b["type"] == "image"]
    assert len(images) == 5
    for img in images:
        assert img["image"]["type"] == "file"  # an attached upload reads back as a Notion-hosted file
    uploads = notion.file_uploads.list(page_size=100)["results"]
    assert sum(u["status"] == "uploaded" for u in uploads) == 5
    kpi_table = next(b for b in blocks if b["type"] == "table")
    rows = _children(notion, kpi_table["id"])
    first_cells = [plain_text(r["table_row"]["cells"][0]) for r in rows]
    assert first_cells[:3] == ["KPI", "Average response time", "Tokens / interaction"]
    [row] = _rows(notion, ws)
    props = row["properties"]
    assert plain_text(props["Title"]["title"]) == report.report_title("day", _yesterday().date())
    assert props["Runs"]["number"] == 3 and props["Ratings"]["number"] == 2
    assert props["Error rate"]["number"] == pytest.approx(0.3333, abs=1e-4)
    assert props["Alerts"]["number"] == result.alerts >= 3 and props["Status"]["select"]["name"] == "Needs attention"


def test_publishing_again_updates_the_same_page_even_without_the_state_store(ws: Settings, sandbox: Sandbox) -> None:
    _traffic(ws)
    first = report.publish_report(ws, "day")
    notion = make_notion_client(ws)
    count = len(_children(notion, first.page_id))
    again = report.publish_report(ws, "day")
    assert (again.page_id, again.url, again.created) == (first.page_id, first.url, False)
    assert len(_children(notion, first.page_id)) == count  # replaced, not appended twice
    # lose the state store: the Reports data source is searched by Title and Date
    with open_state(ws.resolved_state_url).begin() as conn:
        conn.execute(delete(published_reports))
    third = report.publish_report(ws, "day")
    assert third.page_id == first.page_id and not third.created
    assert len(_rows(notion, ws)) == 1
    # a page deleted in Notion is published anew, not an error
    notion.pages.update(first.page_id, in_trash=True)
    fourth = report.publish_report(ws, "day")
    assert fourth.created and fourth.page_id != first.page_id


def test_user_template_overrides_the_shipped_one(ws: Settings, tmp_path: Path) -> None:
    _traffic(ws)
    custom = tmp_path / "mine.md.j2"
    custom.write_text("# {{ title }} for {{ project | md }}\nRuns: **{{ k.runs }}**\n![v](chart:volume)\n")
    result = report.publish_report(ws.model_copy(update={"report_template": custom}), "day")
    blocks = _children(make_notion_client(ws), result.page_id)
    assert [b["type"] for b in blocks] == ["heading_1", "paragraph", "image"]
    assert plain_text(blocks[1]["paragraph"]["rich_text"]) == "Runs: 3"


def test_a_bad_template_is_a_clear_error(ws: Settings, tmp_path: Path) -> None:
    from notion_feedback.errors import ConfigError

    _traffic(ws)
    bad = tmp_path / "bad.md.j2"
    bad.write_text("{{ k.no_such_kpi }}")
    with pytest.raises(ConfigError, match="bad.md.j2"):
        report.publish_report(ws.model_copy(update={"report_template": bad}), "day")
    broken = tmp_path / "broken.md.j2"
    broken.write_text("{% for x in %}")
    with pytest.raises(ConfigError, match="broken.md.j2 line 1"):
        report.publish_report(ws.model_copy(update={"report_template": broken}), "day")
    with pytest.raises(ConfigError, match="does not exist"):
        report.publish_report(ws.model_copy(update={"report_template": tmp_path / "missing.j2"}), "day")


def test_250_blocks_go_in_batches_of_100_and_deep_nesting_is_flattened(
    ws: Settings, sandbox: Sandbox, tmp_path: Path
) -> None:
    _traffic(ws)
    big = tmp_path / "big.md.j2"
    big.write_text("{% for i in range(250) %}line {{ i }}\n\n{% endfor %}- a\n  - b\n    - c\n      - d\n        - e\n")
    before = sandbox.notion.control.count("PATCH /v1/blocks")
    result = report.publish_report(ws.model_copy(update={"report_template": big}), "day")
    appends = _settled(lambda: sandbox.notion.control.count("PATCH /v1/blocks") - before)
    assert appends == 2  # 100 ride with pages.create, then 100 and 51
    notion = make_notion_client(ws)
    blocks = _children(notion, result.page_id)
    assert len(blocks) == 251
    assert [plain_text(b["paragraph"]["rich_text"]) for b in blocks[:3]] == ["line 0", "line 1", "line 2"]
    [b] = _children(notion, blocks[-1]["id"])  # three levels in one request: a, b, and b's children
    nested = _children(notion, b["id"])
    assert [plain_text(k["bulleted_list_item"]["rich_text"]) for k in nested] == ["c", "d", "e"]
    assert not any(k["has_children"] for k in nested)

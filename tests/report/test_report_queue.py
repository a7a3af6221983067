"""The weekly report says what the review queue did that week: runs that entered it, reviews done, runs waiting."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from langsmith import Client

from notion_feedback.report import kpi
from notion_feedback.report import publish as report
from notion_feedback.smith import queues
from notion_feedback.testing import World, make_world

DAY = timedelta(days=1)


def _item(run: str, added: datetime | None, reviewed: datetime | None) -> queues.QueueItem:
    return queues.QueueItem(run, added, reviewed, reviewed is not None)


def test_the_week_counts_entries_and_reviews_in_it_and_everything_waiting() -> None:
    start = datetime(2026, 11, 23, tzinfo=UTC)
    end = start + 7 * DAY
    items = {
        "a": _item("a", start + DAY, None),  # entered this week, waiting
        "b": _item("b", start - DAY, start + 2 * DAY),  # entered before, reviewed this week
        "c": _item("c", start + DAY, start + 3 * DAY),  # both
        "d": _item("d", start - 9 * DAY, None),  # waiting since long
        "e": _item("e", end + DAY, end + DAY),  # after the week
    }
    assert queues.queue_week(items, start, end) == queues.QueueWeek(entered=2, reviewed=2, waiting=2)


def _complete(client: Client, queue_id: str, run_id: str) -> None:
    """A reviewer finishes the run's item (the items API the SDK generates)."""

    async def run() -> None:
        items = await client.annotation_queues.items.list(queue_id, status="needs_my_review")
        for item in items.items:
            if item.run_id == run_id:
                await client.annotation_queues.items.create_status(item.id, status="completed")

    asyncio.run(run())


def test_the_weekly_report_shows_the_review_queues_week(sandbox, settings) -> None:  # type: ignore[no-untyped-def]
    world: World = make_world(sandbox, settings)
    tz = ZoneInfo(settings.timezone)
    monday = kpi.period_range("week", kpi.last_complete("week", datetime.now(tz).date()))[0]
    midweek = datetime.combine(monday + 2 * DAY, datetime.min.time(), tz).replace(hour=12)
    client = world.langsmith
    queue_id = queues.find_queue(client, world.settings.review_queue_name)
    assert queue_id
    runs = world.trace_runs(3)
    clock = sandbox.langsmith.control.clock
    try:
        clock.set(midweek.astimezone(UTC))
        queues.enqueue(client, queue_id, [queues.QueueRun(r, world.project_id) for r in runs])
        _complete(client, queue_id, runs[0])
    finally:
        clock.set(None)
    result = report.publish_report(world.settings, "week", notify=False, review_queue=None)
    text = " ".join(
        "".join(t["plain_text"] for t in b[b["type"]].get("rich_text", []))
        for b in world.notion.blocks.children.list(result.page_id, page_size=100)["results"]
    )
    assert "Review queue: 3 runs entered this week, 1 reviewed; 2 waiting for review." in text, text[:2000]
    assert uuid.UUID(queue_id)

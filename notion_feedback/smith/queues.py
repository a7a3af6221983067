"""The review queue: a LangSmith annotation queue where a domain expert reviews the runs people rated low and said
why. Found or created by name; runs go in once each; its items say what was reviewed and when.

Items are added and read through LangSmith's platform items API (``/api/v1/platform/annotation-queues/…``, what
the SDK's generated ``annotation_queues.items`` calls, and what workspaces on SmithDB require: each run is sent with
its project and start time). The requests go through the product client's own session, so they keep the shared
budget and retries.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import langsmith
from langsmith import utils as ls_utils

from notion_feedback.smith.client import v1_url
from notion_feedback.smith.datasets import chunks, translate
from notion_feedback.timeutil import parse_iso_or_none

STATUSES = ("needs_my_review", "needs_others_review", "archived")
"""Every section of a queue's items; ``archived`` holds the items whose review is done."""
REVIEWED = "archived"
ADD_BATCH = 100


def _platform(client: langsmith.Client, path: str) -> str:
    return v1_url(client, f"platform/{path.lstrip('/')}")


def find_queue(client: langsmith.Client, name: str) -> str | None:
    """The id of the queue with this name, or None."""
    try:
        for queue in client.list_annotation_queues(name=name, limit=1):
            return str(queue.id)
    except Exception as exc:  # noqa: BLE001 - translated
        raise translate(exc, f"find the annotation queue {name!r}") from None
    return None


def create_queue(
    client: langsmith.Client, name: str, *, description: str, instructions: str, rubric: list[dict[str, Any]]
) -> str:
    """Create the queue with its rubric; returns its id."""
    try:
        made = client.create_annotation_queue(
            name=name,
            description=description,
            rubric_instructions=instructions,
            rubric_items=rubric,  # type: ignore[arg-type]
        )
    except Exception as exc:  # noqa: BLE001 - translated
        raise translate(exc, f"create the annotation queue {name!r}") from None
    return str(made.id)


def ensure_queue(
    client: langsmith.Client,
    name: str,
    *,
    description: str,
    instructions: str,
    rubric: list[dict[str, Any]],
    create: bool = True,
) -> str | None:
    """The queue's id, created with its rubric when missing (``create=False``: None when missing)."""
    found = find_queue(client, name)
    if found is not None or not create:
        return found
    return create_queue(client, name, description=description, instructions=instructions, rubric=rubric)


@dataclass(frozen=True)
class QueueItem:
    run_id: str
    added_at: datetime | None
    reviewed_at: datetime | None
    reviewed: bool


def _pages(client: langsmith.Client, queue_id: str, status: str) -> Iterator[dict[str, Any]]:
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"status": status, "page_size": 100, "item_type": "RUN"}
        if cursor:
            params["cursor"] = cursor
        response = client.request_with_retries(
            "GET", _platform(client, f"annotation-queues/{queue_id}/items"), params=params
        )
        ls_utils.raise_for_status_with_text(response)
        page = response.json()
        yield from page.get("items") or []
        cursor = page.get("next_cursor")
        if not cursor:
            return


def queue_items(client: langsmith.Client, queue_id: str) -> dict[str, QueueItem]:
    """Every run in the queue, by run id, with when it entered and whether (and when) its review was done."""
    out: dict[str, QueueItem] = {}
    try:
        for status in STATUSES:
            for item in _pages(client, queue_id, status):
                if not item.get("run_id"):
                    continue
                out[str(item["run_id"])] = QueueItem(
                    str(item["run_id"]),
                    parse_iso_or_none(item.get("added_at")),
                    parse_iso_or_none(item.get("last_reviewed_time")),
                    status == REVIEWED,
                )
    except Exception as exc:  # noqa: BLE001 - translated
        raise translate(exc, "list the review queue") from None
    return out


@dataclass(frozen=True)
class QueueRun:
    run_id: str
    project_id: str
    start_time: datetime | None = None


def enqueue(client: langsmith.Client, queue_id: str, runs: list[QueueRun]) -> None:
    """Add runs to the queue, 100 per request, each with its lookup key (run, project, start time)."""
    for chunk in chunks(runs, ADD_BATCH):
        items = []
        for run in chunk:
            item: dict[str, Any] = {"item_type": "RUN", "run_id": run.run_id, "project_id": run.project_id}
            if run.start_time is not None:
                item["start_time"] = run.start_time.isoformat()
            items.append(item)
        try:
            url = _platform(client, f"annotation-queues/{queue_id}/items")
            response = client.request_with_retries("POST", url, json={"items": items})
            ls_utils.raise_for_status_with_text(response)
        except Exception as exc:  # noqa: BLE001 - translated
            raise translate(exc, "add runs to the review queue") from None


@dataclass(frozen=True)
class QueueWeek:
    """What a report says about the queue over a period."""

    entered: int
    reviewed: int
    waiting: int


def queue_week(items: dict[str, QueueItem], start: datetime, end: datetime) -> QueueWeek:
    """Runs that entered the queue in [start, end), reviews done in it, and what still waits for review."""
    entered = sum(1 for i in items.values() if i.added_at and start <= i.added_at < end)
    reviewed = sum(1 for i in items.values() if i.reviewed and i.reviewed_at and start <= i.reviewed_at < end)
    return QueueWeek(entered, reviewed, sum(1 for i in items.values() if not i.reviewed))

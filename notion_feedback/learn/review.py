"""The review queue: runs people rated low and said why go to a LangSmith annotation queue, once each, for a
domain expert to review with the rating key's rubric.

Only low ratings with a comment go in: the comment is what the reviewer starts from, and a bare low score gives
them nothing to check. A run stays in the queue when its rating later changes (the review is still worth having);
``init`` creates the queue and ``doctor`` checks it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import langsmith

from notion_feedback.config import Settings
from notion_feedback.fencing import check_fence
from notion_feedback.notion.schema import SCALES
from notion_feedback.smith import queues
from notion_feedback.smith.datasets import Rated

DESCRIPTION = "Runs rated low in Notion with a comment (added by notion-feedback): review what went wrong."


def rubric(settings: Settings) -> tuple[str, list[dict[str, Any]]]:
    """The queue's instructions and its one rubric item: the rating key, on the product's scale."""
    scale = SCALES[settings.rating_scale]
    options = ", ".join(name for name, _, _ in scale.options)
    instructions = (
        "A person rated this answer low in Notion and said why (the Notion row is linked in the run's feedback). "
        f"Check the trace for the cause, then give your own rating ({options}) and a short note on what to fix."
    )
    item = {
        "feedback_key": settings.rating_key,
        "description": f"Your rating of the answer ({options}), as the person should have been able to give it.",
    }
    return instructions, [item]


def ensure(client: langsmith.Client, settings: Settings, *, create: bool = True) -> str | None:
    instructions, items = rubric(settings)
    return queues.ensure_queue(
        client,
        settings.review_queue_name,
        description=DESCRIPTION,
        instructions=instructions,
        rubric=items,
        create=create,
    )


def create(client: langsmith.Client, settings: Settings) -> str:
    """Create the queue with the rating key's rubric (the caller knows it is missing)."""
    instructions, items = rubric(settings)
    return queues.create_queue(
        client, settings.review_queue_name, description=DESCRIPTION, instructions=instructions, rubric=items
    )


@dataclass
class ReviewResult:
    name: str
    queue_id: str | None
    added: int = 0
    in_queue: int = 0
    reviewed: int = 0


def to_review(low: Mapping[str, Rated]) -> dict[str, Rated]:
    """The low ratings that carry a comment, by run id."""
    return {run: r for run, r in low.items() if r.comment and r.comment.strip()}


def update_queue(
    client: langsmith.Client, settings: Settings, project_id: str, low: Mapping[str, Rated], *, dry_run: bool
) -> ReviewResult:
    """Add the runs not yet in the queue (``dry_run``: count them only; the queue is not created)."""
    queue_id = ensure(client, settings, create=not dry_run)
    result = ReviewResult(settings.review_queue_name, queue_id)
    present = queues.queue_items(client, queue_id) if queue_id else {}
    missing = [r for run, r in sorted(to_review(low).items()) if run not in present]
    result.added = len(missing)
    result.in_queue = len(present) + len(missing)
    result.reviewed = sum(1 for item in present.values() if item.reviewed)
    if not dry_run and queue_id and missing:
        for start in range(0, len(missing), queues.ADD_BATCH):
            check_fence()
            chunk = missing[start : start + queues.ADD_BATCH]
            queues.enqueue(client, queue_id, [queues.QueueRun(r.run_id, project_id, r.run_start) for r in chunk])
    return result

"""Keep the low- and high-rated datasets in step with the ratings: one pass, safe to kill and run again.

The ratings are read from LangSmith's feedback (the sync's exact image of the Feedback rows: the same score,
label, comment and row link), so the pass costs no Notion requests. Each pass lists every rating and every example
of both datasets and writes only the difference (``plan``); example ids are derived from run and dataset, so a
pass that dies after any write, or whose answer was lost, is completed by the next one with nothing duplicated.
A run that moves from one dataset to the other is created in the new one before it leaves the old one, so a
pass killed in between leaves it in both for one interval, never in neither.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import langsmith

from notion_feedback.config import Settings
from notion_feedback.fencing import check_fence
from notion_feedback.learn.plan import HIGH, LOW, Plan, by_kind, new_example, plan, thresholds
from notion_feedback.learn.review import ReviewResult, update_queue
from notion_feedback.redaction import Redactor
from notion_feedback.smith import datasets as ds
from notion_feedback.smith.client import make_langsmith_client, request_counts
from notion_feedback.smith.projects import project

BATCH = ds.WRITE_BATCH
PLACEHOLDER_DATASET = "00000000-0000-4000-8000-000000000000"
"""The id a dry run plans against when a dataset does not exist yet (every example is then a create)."""
DESCRIPTIONS = {
    LOW: "Runs people rated low in Notion (kept in step by notion-feedback): regressions to evaluate against.",
    HIGH: "Runs people rated high in Notion (kept in step by notion-feedback): examples the agent learns from.",
}

Progress = Callable[[str, int], None]
"""``progress(step, n)``: ``n`` more items of ``step`` are done (a progress display listens)."""


@dataclass
class DatasetResult:
    name: str
    dataset_id: str | None
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    examples: int = 0
    """Examples the job keeps in the dataset after the pass (or would, on a dry run)."""


@dataclass
class LearnResult:
    dry_run: bool
    ratings: int = 0
    datasets: dict[str, DatasetResult] = field(default_factory=dict)
    review: ReviewResult | None = None
    langsmith_requests: int = 0
    duration: float = 0.0

    def counts(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ratings": self.ratings, "langsmith_requests": self.langsmith_requests}
        for kind, r in self.datasets.items():
            out |= {f"{kind}_created": r.created, f"{kind}_updated": r.updated, f"{kind}_deleted": r.deleted}
            out[f"{kind}_examples"] = r.examples
        if self.review is not None:
            out |= {"review_added": self.review.added, "review_in_queue": self.review.in_queue}
            out["review_reviewed"] = self.review.reviewed
        return out | ({"dry_run": True} if self.dry_run else {})

    def summary(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.counts().items())


def _apply(client: langsmith.Client, p: Plan, content: dict[str, ds.RunContent], redact: Any, tick: Progress) -> int:
    """Write one dataset's difference in fenced batches; returns the creates that had no run to copy."""
    missing = 0
    creates = []
    for rated in p.create:
        if rated.run_id in content:
            creates.append(new_example(p.dataset_id, rated, content[rated.run_id], redact))
        else:
            missing += 1  # the run is gone from LangSmith (retention): nothing to copy
    for start in range(0, len(creates), BATCH):
        check_fence()
        ds.create_examples(client, p.dataset_id, creates[start : start + BATCH])
        tick("create", len(creates[start : start + BATCH]))
    for start in range(0, len(p.update), BATCH):
        check_fence()
        ds.update_examples(client, p.dataset_id, p.update[start : start + BATCH])
        tick("update", len(p.update[start : start + BATCH]))
    return missing


def _delete(client: langsmith.Client, p: Plan, tick: Progress) -> None:
    for start in range(0, len(p.delete), BATCH):
        check_fence()
        ds.delete_examples(client, p.delete[start : start + BATCH])
        tick("delete", len(p.delete[start : start + BATCH]))


def run_learn(
    settings: Settings,
    *,
    dry_run: bool = False,
    client: langsmith.Client | None = None,
    progress: Progress | None = None,
) -> LearnResult:
    """One pass over both datasets (``dry_run``: read and compare only, nothing written, nothing created)."""
    started = time.monotonic()
    client = client or make_langsmith_client(settings)
    base = sum(request_counts(client).values())
    tick = progress or (lambda step, n: None)
    result = LearnResult(dry_run)
    project_id = project(client, settings.langsmith_project).id
    ratings = ds.rated_runs(client, project_id, settings.rating_key)
    result.ratings = len(ratings)
    wanted = by_kind(ratings, thresholds(settings.rating_scale, settings.learn_low_rating, settings.learn_high_rating))
    plans: dict[str, Plan] = {}
    for kind in (LOW, HIGH):
        name = settings.dataset_name(kind)
        dataset_id = ds.ensure_dataset(client, name, DESCRIPTIONS[kind], create=not dry_run)
        existing = ds.list_examples(client, dataset_id) if dataset_id else {}
        plans[kind] = plan(dataset_id or PLACEHOLDER_DATASET, wanted[kind], existing)
        p = plans[kind]
        result.datasets[kind] = DatasetResult(
            name, dataset_id, len(p.create), len(p.update), len(p.delete), p.unchanged, len(wanted[kind])
        )
    if not dry_run:
        to_read = [r.run_id for p in plans.values() for r in p.create]
        content = ds.run_contents(client, project_id, to_read) if to_read else {}
        redact = Redactor.from_settings(settings)
        for kind in (LOW, HIGH):  # every create first, then the deletes: a moving run is never in neither
            missing = _apply(client, plans[kind], content, redact, tick)
            result.datasets[kind].created -= missing
            result.datasets[kind].examples -= missing
        for kind in (LOW, HIGH):
            _delete(client, plans[kind], tick)
    result.review = update_queue(client, settings, project_id, wanted[LOW], dry_run=dry_run)
    result.langsmith_requests = sum(request_counts(client).values()) - base
    result.duration = time.monotonic() - started
    return result

"""What the two datasets should hold, and the difference from what they hold: pure decisions, no I/O.

A rating puts its run in the low-rated dataset (score ≤ the scale's low bound), the high-rated one (≥ its high
bound) or neither. The job compares that with each dataset's listing: an example that should exist and does not
is created (its inputs and outputs read from the run), one whose rating or comment changed gets its metadata
updated (the run's content does not change), and one whose run is no longer rated that way is deleted. Running
the comparison again after any partial write gives the remaining difference, which is what makes the job safe to
kill and re-run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from notion_feedback.notion.schema import SCALES
from notion_feedback.smith.datasets import ExampleDoc, Rated, RunContent, example_id

LOW, HIGH = "low", "high"
RATING_KEYS = ("rating", "score", "comment", "notion_url")
"""Metadata the rating owns: the only fields an update changes (variant, model and user come from the run)."""
SOURCE = "notion-feedback"


@dataclass(frozen=True)
class Thresholds:
    low: float
    high: float

    def kind(self, score: float) -> str | None:
        """Which dataset a score puts its run in, if any."""
        if score <= self.low:
            return LOW
        if score >= self.high:
            return HIGH
        return None


def thresholds(rating_scale: str, low: float | None = None, high: float | None = None) -> Thresholds:
    """The settings' bounds, or the scale's defaults (2 and 5 on 1-5, 4 and 9 on 1-10, 👎 and 👍 on thumbs)."""
    scale = SCALES[rating_scale]
    return Thresholds(scale.low if low is None else low, scale.high if high is None else high)


def rating_metadata(rated: Rated) -> dict[str, Any]:
    return {"rating": rated.label, "score": rated.score, "comment": rated.comment, "notion_url": rated.row_url}


def by_kind(ratings: list[Rated], limits: Thresholds) -> dict[str, dict[str, Rated]]:
    """The runs each dataset should hold, by run id. One feedback per run and key is the sync's rule; should a
    run carry two, the lower score decides (a complaint is never hidden by a second, kinder rating)."""
    chosen: dict[str, Rated] = {}
    for r in sorted(ratings, key=lambda r: (r.run_id, -r.score)):
        chosen[r.run_id] = r
    out: dict[str, dict[str, Rated]] = {LOW: {}, HIGH: {}}
    for run_id, r in chosen.items():
        kind = limits.kind(r.score)
        if kind is not None:
            out[kind][run_id] = r
    return out


@dataclass
class Plan:
    """One dataset's difference: what to create (runs still to read), update and delete."""

    dataset_id: str
    create: list[Rated] = field(default_factory=list)
    update: list[ExampleDoc] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def changes(self) -> int:
        return len(self.create) + len(self.update) + len(self.delete)


def plan(dataset_id: str, wanted: Mapping[str, Rated], existing: Mapping[str, ExampleDoc]) -> Plan:
    """The difference between the runs a dataset should hold and its examples (all of them, by example id)."""
    out = Plan(dataset_id)
    keep: set[str] = set()
    for run_id, rated in sorted(wanted.items()):
        eid = example_id(run_id, dataset_id)
        keep.add(eid)
        have = existing.get(eid)
        if have is None:
            out.create.append(rated)
            continue
        meta = {**have.metadata, **rating_metadata(rated)}
        if meta == have.metadata:
            out.unchanged += 1
        else:
            out.update.append(ExampleDoc(eid, run_id, have.inputs, have.outputs, meta))
    out.delete = sorted(eid for eid, ex in existing.items() if eid not in keep and _ours(ex))
    return out


def _ours(example: ExampleDoc) -> bool:
    """Examples this job wrote: a team may add its own to the dataset, and those are never touched."""
    return example.metadata.get("source") == SOURCE


def new_example(dataset_id: str, rated: Rated, content: RunContent, redact: Any) -> ExampleDoc:
    """The example a run becomes: its inputs and outputs redacted as the recorder redacts a row."""
    meta = content.metadata
    metadata = {
        "source": SOURCE,
        **rating_metadata(rated),
        "variant": meta.get("variant"),
        "model": meta.get("model") or meta.get("ls_model_name"),
        "user": redact_value(meta.get("user_id"), redact),
    }
    return ExampleDoc(
        example_id(rated.run_id, dataset_id),
        rated.run_id,
        redact_value(content.inputs, redact),
        redact_value(content.outputs, redact),
        metadata,
    )


def redact_value(value: Any, redact: Any) -> Any:
    """Every string inside ``value`` (dicts and lists walked) passed through ``redact``."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_value(v, redact) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_value(v, redact) for v in value]
    return value

"""One recorded interaction as the properties of a Feedback row (writing only; reading rated rows lives elsewhere).

Values are cut to Notion's limits here, once: the title to one 2,000-character run (with an ellipsis), the answer
property to ``ANSWER_PROPERTY_RUNS`` runs, select names without commas (Notion rejects them) and at most 100
characters, numbers finite. Nothing is lost: a question or an answer longer than its property holds is kept whole
in the row's page body, in paragraphs small enough that any batch of them fits one request (``notion/blocks.batches``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

from notion_feedback.notion.limits import MAX_SELECT_CHARS, MAX_TEXT_CHARS, MAX_URL_CHARS
from notion_feedback.notion.schema import FEEDBACK, Prop, property_name
from notion_feedback.notion.text import rich_text, title_text

ANSWER_PROPERTY_RUNS = 10
ID_PROPERTY_RUNS = 1
"""Run ID, Project ID and User are identifiers: one run of text (2,000 characters) holds any real one, and a longer
value is cut with an ellipsis, so no identifier can make a row too big for one request."""
"""Runs of the Answer property (20,000 characters): enough to read in a table; a longer answer continues in the
body. Also keeps the create request small: 10 runs are at most 120 KB encoded, whatever the characters."""

BODY_PARAGRAPH_RUNS = 10
"""Runs per paragraph of the body: one paragraph is at most ~120 KB encoded, so every paragraph fits a request."""


@dataclass(frozen=True)
class RowValues:
    """What the recorder writes to one Feedback row. Plain values, so a row can wait in the spool as JSON."""

    run_id: str
    question: str = ""
    answer: str = ""
    project_id: str | None = None
    run_start: str | None = None  # ISO 8601 with offset
    trace_url: str | None = None
    variant: str | None = None
    model: str | None = None
    latency_ms: float | None = None
    tokens: int | None = None
    cost_usd: float | None = None
    user: str | None = None

    def to_json(self) -> dict[str, Any]:
        # The values are plain scalars: a shallow copy is the same as dataclasses.asdict at a fifth of the cost
        # (the recorder's intake thread builds one per row).
        return {name: getattr(self, name) for name in _ROW_FIELDS}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RowValues:
        return cls(**{k: v for k, v in data.items() if k in _ROW_FIELDS})


_ROW_FIELDS = tuple(f.name for f in fields(RowValues))


def select_name(value: str | None) -> str | None:
    if value is None:
        return None
    name = " ".join(str(value).replace(",", " ").split())[:MAX_SELECT_CHARS]
    return name or None


def _number(value: float | int | None, digits: int | None = None) -> float | int | None:
    if value is None:
        return None
    value = float(value)
    if not math.isfinite(value):
        return None
    return round(value, digits) if digits is not None else value


def feedback_properties(row: RowValues, property_map: dict[str, str]) -> dict[str, Any]:
    """The ``properties`` of ``pages.create`` for one row, under the workspace's property names."""

    def name(prop: Prop) -> str:
        return property_name(prop, property_map)

    props: dict[str, Any] = {
        name(FEEDBACK.question): {"title": title_text(row.question or "(no question)")},
        name(FEEDBACK.answer): {"rich_text": rich_text(row.answer, max_runs=ANSWER_PROPERTY_RUNS)},
        name(FEEDBACK.run_id): {"rich_text": rich_text(row.run_id, max_runs=ID_PROPERTY_RUNS)},
        name(FEEDBACK.project_id): {"rich_text": rich_text(row.project_id or "", max_runs=ID_PROPERTY_RUNS)},
        name(FEEDBACK.user): {"rich_text": rich_text(row.user or "", max_runs=ID_PROPERTY_RUNS)},
        name(FEEDBACK.latency_ms): {"number": _number(row.latency_ms, 1)},
        name(FEEDBACK.tokens): {"number": _number(row.tokens)},
        name(FEEDBACK.cost_usd): {"number": _number(row.cost_usd, 6)},
    }
    if row.run_start:
        props[name(FEEDBACK.run_start)] = {"date": {"start": row.run_start}}
    if row.trace_url and len(row.trace_url) <= MAX_URL_CHARS:
        props[name(FEEDBACK.trace)] = {"url": row.trace_url}
    for prop, value in ((FEEDBACK.variant, row.variant), (FEEDBACK.model, row.model)):
        if (option := select_name(value)) is not None:
            props[name(prop)] = {"select": {"name": option}}
    return props


def feedback_children(row: RowValues) -> list[dict[str, Any]]:
    """The row's page body: the whole question when the title had to cut it, the whole answer when its property
    had to. Deterministic, so a delivery that stopped half-way appends exactly the blocks still missing."""
    body: list[dict[str, Any]] = []
    if len(row.question) > MAX_TEXT_CHARS:
        body += _full_text("Question (full text)", row.question)
    if len(row.answer) > ANSWER_PROPERTY_RUNS * MAX_TEXT_CHARS:
        body += _full_text("Answer (full text)", row.answer)
    return body


def _full_text(heading: str, text: str) -> list[dict[str, Any]]:
    runs = rich_text(text, max_runs=len(text) // MAX_TEXT_CHARS + 1)
    paragraphs = [runs[i : i + BODY_PARAGRAPH_RUNS] for i in range(0, len(runs), BODY_PARAGRAPH_RUNS)]
    head = {"type": "heading_3", "heading_3": {"rich_text": rich_text(heading)}}
    return [head, *({"type": "paragraph", "paragraph": {"rich_text": p}} for p in paragraphs)]


def run_id_filter(run_id: str, property_map: dict[str, str]) -> dict[str, Any]:
    """The data-source query filter that finds the row of one run (to check a write whose outcome is unknown)."""
    return {"property": property_name(FEEDBACK.run_id, property_map), "rich_text": {"equals": run_id}}

"""The two data sources the product owns: their properties, in one place, and the rating scales.

Code refers to properties by key (``FEEDBACK.rating``), never by display name: a team may rename a column in
Notion and map it back with ``NOTION_FEEDBACK_PROPERTY_MAP`` ({"Rating": "Score"}).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Prop:
    """One property: its default name, its Notion type, and who writes it."""

    name: str
    type: str
    written_by: str  # recorder | user | daemon | notion
    config: tuple[tuple[str, Any], ...] = ()

    def schema(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """The property's configuration for data_sources create/update."""
        return {self.type: dict(self.config) | (extra or {})}


@dataclass(frozen=True)
class FeedbackProps:
    question: Prop = Prop("Question", "title", "recorder")
    answer: Prop = Prop("Answer", "rich_text", "recorder")
    rating: Prop = Prop("Rating", "select", "user")
    comment: Prop = Prop("Comment", "rich_text", "user")
    run_id: Prop = Prop("Run ID", "rich_text", "recorder")
    project_id: Prop = Prop("Project ID", "rich_text", "recorder")
    run_start: Prop = Prop("Run start", "date", "recorder")
    trace: Prop = Prop("Trace", "url", "recorder")
    variant: Prop = Prop("Variant", "select", "recorder")
    model: Prop = Prop("Model", "select", "recorder")
    latency_ms: Prop = Prop("Latency (ms)", "number", "recorder", (("format", "number"),))
    tokens: Prop = Prop("Tokens", "number", "recorder", (("format", "number"),))
    cost_usd: Prop = Prop("Cost (USD)", "number", "recorder", (("format", "dollar"),))
    user: Prop = Prop("User", "rich_text", "recorder")
    sync_status: Prop = Prop("Sync status", "select", "daemon")
    sync_error: Prop = Prop("Sync error", "rich_text", "daemon")
    created: Prop = Prop("Created", "created_time", "notion")
    last_edited: Prop = Prop("Last edited", "last_edited_time", "notion")

    def all(self) -> dict[str, Prop]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class ReportProps:
    title: Prop = Prop("Title", "title", "daemon")
    date: Prop = Prop("Date", "date", "daemon")
    period: Prop = Prop("Period", "select", "daemon")
    runs: Prop = Prop("Runs", "number", "daemon", (("format", "number"),))
    error_rate: Prop = Prop("Error rate", "number", "daemon", (("format", "percent"),))
    p95_latency_ms: Prop = Prop("p95 latency (ms)", "number", "daemon", (("format", "number"),))
    tokens_per_interaction: Prop = Prop("Tokens / interaction", "number", "daemon", (("format", "number"),))
    cost_usd: Prop = Prop("Cost (USD)", "number", "daemon", (("format", "dollar"),))
    cost_per_interaction_usd: Prop = Prop("Cost / interaction (USD)", "number", "daemon", (("format", "dollar"),))
    avg_rating: Prop = Prop("Average rating", "number", "daemon", (("format", "number"),))
    rating_count: Prop = Prop("Ratings", "number", "daemon", (("format", "number"),))
    alerts: Prop = Prop("Alerts", "number", "daemon", (("format", "number"),))
    status: Prop = Prop("Status", "select", "daemon")

    def all(self) -> dict[str, Prop]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


FEEDBACK = FeedbackProps()
REPORTS = ReportProps()

FEEDBACK_TITLE = "Agent feedback"
REPORTS_TITLE = "Agent reports"

# What the daemon writes to ``Sync status``: words a person rating rows understands.
SYNC_SYNCED = "Synced"
SYNC_ERROR = "Needs attention"
SYNC_REMOVED = "Removed"
SYNC_STATUS_OPTIONS = ((SYNC_SYNCED, "green"), (SYNC_ERROR, "red"), (SYNC_REMOVED, "gray"))


@dataclass(frozen=True)
class RatingScale:
    """Rating options shown in Notion and the LangSmith score each one becomes."""

    name: str
    options: tuple[tuple[str, float, str], ...]  # (option name, score, colour)
    low: float
    """Scores at or below this are a low rating (what the review queue and the low-rated dataset collect)."""
    high: float
    """Scores at or above this are a high rating (the examples the agent learns from)."""

    @property
    def scores(self) -> dict[str, float]:
        return {name: score for name, score, _ in self.options}

    @property
    def min(self) -> float:
        return min(s for _, s, _ in self.options)

    @property
    def max(self) -> float:
        return max(s for _, s, _ in self.options)

    def score(self, option: str) -> float | None:
        """The score of an option name, or None when the option is not on this scale."""
        return self.scores.get(option.strip())

    def select_options(self) -> list[dict[str, str]]:
        return [{"name": name, "color": colour} for name, _, colour in self.options]

    def feedback_config(self) -> dict[str, Any]:
        """LangSmith feedback config for the rating key: continuous between the scale's ends."""
        return {"type": "continuous", "min": self.min, "max": self.max}


_COLOURS_5 = ("red", "orange", "yellow", "blue", "green")
SCALES: dict[str, RatingScale] = {
    "1-5": RatingScale("1-5", tuple((str(i), float(i), _COLOURS_5[i - 1]) for i in range(1, 6)), 2.0, 5.0),
    "1-10": RatingScale(
        "1-10", tuple((str(i), float(i), _COLOURS_5[min(4, (i - 1) // 2)]) for i in range(1, 11)), 4.0, 9.0
    ),
    "thumbs": RatingScale("thumbs", (("👍", 1.0, "green"), ("👎", 0.0, "red")), 0.0, 1.0),
}


def property_name(prop: Prop, property_map: dict[str, str]) -> str:
    """The name this workspace uses for ``prop`` (after the user's remapping)."""
    return property_map.get(prop.name, prop.name)

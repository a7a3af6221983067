"""Learn from ratings: bring the low- and high-rated LangSmith datasets and the review queue up to date.

Runs after the sync on its own interval (NOTION_FEEDBACK_LEARN_EVERY_MINUTES); each run writes only the
difference, so a missed or killed run is made good by the next.
"""

from __future__ import annotations

from typing import Any

from notion_feedback.config import load_settings
from notion_feedback.learn import run_learn


def run() -> dict[str, Any]:
    """One pass, with settings read afresh (nothing when NOTION_FEEDBACK_LEARN is off)."""
    settings = load_settings()
    if not settings.learn:
        return {"skipped": "NOTION_FEEDBACK_LEARN is off"}
    return run_learn(settings).counts()

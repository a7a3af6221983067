"""Verify the sync: a full pass that compares every Feedback row with LangSmith and repairs any difference.

Incremental passes see only rows edited since the last one. A row moved to the trash (or deleted) is never returned
by the query again, and feedback changed in LangSmith by hand is invisible to Notion; this pass catches both, at
about 100 Notion and 100 LangSmith requests per 10,000 rows (NOTION_FEEDBACK_VERIFY_EVERY_HOURS sets how often).
"""

from __future__ import annotations

from typing import Any

from notion_feedback.config import load_settings
from notion_feedback.sync.engine import run_sync


def run() -> dict[str, Any]:
    """One full pass, with settings read afresh."""
    return run_sync(load_settings(), full=True).counts()

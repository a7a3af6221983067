"""Sync ratings from the Notion Feedback data source to LangSmith feedback (incremental; the daemon's main job)."""

from __future__ import annotations

from typing import Any

from notion_feedback.config import load_settings
from notion_feedback.jobruns import summary_of
from notion_feedback.sync import run_sync


def run() -> dict[str, Any]:
    """One incremental pass; settings are read afresh so an edited .env applies without restarting the daemon.
    Returns the pass's counts (row problems are on the rows themselves, so only their number is kept here)."""
    summary = run_sync(load_settings())
    counts = {k: v for k, v in summary_of(summary).items() if not isinstance(v, list)}
    return counts | {"problems": len(summary.problems)}

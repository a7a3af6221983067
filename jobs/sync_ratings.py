"""Sync ratings from the Notion Feedback data source to LangSmith feedback (incremental; the daemon's main job)."""

from __future__ import annotations

from typing import Any

from notion_feedback.config import load_settings
from notion_feedback.sync.engine import run_sync


def run() -> dict[str, Any]:
    """One incremental pass; settings are read afresh so an edited .env applies without restarting the daemon."""
    return run_sync(load_settings()).counts()

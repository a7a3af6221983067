"""Publish yesterday's report (in the report time zone); publishing again the same day refreshes the same page."""

from __future__ import annotations

from typing import Any

from notion_feedback.config import load_settings
from notion_feedback.report.publish import publish_report


def run() -> dict[str, Any]:
    """Yesterday's daily report; settings are read afresh so an edited .env applies without a restart."""
    return publish_report(load_settings(), "day").as_dict()

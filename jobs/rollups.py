"""Weekly and monthly rollups: the last complete ISO week (Monday first) or calendar month, with the change
against the one before. Each is a report page of its own in the Reports data source."""

from __future__ import annotations

from typing import Any

from notion_feedback.config import load_settings
from notion_feedback.report.publish import publish_report


def weekly() -> dict[str, Any]:
    """Last week's report (run on Mondays)."""
    return publish_report(load_settings(), "week").as_dict()


def monthly() -> dict[str, Any]:
    """Last month's report (run on the 1st)."""
    return publish_report(load_settings(), "month").as_dict()

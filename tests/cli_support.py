"""A workspace on the sandbox with yesterday's traffic, and the CLI's environment pointing at it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from report_helpers import Interaction, trace

from notion_feedback.config import Settings
from notion_feedback.setup.workspace import init_workspace


def report_workspace(settings: Settings, sandbox, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Feedback and Reports data sources and three traced interactions yesterday; returns the CLI's environment
    (already set): the sandbox's variables, this test's state, budgets that do not slow the test down."""
    ids = init_workspace(settings, settings.parent_page_id, langsmith=False)  # type: ignore[arg-type]
    day = datetime.now(UTC).date() - timedelta(days=1)
    start = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
    trace(settings, [Interaction(start + timedelta(minutes=i), 0.5 + i, 400, 0.002, rating=4) for i in range(3)])
    return set_cli_env(settings, sandbox, monkeypatch, ids.feedback_data_source_id, ids.reports_data_source_id)


def set_cli_env(  # type: ignore[no-untyped-def]
    settings: Settings, sandbox, monkeypatch: pytest.MonkeyPatch, feedback_ds: str, reports_ds: str
) -> dict[str, str]:
    """Set (and return) the CLI's environment for a workspace on the sandbox: its variables, this test's state,
    budgets that never slow a test down."""
    env = sandbox.env() | {
        "LANGSMITH_PROJECT": settings.langsmith_project,
        "NOTION_FEEDBACK_HOME": str(settings.home),
        "NOTION_FEEDBACK_FEEDBACK_DATA_SOURCE_ID": feedback_ds,
        "NOTION_FEEDBACK_REPORTS_DATA_SOURCE_ID": reports_ds,
        "NOTION_FEEDBACK_LOG_LEVEL": "WARNING",
        "NOTION_FEEDBACK_NOTION_REQUESTS_PER_SECOND": "50",
        "NOTION_FEEDBACK_NOTION_BURST": "50",
        "NOTION_FEEDBACK_LANGSMITH_STATS_PER_10S": "10000",
    }
    if settings.state_url:
        env["NOTION_FEEDBACK_STATE_URL"] = settings.resolved_state_url
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env

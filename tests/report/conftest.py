"""Fixtures of the report tests."""

from __future__ import annotations

import pytest

from notion_feedback.config import Settings
from notion_feedback.setup.workspace import init_workspace


@pytest.fixture()
def ws(settings: Settings) -> Settings:
    """A workspace on the sandbox (Notion only: the reports read LangSmith's project as the tests trace it)."""
    ids = init_workspace(settings, settings.parent_page_id, langsmith=False)  # type: ignore[arg-type]
    return settings.model_copy(
        update={
            "feedback_data_source_id": ids.feedback_data_source_id,
            "reports_data_source_id": ids.reports_data_source_id,
        }
    )

"""Settings pointing at a running sandbox, for the tests and the benchmarks (one place that maps its variables)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from notion_feedback.config import Settings

# What `Sandbox.env()` prints that is a setting under the same name (the root page is the workspace's parent).
_SETTINGS = ("NOTION_TOKEN", "NOTION_BASE_URL", "LANGSMITH_API_KEY", "LANGSMITH_ENDPOINT", "LANGSMITH_WEB_URL")


def sandbox_settings(env: dict[str, str], home: Path, **overrides: Any) -> Settings:
    """Settings for the sandbox whose variables are ``env``, with state under ``home``; no .env is read."""
    values: dict[str, Any] = {name: env[name] for name in _SETTINGS if name in env}
    if "NOTION_SANDBOX_ROOT_PAGE_ID" in env:
        values["parent_page_id"] = env["NOTION_SANDBOX_ROOT_PAGE_ID"]
    return Settings(_env_file=None, **values, home=home, **overrides)

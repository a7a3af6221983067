"""notion-feedback: end users rate an LLM agent's answers in Notion; ratings become LangSmith feedback, and
daily KPI reports about the agent come back to Notion.

The public API is importable from here. An agent process imports this package on every start, so only the
settings and the errors load eagerly; the recorder, the sync engine and the report publisher (with matplotlib)
load on first use of their name (PEP 562 ``__getattr__``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from notion_feedback.config import Settings, load_settings
from notion_feedback.errors import (
    ConfigError,
    DaemonError,
    DemoError,
    FeedbackRejectedError,
    LangSmithAccessError,
    LeaseLostError,
    NotionAccessError,
    NotionFeedbackError,
    QueryCapError,
    RunNotFoundError,
    SandboxRequestError,
    SchemaDriftError,
    SeriesUnavailable,
    ServiceUnreachableError,
    SpoolWriteError,
    StateStoreError,
    SyncIncompleteError,
    TransientLangSmithError,
    UploadTooLargeError,
)

if TYPE_CHECKING:
    from notion_feedback.capture.recorder import Recorder
    from notion_feedback.capture.tracing import interaction
    from notion_feedback.report.publish import publish_report
    from notion_feedback.sync.engine import run_sync

__version__ = "0.1.0"

_LAZY = {
    "Recorder": "notion_feedback.capture.recorder",
    "interaction": "notion_feedback.capture.tracing",
    "run_sync": "notion_feedback.sync.engine",
    "publish_report": "notion_feedback.report.publish",
}

__all__ = [
    "ConfigError",
    "DaemonError",
    "DemoError",
    "FeedbackRejectedError",
    "LangSmithAccessError",
    "LeaseLostError",
    "NotionAccessError",
    "NotionFeedbackError",
    "QueryCapError",
    "Recorder",
    "RunNotFoundError",
    "SandboxRequestError",
    "SchemaDriftError",
    "SeriesUnavailable",
    "ServiceUnreachableError",
    "Settings",
    "SpoolWriteError",
    "StateStoreError",
    "SyncIncompleteError",
    "TransientLangSmithError",
    "UploadTooLargeError",
    "interaction",
    "load_settings",
    "publish_report",
    "run_sync",
]


def __getattr__(name: str) -> Any:
    """Import a heavy part of the API the first time its name is used, then keep it as a module attribute."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'notion_feedback' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

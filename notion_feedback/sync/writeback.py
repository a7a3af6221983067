"""What the sync shows on a Feedback row: ``Sync status`` and ``Sync error``, in words the person rating reads.

Each write costs a Notion request (the budget is ~3/s) and bumps the row's ``last_edited_time``, so the engine
decides *whether* to write (``decide.target``); this module only knows how.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from notion_feedback.notion.schema import SYNC_ERROR, SYNC_REMOVED, SYNC_SYNCED
from notion_feedback.notion.text import rich_text
from notion_feedback.sync.rows import FeedbackColumns

MAX_ERROR_CHARS = 1900


@dataclass(frozen=True)
class Shown:
    """The pair of values a row displays about its sync. Empty strings mean "nothing shown"."""

    status: str = ""
    error: str = ""

    @classmethod
    def of(cls, status: str | None, error: str | None) -> Shown:
        return cls(status or "", (error or "").strip())

    def encode(self) -> str:
        return f"{self.status}\x1f{self.error}"

    @classmethod
    def decode(cls, value: str | None) -> Shown | None:
        if value is None:
            return None
        status, _, error = value.partition("\x1f")
        return cls(status, error)

    @property
    def blank(self) -> bool:
        return not self.status and not self.error


SYNCED = Shown(SYNC_SYNCED)
REMOVED = Shown(SYNC_REMOVED)
BLANK = Shown()


def error_shown(message: str) -> Shown:
    text = message if len(message) <= MAX_ERROR_CHARS else message[: MAX_ERROR_CHARS - 1] + "…"
    return Shown(SYNC_ERROR, text)


def status_properties(cols: FeedbackColumns, shown: Shown) -> dict[str, Any]:
    return {
        cols.sync_status.name: {"select": {"name": shown.status} if shown.status else None},
        cols.sync_error.name: {"rich_text": rich_text(shown.error)},
    }


def write_status(update: Callable[..., Any], cols: FeedbackColumns, page_id: str, shown: Shown) -> None:
    """``update`` is ``pages.update`` wrapped by the caller's retry policy (a PATCH: safe to repeat)."""
    update(page_id=page_id, properties=status_properties(cols, shown))

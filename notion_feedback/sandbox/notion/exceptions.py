"""Notion's errors: ``NotionError`` and the helpers that word them as the real API does.

``error_body`` is the JSON every error answers with: ``{"object":"error","status","code","message","request_id"}``.
"""

from __future__ import annotations

import json
import uuid
from contextvars import ContextVar
from typing import Any

# The id of the request being answered: the ``x-notion-request-id`` header and every body's ``request_id``
# carry it, so a client can quote either one to support. Set per request by ``emulator.RequestIds``.
REQUEST_ID_HEADER = "x-notion-request-id"
REQUEST_ID: ContextVar[str | None] = ContextVar("notion_request_id", default=None)


def request_id() -> str:
    """The current request's id (a fresh one outside a request, e.g. in direct model calls)."""
    return REQUEST_ID.get() or str(uuid.uuid4())


class NotionError(Exception):
    """An API failure in Notion's own terms; routes turn it into the JSON error body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def validation(message: str) -> NotionError:
    return NotionError(400, "validation_error", message)


def body_error(path: str, rule: str, got: Any) -> NotionError:
    """Notion words body validation failures as ``body failed validation: <path> <rule>, instead was `<x>`.``"""
    shown = json.dumps(got, ensure_ascii=False) if not isinstance(got, int) else str(got)
    return validation(f"body failed validation: {path} {rule}, instead was `{shown}`.")


def not_found(kind: str, object_id: str) -> NotionError:
    return NotionError(
        404,
        "object_not_found",
        f"Could not find {kind} with ID: {object_id}. "
        "Make sure the relevant pages and databases are shared with your integration.",
    )


def error_body(status: int, code: str, message: str) -> bytes:
    body = {"object": "error", "status": status, "code": code, "message": message, "request_id": request_id()}
    return json.dumps(body).encode()

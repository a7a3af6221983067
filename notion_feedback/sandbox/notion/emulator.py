"""The Notion API emulator: what ``notion_client.Client(auth=token, base_url=url)`` talks to in the sandbox.

``create_notion_emulator`` wires the workspace (state), the HTTP routes and the shared control middleware
(stats, faults, rate limits, clock). The emulator object also offers a few direct helpers for tests and
benchmarks that would be too slow over HTTP (``bulk_create_pages``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from notion_feedback.sandbox.control import SandboxControl, wrap
from notion_feedback.sandbox.notion.exceptions import REQUEST_ID, REQUEST_ID_HEADER, error_body, request_id
from notion_feedback.sandbox.notion.models.store import Store
from notion_feedback.sandbox.notion.models.workspace import Workspace
from notion_feedback.sandbox.notion.responses import NotionResponses
from notion_feedback.sandbox.ratelimit import Limit

# Notion documents ~3 requests/s on average per integration, with small bursts allowed.
DEFAULT_LIMIT = Limit(rate=3.0, burst=5.0)


def notion_error_factory(status: int, code: str, message: str) -> tuple[bytes, str]:
    """Errors produced by the middleware (429s, injected faults) in Notion's JSON error shape."""
    return error_body(status, code, message), "application/json; charset=utf-8"


def classify(method: str, path: str) -> str | None:
    """One bucket for the whole API per integration; served file bytes are not limited."""
    return "api" if path.startswith("/v1/") else None


def request_id_header() -> list[tuple[bytes, bytes]]:
    """The header the control middleware adds to its own 429s and faults, as the real edge does."""
    return [(REQUEST_ID_HEADER.encode(), request_id().encode())]


class RequestIds:
    """Gives every API request one id: the ``x-notion-request-id`` header and the body's ``request_id``.

    It sits outside the control middleware so that the middleware's errors, the handlers' answers and the
    exchange log all see the same id; the SDKs read the header (``getResponseHeader(headers,
    "x-notion-request-id")``). A response that somehow lacks the header gets it here.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        token = REQUEST_ID.set(str(uuid.uuid4()))
        name = REQUEST_ID_HEADER.encode()

        async def send_with_id(message: dict) -> None:
            headers = message.get("headers", [])
            if message["type"] == "http.response.start" and all(k.lower() != name for k, _ in headers):
                message = {**message, "headers": [*headers, *request_id_header()]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            REQUEST_ID.reset(token)


class NotionEmulator:
    """One emulated workspace behind HTTP. ``base_url`` is set by the server once its port is bound."""

    def __init__(self, token: str, data_dir: Path | None = None, rate_limit: bool = True) -> None:
        self.token = token
        self.control = SandboxControl(
            api_prefixes=("/v1",),
            error_factory=notion_error_factory,
            classify=classify,
            limits={"api": DEFAULT_LIMIT},
            rate_limit=rate_limit,
            error_headers=request_id_header,
        )
        self.store = Store(data_dir / "notion.sqlite3" if data_dir else None)
        self.workspace = Workspace(self.store, self.control.clock.now)
        self.control.reset_hooks.append(self._reset)
        app = NotionResponses(self.workspace, token).app(self.control.admin_routes())
        self.asgi = wrap(app, self.control, edge=RequestIds)

    @property
    def base_url(self) -> str:
        return self.workspace.base_url

    @base_url.setter
    def base_url(self, value: str) -> None:
        self.workspace.base_url = value.rstrip("/")

    @property
    def root_page_id(self) -> str:
        return self.workspace.root_page_id

    @property
    def bot_user_id(self) -> str:
        return self.workspace.bot_id

    @property
    def person_user_id(self) -> str:
        return self.workspace.person_id

    def bulk_create_pages(
        self, data_source_id: str, rows: list[dict[str, Any]], *, as_person: bool = False
    ) -> list[str]:
        """Insert rows (``properties`` dicts as in ``pages.create``) directly, validated, in one transaction."""
        actor = self.workspace.person_id if as_person else None
        return self.workspace.bulk_create_pages(data_source_id, rows, actor)

    def _reset(self) -> None:
        """Admin reset: an empty workspace (new ids) with a fresh root page."""
        self.store.clear()
        self.workspace.seed()

    def close(self) -> None:
        self.store.close()


def create_notion_emulator(token: str, data_dir: Path | None = None, rate_limit: bool = True) -> NotionEmulator:
    """The factory ``notion_feedback.sandbox.server.Sandbox`` calls."""
    return NotionEmulator(token=token, data_dir=data_dir, rate_limit=rate_limit)

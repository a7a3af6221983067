"""The LangSmith API emulator: wiring (store, handlers, auth, control middleware) and the factory the sandbox calls.

Routes are in ``urls``, handlers in ``responses``, state in ``models``. Rate-limit buckets follow the endpoints
LangSmith documents separately (``classify``, ``default_limits``).
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from notion_feedback.sandbox.clock import SandboxClock
from notion_feedback.sandbox.control import DISCONNECT_HANDLERS, SandboxControl, wrap
from notion_feedback.sandbox.langsmith.constants import API_PREFIXES, STATS_LIMIT_ENV
from notion_feedback.sandbox.langsmith.exceptions import ApiError, PayloadError
from notion_feedback.sandbox.langsmith.models.bulk import bulk_load_runs
from notion_feedback.sandbox.langsmith.models.pricing import ModelPrice, PriceMap
from notion_feedback.sandbox.langsmith.models.store import LangSmithStore
from notion_feedback.sandbox.langsmith.responses import JSON, LangSmithResponses
from notion_feedback.sandbox.langsmith.urls import starlette_routes
from notion_feedback.sandbox.ratelimit import Limit


def parse_limit(raw: str) -> Limit:
    """ "N/SECONDS" (e.g. "20/10") as a limit."""
    n, _, secs = raw.partition("/")
    return Limit.per_window(int(n), float(secs or 10))


def default_limits(stats_limit: Limit | None = None) -> dict[str, Limit]:
    if stats_limit is None:
        raw = os.environ.get(STATS_LIMIT_ENV)
        if raw:
            stats_limit = parse_limit(raw)
    return {
        "feedback": Limit.per_window(2000, 10),
        "runs_multipart": Limit.per_window(6000, 10),
        "runs_query": Limit.per_window(15, 10),
        "runs_stats": stats_limit or Limit.per_window(1, 10),
        "runs_read": Limit.per_window(30, 60),
        "other": Limit.per_window(1000, 10),
    }


def _strip_prefix(path: str) -> str:
    for prefix in ("/api/v1",):
        if path.startswith(prefix + "/") or path == prefix:
            return path[len(prefix) :] or "/"
    return path


def classify(method: str, path: str) -> str | None:
    """Rate-limit bucket of a request: the endpoints LangSmith documents separately, else ``other``."""
    p = _strip_prefix(path).rstrip("/")
    if p == "/info" or p.startswith("/feedback/tokens/") or p.startswith("/public/"):
        return None  # keyless requests are not limited per key
    if method == "POST":
        named = {
            "/feedback": "feedback",
            "/runs/multipart": "runs_multipart",
            "/runs/query": "runs_query",
            "/runs/stats": "runs_stats",
        }
        if p in named:
            return named[p]
    if method == "GET" and p.startswith("/runs/") and p.count("/") == 2:
        return "runs_read"
    return "other"


def error_factory(status: int, code: str, message: str) -> tuple[bytes, str]:
    """LangSmith (FastAPI) errors are ``{"detail": "..."}``."""
    return orjson.dumps({"detail": message}), "application/json"


class LangSmithEmulator:
    """One emulated LangSmith workspace. ``asgi`` is the app to serve; the rest is its Python control API."""

    def __init__(
        self,
        api_key: str,
        data_dir: Path | None = None,
        rate_limit: bool = True,
        *,
        stats_limit: Limit | None = None,
        prices: PriceMap | None = None,
        clock: SandboxClock | None = None,
        zstd: bool = True,
    ) -> None:
        self.api_key = api_key
        self.base_url = ""
        self.zstd = zstd
        self.prices = prices or PriceMap()
        self.control = SandboxControl(
            api_prefixes=API_PREFIXES,
            error_factory=error_factory,
            classify=classify,
            limits=default_limits(stats_limit),
            rate_limit=rate_limit,
            clock=clock,
        )
        self.store = LangSmithStore(self.prices, self.control.clock.now, data_dir)
        self.control.reset_hooks.append(self.store.reset)
        self.responses = LangSmithResponses(self.store, self.prices, zstd, lambda: self.base_url)
        self.app = Starlette(
            routes=starlette_routes(self.responses, self.control.admin_routes()),
            exception_handlers={ApiError: self._api_error, PayloadError: self._payload_error, **DISCONNECT_HANDLERS},
        )
        self.asgi = wrap(_AuthMiddleware(self.app, self), self.control)

    # -- Python control API --------------------------------------------------------------------------------
    def bulk_load_runs(self, n: int, **kwargs: Any) -> str:
        """Insert ``n`` synthetic root runs (columns only, no documents); returns the project id.
        See ``models.bulk.bulk_load_runs`` for the knobs."""
        return bulk_load_runs(self.store, n, **kwargs)

    def set_prices(self, prices: list[ModelPrice] | dict[str, tuple[float, float]]) -> None:
        """Replace the model price map (affects runs ingested afterwards, as in LangSmith)."""
        self.prices.set(prices)

    def set_rate_limits(self, enabled: bool | None = None, **limits: Limit) -> None:
        """``set_rate_limits(True, runs_stats=Limit.per_window(20, 10))``; buckets: see ``default_limits``."""
        self.control.set_limits(enabled, limits or None)

    def reset(self) -> None:
        self.control.reset()

    def close(self) -> None:
        self.store.close()

    @property
    def url(self) -> str:
        return self.base_url

    # -- errors ----------------------------------------------------------------------------------------------
    @staticmethod
    async def _api_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return JSON({"detail": exc.detail}, status_code=exc.status)

    @staticmethod
    async def _payload_error(_: Request, exc: Exception) -> Response:
        return JSON({"detail": str(exc)}, status_code=422)


class _AuthMiddleware:
    """``x-api-key`` (or ``Authorization: Bearer``) on every route except the ones LangSmith serves keyless."""

    def __init__(self, app: Callable[..., Awaitable[None]], emulator: LangSmithEmulator) -> None:
        self.app = app
        self.emulator = emulator

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "http" and self._needs_key(scope["path"]):
            headers = {k.lower(): v for k, v in scope.get("headers", ())}
            key = headers.get(b"x-api-key", b"").decode(errors="replace").strip()
            auth = headers.get(b"authorization", b"").decode(errors="replace")
            if not key and auth.lower().startswith("bearer "):
                key = auth[7:].strip()
            if key != self.emulator.api_key:
                body = orjson.dumps({"detail": "Invalid token"})
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)

    @staticmethod
    def _needs_key(path: str) -> bool:
        if path.startswith("/_sandbox"):
            return False
        p = _strip_prefix(path)
        return not (p in ("/info", "/ok", "/") or p.startswith("/feedback/tokens/") or p.startswith("/public/"))


def create_langsmith_emulator(
    api_key: str,
    data_dir: Path | None = None,
    rate_limit: bool = True,
    **options: Any,
) -> LangSmithEmulator:
    """The emulator the sandbox serves. Options: ``stats_limit`` (a ``Limit``; default 1 per 10 s, or env
    ``LANGSMITH_SANDBOX_STATS_LIMIT="20/10"``), ``prices`` (a ``PriceMap``), ``clock``, ``zstd``."""
    return LangSmithEmulator(api_key, data_dir, rate_limit, **options)

"""What both emulators share: request statistics, fault injection, rate limiting and their admin routes.

Everything here sits in front of an emulator as ASGI middleware, so the emulators themselves only model their
API. Admin routes live outside the API prefix (``/_sandbox/...``) and are never rate-limited or faulted; each
needs ``Authorization: Bearer <admin token>`` and is refused when a browser sent it from another origin, so a
web page the person visits cannot reset, fault or move the clock of their sandbox.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from notion_feedback.sandbox.clock import SandboxClock
from notion_feedback.sandbox.exchanges import ExchangeLog
from notion_feedback.sandbox.ratelimit import Limit, TokenBucket
from notion_feedback.sandbox.web_guard import bearer_matches, cross_origin

ADMIN_PREFIX = "/_sandbox"
# The workspace viewer reads and edits through the emulated API itself; requests carrying this header are
# served normally but are not counted, faulted or rate-limited, so looking at the demo never disturbs it.
BYPASS_HEADER = b"x-sandbox-bypass"
_ID_SEGMENT = re.compile(r"^(?:[0-9a-fA-F]{32}|[0-9a-fA-F-]{36}|[A-Za-z0-9_-]{40,})$")

# (status, code, message, extra headers) -> body bytes and content type, in the emulated service's own shape.
ErrorFactory = Callable[[int, str, str], tuple[bytes, str]]
# (method, path) -> name of the bucket that limits this request, or None when it is not limited.
BucketClassifier = Callable[[str, str], str | None]


def route_key(method: str, path: str) -> str:
    """``POST /v1/pages/4d2c.../`` -> ``POST /v1/pages/{id}``, so statistics group by endpoint."""
    parts = [("{id}" if _ID_SEGMENT.match(p) else p) for p in path.rstrip("/").split("/")]
    return f"{method} {'/'.join(parts) or '/'}"


@dataclass
class FaultPlan:
    """Injected failures. ``statuses`` maps an HTTP status to the probability a request gets it."""

    statuses: dict[int, float] = field(default_factory=dict)
    latency_ms: float = 0.0
    # Every API request gets 429 for ``storm_seconds``, counted from the first request the plan meets (not from
    # when it was installed), so a client that starts late still meets the whole storm.
    storm_seconds: float = 0.0
    storm_until: float = 0.0  # monotonic end of the storm once it has begun; 0 until then
    timeout: float = 0.0  # probability a request hangs for ``timeout_seconds`` before failing with 504
    timeout_seconds: float = 30.0
    after_effect: float = 0.0  # share of status faults (429 excepted) injected after the request took effect
    rng: random.Random = field(default_factory=random.Random)

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> FaultPlan:
        plan = cls(
            statuses={int(k): float(v) for k, v in (body.get("status") or body.get("statuses") or {}).items()},
            latency_ms=float(body.get("latency_ms", 0.0)),
            timeout=float(body.get("timeout", 0.0)),
            timeout_seconds=float(body.get("timeout_seconds", 30.0)),
            after_effect=float(body.get("after_effect", 0.0)),
            rng=random.Random(body.get("seed")),
        )
        plan.storm_seconds = float(body.get("storm_seconds") or 0.0)
        total = sum(plan.statuses.values()) + plan.timeout
        if total > 1.0 or any(p < 0 for p in plan.statuses.values()):
            raise ValueError("fault probabilities must each be >= 0 and add up to at most 1")
        return plan

    def describe(self) -> dict[str, Any]:
        return {
            "status": {str(k): v for k, v in self.statuses.items()},
            "latency_ms": self.latency_ms,
            "storm_remaining_seconds": self.storm_remaining(),
            "timeout": self.timeout,
            "timeout_seconds": self.timeout_seconds,
            "after_effect": self.after_effect,
        }

    def storm_remaining(self) -> float:
        """Seconds of 429 storm still to come (the whole storm while no request has met it yet)."""
        if not self.storm_until:
            return self.storm_seconds
        return max(0.0, self.storm_until - time.monotonic())

    def in_storm(self) -> bool:
        """Whether this request falls in the storm; the first request to ask starts its clock."""
        if self.storm_seconds and not self.storm_until:
            self.storm_until = time.monotonic() + self.storm_seconds
        return self.storm_until > time.monotonic()

    def draw(self) -> tuple[str, int] | None:
        """Pick this request's fault: ("timeout", 504), ("before"|"after", status) or None."""
        x = self.rng.random()
        if x < self.timeout:
            return ("timeout", 504)
        x -= self.timeout
        for status, p in self.statuses.items():
            if x < p:
                # A rate-limited request is refused before it is done, by Notion and LangSmith alike: a 429 never
                # comes after the effect.
                after = self.rng.random() < self.after_effect and status != 429
                when = "after" if after else "before"
                return (when, status)
            x -= p
        return None


class SandboxControl:
    """Shared state of one emulator's middleware: stats, faults, rate limits and clock."""

    def __init__(
        self,
        *,
        api_prefixes: tuple[str, ...],
        error_factory: ErrorFactory,
        classify: BucketClassifier,
        limits: dict[str, Limit],
        rate_limit: bool = True,
        clock: SandboxClock | None = None,
        error_headers: Callable[[], list[tuple[bytes, bytes]]] | None = None,
    ) -> None:
        self.api_prefixes = api_prefixes
        self.error_factory = error_factory
        # Headers the service puts on every response, added to the middleware's own errors too (Notion's request id).
        self.error_headers = error_headers or (lambda: [])
        self.classify = classify
        self.limits = dict(limits)
        self.rate_limit_enabled = rate_limit
        self.clock = clock or SandboxClock()
        self.faults = FaultPlan()
        self.exchanges = ExchangeLog()
        self._buckets: dict[str, TokenBucket] = {}
        self._stats: Counter[tuple[str, int]] = Counter()
        self._lock = threading.Lock()
        self.reset_hooks: list[Callable[[], None]] = []
        self.admin_token = secrets.token_urlsafe(24)  # the server sets the one it prints (NOTION_SANDBOX_ADMIN_TOKEN)

    # -- statistics -------------------------------------------------------------------------------------
    def record(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self._stats[(route_key(method, path), status)] += 1

    def stats(self) -> dict[str, Any]:
        with self._lock:
            items = list(self._stats.items())
        routes: dict[str, dict[str, int]] = {}
        for (route, status), n in sorted(items):
            routes.setdefault(route, {})[str(status)] = n
        return {"total": sum(n for _, n in items), "routes": routes}

    def count(self, route_prefix: str = "", status: int | None = None) -> int:
        """Requests whose route key starts with ``route_prefix`` (e.g. ``"POST /v1/pages"``)."""
        with self._lock:
            return sum(
                n
                for (route, st), n in self._stats.items()
                if route.startswith(route_prefix) and (status is None or st == status)
            )

    def clear_stats(self) -> None:
        with self._lock:
            self._stats.clear()

    # -- rate limiting ----------------------------------------------------------------------------------
    def check_rate(self, method: str, path: str) -> float | None:
        """Seconds to wait if this request is over its bucket's limit, else None."""
        if not self.rate_limit_enabled:
            return None
        name = self.classify(method, path)
        if name is None or name not in self.limits:
            return None
        with self._lock:
            bucket = self._buckets.get(name)
            if bucket is None:
                bucket = self._buckets[name] = TokenBucket(self.limits[name])
        ok, wait = bucket.try_acquire()
        return None if ok else wait

    def set_limits(self, enabled: bool | None = None, limits: dict[str, Limit] | None = None) -> None:
        with self._lock:
            if enabled is not None:
                self.rate_limit_enabled = enabled
            if limits:
                self.limits.update(limits)
                for name in limits:
                    self._buckets.pop(name, None)

    def reset(self) -> None:
        with self._lock:
            self._stats.clear()
            self._buckets.clear()
        self.faults = FaultPlan()
        self.exchanges = ExchangeLog()
        for hook in self.reset_hooks:
            hook()

    # -- admin routes -----------------------------------------------------------------------------------
    def admin_routes(self) -> list[Route]:
        async def stats(_: Request) -> JSONResponse:
            return JSONResponse(self.stats())

        async def reset(request: Request) -> JSONResponse:
            body = await _json_body(request)
            if body.get("stats_only"):
                self.clear_stats()
            else:
                self.reset()
            return JSONResponse({"ok": True})

        async def faults(request: Request) -> JSONResponse:
            if request.method == "POST":
                try:
                    self.faults = FaultPlan.from_json(await _json_body(request))
                except (TypeError, ValueError) as exc:
                    return JSONResponse({"error": str(exc)}, status_code=400)
            return JSONResponse(self.faults.describe())

        async def clock(request: Request) -> JSONResponse:
            if request.method == "POST":
                body = await _json_body(request)
                if body.get("reset"):
                    self.clock.set(None)
                elif "set" in body:
                    self.clock.set(datetime.fromisoformat(body["set"]), frozen=bool(body.get("frozen")))
                if body.get("advance_seconds"):
                    self.clock.advance(float(body["advance_seconds"]))
            return JSONResponse(self.clock.describe())

        async def ratelimit(request: Request) -> JSONResponse:
            if request.method == "POST":
                body = await _json_body(request)
                limits = {k: Limit(float(v["rate"]), float(v["burst"])) for k, v in body.get("limits", {}).items()}
                self.set_limits(body.get("enabled"), limits)
            return JSONResponse(
                {
                    "enabled": self.rate_limit_enabled,
                    "limits": {k: {"rate": v.rate, "burst": v.burst} for k, v in self.limits.items()},
                }
            )

        async def exchanges(request: Request) -> JSONResponse:
            if request.method == "POST":
                body = await _json_body(request)
                if body.get("record"):
                    self.exchanges.start()
                else:
                    self.exchanges.stop()
            items = self.exchanges.items()
            return JSONResponse({"recording": self.exchanges.recording, "exchanges": [e.as_dict() for e in items]})

        p, guard = ADMIN_PREFIX, self._admin_only
        return [
            Route(f"{p}/stats", guard(stats), methods=["GET"]),
            Route(f"{p}/reset", guard(reset), methods=["POST"]),
            Route(f"{p}/faults", guard(faults), methods=["GET", "POST"]),
            Route(f"{p}/clock", guard(clock), methods=["GET", "POST"]),
            Route(f"{p}/ratelimit", guard(ratelimit), methods=["GET", "POST"]),
            Route(f"{p}/exchanges", guard(exchanges), methods=["GET", "POST"]),
        ]

    def _admin_only(self, handler: Callable[[Request], Awaitable[JSONResponse]]) -> Callable:
        """``handler`` behind the admin checks: same origin (when a browser sent it), then the admin token."""

        async def guarded(request: Request) -> JSONResponse:
            why = cross_origin(request.headers)
            if why:
                return JSONResponse({"error": f"{why}; admin routes are not for web pages"}, status_code=403)
            if not bearer_matches(request.headers, self.admin_token):
                fix = "send Authorization: Bearer <NOTION_SANDBOX_ADMIN_TOKEN, printed by `notion-feedback sandbox`>"
                return JSONResponse({"error": f"admin token missing or wrong: {fix}"}, status_code=401)
            try:
                return await handler(request)
            except (ValueError, TypeError, KeyError) as exc:
                return JSONResponse({"error": f"bad admin request body: {exc}"}, status_code=400)

        return guarded


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    body = json.loads(raw)
    return body if isinstance(body, dict) else {}


class ControlMiddleware:
    """ASGI middleware: count, then delay, fault, rate-limit, in the order a real edge would."""

    def __init__(self, app: Any, control: SandboxControl) -> None:
        self.app = app
        self.control = control

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if (
            scope["type"] != "http"
            or not scope["path"].startswith(self.control.api_prefixes)
            or any(name == BYPASS_HEADER for name, _ in scope.get("headers", ()))
        ):
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        control = self.control
        plan = control.faults

        async def send_counted(message: dict) -> None:
            # Counted before the response leaves, so a client that reads the stats right after its call sees it.
            if message["type"] == "http.response.start":
                control.record(method, path, message["status"])
            await send(message)

        if plan.latency_ms:
            await asyncio.sleep(plan.latency_ms / 1000)
        if plan.in_storm():
            await self._error(send_counted, 429, "rate_limited", "Rate limited (sandbox 429 storm).", 1.0)
        elif (wait := control.check_rate(method, path)) is not None:
            await self._error(send_counted, 429, "rate_limited", "You have been rate limited. Retry later.", wait)
        else:
            fault = plan.draw()
            if fault is None:
                await self.app(scope, receive, send_counted)
            elif fault[0] == "timeout":
                await asyncio.sleep(plan.timeout_seconds)
                await self._error(send_counted, 504, "gateway_timeout", "Gateway timed out (sandbox fault).")
            elif fault[0] == "after":
                await self.app(scope, receive, _discard)
                await self._fault(send_counted, fault[1])
            else:
                await self._fault(send_counted, fault[1])

    async def _fault(self, send: Callable, status: int) -> None:
        if status == BAD_GATEWAY:  # the proxy in front of the API answers, in HTML: no API error code exists for it
            body = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
            headers = [(b"content-type", b"text/html"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        codes = {
            400: "validation_error",
            401: "unauthorized",
            403: "restricted_resource",
            404: "object_not_found",
            409: "conflict_error",
            429: "rate_limited",
            500: "internal_server_error",
            503: "service_unavailable",
            504: "gateway_timeout",
            529: "service_overload",
        }
        await self._error(
            send,
            status,
            codes.get(status, "internal_server_error"),
            "Injected sandbox fault.",
            1.0 if status == 429 else None,
        )

    async def _error(self, send: Callable, status: int, code: str, message: str, wait: float | None = None) -> None:
        body, content_type = self.control.error_factory(status, code, message)
        headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
        headers += self.control.error_headers()
        if wait is not None:
            headers.append((b"retry-after", TokenBucket.retry_after_header(wait).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


BAD_GATEWAY = 502
"""A fault a proxy gives, not the API: its body is an HTML page (Notion's error codes have none for it)."""


async def _discard(message: dict) -> None:
    return None


CLIENT_CLOSED = 499
"""Status counted for a request whose client went away before its body arrived (a killed or timed-out client)."""


async def client_went_away(_: Request, exc: Exception) -> Response:
    """A client that disconnected mid-request gets nothing (it is gone); the server logs no traceback for it."""
    return Response(status_code=CLIENT_CLOSED)


DISCONNECT_HANDLERS: dict[Any, Callable] = {ClientDisconnect: client_went_away}
"""Exception handlers every emulator app registers."""


class RecordExchanges:
    """ASGI middleware, outermost: while ``control.exchanges`` records, each API exchange is kept as the client saw it
    (headers the service's edge adds included); admin, viewer and bypassing requests are not."""

    def __init__(self, app: Any, control: SandboxControl) -> None:
        self.app = app
        self.control = control

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        log = self.control.exchanges
        if (
            log.recording
            and scope["type"] == "http"
            and scope["path"].startswith(self.control.api_prefixes)
            and not any(name == BYPASS_HEADER for name, _ in scope.get("headers", ()))
        ):
            receive, send = await log.tap(scope, receive, send)
        await self.app(scope, receive, send)


def wrap(app: Any, control: SandboxControl, edge: Callable[[Any], Any] | None = None) -> Awaitable:
    """The emulator app behind its control middleware; ``edge`` (what the real service's edge adds, such as
    Notion's request-id header) around both; the exchange log outermost, so it records what clients receive."""
    controlled = ControlMiddleware(app, control)
    return RecordExchanges(edge(controlled) if edge else controlled, control)

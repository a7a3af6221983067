"""The LangSmith API emulator: routes, auth and the factory the sandbox server calls.

Every route is served both bare (``/runs/query``: what the Python SDK sends when ``api_url`` has no path) and
under ``/api/v1`` (other SDKs, and ``api_url`` ending in ``/api/v1``); v2 run queries live at
``/api/v2/runs/query``. State lives in ``LangSmithStore``; this module only speaks HTTP.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from notion_feedback.sandbox.clock import SandboxClock
from notion_feedback.sandbox.control import SandboxControl, wrap
from notion_feedback.sandbox.langsmith.ingest import decode_body, parse_batch, parse_multipart
from notion_feedback.sandbox.langsmith.models import feedback as fbk
from notion_feedback.sandbox.langsmith.models.bulk import bulk_load_runs
from notion_feedback.sandbox.langsmith.models.pricing import ModelPrice, PriceMap
from notion_feedback.sandbox.langsmith.models.query import query_runs, run_docs
from notion_feedback.sandbox.langsmith.models.runs import PayloadError, parse_time
from notion_feedback.sandbox.langsmith.models.stats import dashboard, session_stats, stats
from notion_feedback.sandbox.langsmith.models.store import TENANT_ID, ApiError, LangSmithStore
from notion_feedback.sandbox.langsmith.models.v2 import query_runs_v2
from notion_feedback.sandbox.ratelimit import Limit

log = logging.getLogger(__name__)

SERVER_VERSION = "0.16.0"
API_PREFIXES = (
    "/info",
    "/runs",
    "/sessions",
    "/feedback",
    "/feedback-configs",
    "/api/",
    "/settings",
    "/model-price-map",
    "/public",
)
# Documented LangSmith Cloud limits per API key (docs.langchain.com/langsmith/cloud, "API rate limits").
STATS_LIMIT_ENV = "LANGSMITH_SANDBOX_STATS_LIMIT"  # "N/SECONDS", e.g. "20/10" (the EU figure)


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


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS, default=str)


async def _json(request: Request) -> Any:
    raw = decode_body(await request.body(), request.headers.get("content-encoding"))
    if not raw:
        return {}
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(422, "Request body is not valid JSON") from exc


def _params(request: Request) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in request.query_params.multi_items():
        out.setdefault(k, []).append(v)
    return out


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() in ("1", "true", "yes")


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
        self.app = Starlette(
            routes=self._routes(), exception_handlers={ApiError: self._api_error, PayloadError: self._payload_error}
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

    # -- routes ------------------------------------------------------------------------------------------------
    def _routes(self) -> list[Any]:
        v1 = self._v1_routes()
        return [
            *self.control.admin_routes(),
            Route("/api/v2/runs/query", self.runs_query_v2, methods=["POST"]),
            Mount("/api/v1", routes=v1),
            *v1,
        ]

    def _v1_routes(self) -> list[Route]:
        R = Route
        return [
            R("/info", self.info, methods=["GET"]),
            R("/settings", self.settings, methods=["GET"]),
            R("/model-price-map", self.price_map, methods=["GET"]),
            R("/sessions", self.sessions_create, methods=["POST"]),
            R("/sessions", self.sessions_list, methods=["GET"]),
            R("/sessions/{session_id}", self.session_read, methods=["GET"]),
            R("/sessions/{session_id}", self.session_update, methods=["PATCH"]),
            R("/sessions/{session_id}", self.session_delete, methods=["DELETE"]),
            R("/sessions/{session_id}/dashboard", self.session_dashboard, methods=["POST"]),
            R("/runs/multipart", self.runs_multipart, methods=["POST"]),
            R("/runs/batch", self.runs_batch, methods=["POST"]),
            R("/runs/query", self.runs_query, methods=["POST"]),
            R("/runs/stats", self.runs_stats, methods=["POST"]),
            R("/runs", self.runs_create, methods=["POST"]),
            R("/runs/{run_id}", self.run_read, methods=["GET"]),
            R("/runs/{run_id}", self.run_update, methods=["PATCH"]),
            R("/feedback", self.feedback_create, methods=["POST"]),
            R("/feedback", self.feedback_list, methods=["GET"]),
            R("/feedback/tokens", self.tokens_create, methods=["POST"]),
            R("/feedback/tokens", self.tokens_list, methods=["GET"]),
            R("/feedback/tokens/{token}", self.token_use, methods=["GET", "POST"]),
            R("/feedback/formulas", self.gone, methods=["GET", "POST"]),
            R("/feedback/formulas/{fid}", self.gone, methods=["GET", "PATCH", "DELETE"]),
            R("/feedback/{feedback_id}", self.feedback_read, methods=["GET"]),
            R("/feedback/{feedback_id}", self.feedback_update, methods=["PATCH"]),
            R("/feedback/{feedback_id}", self.feedback_delete, methods=["DELETE"]),
            R("/feedback-configs", self.configs_list, methods=["GET"]),
            R("/feedback-configs", self.configs_create, methods=["POST"]),
            R("/feedback-configs", self.configs_update, methods=["PATCH"]),
            R("/feedback-configs", self.configs_delete, methods=["DELETE"]),
            R("/public/attachments/{run_id}/{name}", self.attachment, methods=["GET"]),
        ]

    async def info(self, _: Request) -> Response:
        return JSON(
            {
                "version": SERVER_VERSION,
                "license_expiration_time": None,
                "batch_ingest_config": {
                    "use_multipart_endpoint": True,
                    "scale_up_qsize_trigger": 1000,
                    "scale_up_nthreads_limit": 16,
                    "scale_down_nempty_trigger": 4,
                    "size_limit": 100,
                    "size_limit_bytes": 20_971_520,
                },
                "instance_flags": {
                    "zstd_compression_enabled": self.zstd,
                    "ch_query_enabled": True,
                    "sdb_query_enabled": False,
                    "search_enabled": True,
                    "dataset_examples_multipart_enabled": False,
                    "generate_ai_query_enabled": False,
                    "org_creation_disabled": True,
                    "show_ttl_ui": False,
                    "trace_tier_duration_days": {"longlived": 400, "shortlived": 14},
                },
                "customer_info": None,
            }
        )

    async def settings(self, _: Request) -> Response:
        return JSON(
            {
                "id": TENANT_ID,
                "display_name": "Sandbox workspace",
                "created_at": "2024-01-01T00:00:00+00:00",
                "tenant_handle": "sandbox",
            }
        )

    async def price_map(self, _: Request) -> Response:
        return JSON(self.prices.to_json())

    async def gone(self, _: Request) -> Response:
        return JSON({"detail": "Composite feedback formulas are no longer supported."}, status_code=410)

    # sessions
    async def sessions_create(self, request: Request) -> Response:
        body = await _json(request)
        return JSON(self.store.create_session(body, upsert=_flag(request, "upsert")))

    def _with_stats(self, request: Request, doc: dict[str, Any]) -> dict[str, Any]:
        if not _flag(request, "include_stats"):
            return doc
        start = parse_time(request.query_params.get("stats_start_time"))
        return {**doc, **session_stats(self.store, doc["id"], start)}

    async def sessions_list(self, request: Request) -> Response:
        q = _params(request)
        names = set(q.get("name", []))
        ids = set(q.get("id", []))
        contains = (q.get("name_contains") or [""])[-1].lower()
        limit = min(int((q.get("limit") or ["100"])[-1]), 100)
        offset = int((q.get("offset") or ["0"])[-1])
        with self.store.lock:
            docs = [
                d
                for d in self.store.sessions.values()
                if (not names or d["name"] in names) and (not ids or d["id"] in ids) and contains in d["name"].lower()
            ]
            docs.sort(key=lambda d: d["start_time"], reverse=True)
            page = [self._with_stats(request, d) for d in docs[offset : offset + limit]]
        return JSON(page)

    async def session_read(self, request: Request) -> Response:
        with self.store.lock:
            return JSON(self._with_stats(request, self.store.get_session(request.path_params["session_id"])))

    async def session_update(self, request: Request) -> Response:
        return JSON(self.store.update_session(request.path_params["session_id"], await _json(request)))

    async def session_delete(self, request: Request) -> Response:
        self.store.delete_session(request.path_params["session_id"])
        return JSON({}, status_code=202)

    async def session_dashboard(self, request: Request) -> Response:
        return JSON(dashboard(self.store, request.path_params["session_id"], await _json(request)))

    # runs
    async def runs_multipart(self, request: Request) -> Response:
        raw = decode_body(await request.body(), request.headers.get("content-encoding"))
        up = parse_multipart(raw, request.headers.get("content-type", ""))
        self.store.ingest(up.posts, up.patches)
        for run_id, name, ctype, data in up.attachments:
            self.store.add_attachment(run_id, name, ctype, data)
        for fb in up.feedback:
            fbk.create_feedback(self.store, fb, lenient=True)
        return JSON({}, status_code=202)

    async def runs_batch(self, request: Request) -> Response:
        up = parse_batch(await _json(request))
        self.store.ingest(up.posts, up.patches)
        return JSON({}, status_code=202)

    async def runs_create(self, request: Request) -> Response:
        body = await _json(request)
        if not isinstance(body, dict):
            raise ApiError(422, "run must be a JSON object")
        self.store.ingest([body], [], strict=True)
        return JSON({}, status_code=202)

    async def run_update(self, request: Request) -> Response:
        body = await _json(request)
        if not isinstance(body, dict):
            raise ApiError(422, "run update must be a JSON object")
        self.store.ingest([], [{**body, "id": request.path_params["run_id"]}])
        return JSON({}, status_code=202)

    async def run_read(self, request: Request) -> Response:
        with self.store.lock:
            self.store.refresh()
            row = self.store.row_of(request.path_params["run_id"])
            if row is None:
                raise ApiError(404, "Run not found")
            import numpy as np

            return JSON(run_docs(self.store, np.asarray([row]), None)[0])

    async def runs_query(self, request: Request) -> Response:
        return JSON(query_runs(self.store, await _json(request)))

    async def runs_query_v2(self, request: Request) -> Response:
        return JSON(query_runs_v2(self.store, await _json(request)))

    async def runs_stats(self, request: Request) -> Response:
        return JSON(stats(self.store, await _json(request)))

    # feedback
    async def feedback_create(self, request: Request) -> Response:
        return JSON(fbk.create_feedback(self.store, await _json(request)))

    async def feedback_list(self, request: Request) -> Response:
        try:
            return JSON(fbk.list_feedback(self.store, _params(request)))
        except (PayloadError, ValueError) as exc:
            raise ApiError(422, str(exc)) from exc

    async def feedback_read(self, request: Request) -> Response:
        return JSON(fbk.get_feedback(self.store, request.path_params["feedback_id"])[1])

    async def feedback_update(self, request: Request) -> Response:
        return JSON(fbk.update_feedback(self.store, request.path_params["feedback_id"], await _json(request)))

    async def feedback_delete(self, request: Request) -> Response:
        fbk.delete_feedback(self.store, request.path_params["feedback_id"])
        return JSON({})

    async def tokens_create(self, request: Request) -> Response:
        body = await _json(request)
        base = self.base_url or str(request.base_url).rstrip("/")
        if isinstance(body, list):
            return JSON([fbk.create_token(self.store, b, base) for b in body])
        return JSON(fbk.create_token(self.store, body, base))

    async def tokens_list(self, request: Request) -> Response:
        q = _params(request)
        limit = min(int((q.get("limit") or ["100"])[-1]), 100)
        offset = int((q.get("offset") or ["0"])[-1])
        items = fbk.list_tokens(self.store, (q.get("run_id") or [None])[-1])
        return JSON(items[offset : offset + limit])

    async def token_use(self, request: Request) -> Response:
        if request.method == "GET":
            body: dict[str, Any] = {}
            for k in ("score", "value", "comment", "correction"):
                v = request.query_params.get(k)
                if v is None:
                    continue
                if k == "score":
                    try:
                        body[k] = float(v) if "." in v else int(v)
                    except ValueError as exc:
                        raise ApiError(422, "score must be a number") from exc
                else:
                    body[k] = v
        else:
            body = await _json(request)
        doc = fbk.use_token(self.store, request.path_params["token"], body if isinstance(body, dict) else {})
        return JSON(doc)

    async def configs_list(self, request: Request) -> Response:
        return JSON(fbk.list_configs(self.store, _params(request)))

    async def configs_create(self, request: Request) -> Response:
        return JSON(fbk.upsert_config(self.store, await _json(request)))

    async def configs_update(self, request: Request) -> Response:
        return JSON(fbk.update_config(self.store, await _json(request)))

    async def configs_delete(self, request: Request) -> Response:
        fbk.delete_config(self.store, request.query_params.get("feedback_key", ""))
        return JSON({})

    async def attachment(self, request: Request) -> Response:
        item = self.store.attachments.get((request.path_params["run_id"], request.path_params["name"]))
        if item is None:
            raise ApiError(404, "Attachment not found")
        return Response(item[1], media_type=item[0])


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


def utcnow() -> datetime:
    return datetime.now(UTC)

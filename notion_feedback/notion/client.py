"""The one way the product builds a Notion client: shared rate limiter, timeouts, retries that are safe.

notion-client 3.1.0 already retries 429 (any method) and 500/503 (GET/DELETE), honouring Retry-After. It does not
retry 502/504/529 or connection failures; the transport below does, but only where a retry cannot duplicate an
effect: reads, PATCH that sets values, and DELETE. A failed POST that creates something, and a block append (a PATCH
that adds), are left to the caller, who knows how to check whether it happened (the recorder looks the row up by
Run ID and counts the blocks its body already has).
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter

import httpx
import notion_client

from notion_feedback.config import Settings, require
from notion_feedback.ratelimit import RateLimiter, shared_limiter

log = logging.getLogger(__name__)
RETRY_STATUSES = frozenset({502, 503, 504, 529})
MAX_TRANSPORT_RETRIES = 4
# POSTs that only read: safe to send again.
_READ_POST_SUFFIXES = ("/query", "/search")


def _safe_to_repeat(request: httpx.Request) -> bool:
    if request.method == "PATCH" and request.url.path.rstrip("/").endswith("/children"):
        return False  # blocks.children.append adds blocks: sent twice, the text is there twice
    return request.method in ("GET", "PATCH", "DELETE", "HEAD") or (
        request.method == "POST" and request.url.path.rstrip("/").endswith(_READ_POST_SUFFIXES)
    )


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers.get("retry-after", ""))
    except ValueError:
        return None


class BudgetedTransport(httpx.BaseTransport):
    """Waits for the shared budget before each request; pauses everyone on 429; retries what is safe."""

    def __init__(self, limiters: list[RateLimiter], inner: httpx.BaseTransport | None = None) -> None:
        self.limiters = limiters
        self.inner = inner or httpx.HTTPTransport()
        self.counts: Counter[str] = Counter()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        attempt = 0
        while True:
            for limiter in self.limiters:
                limiter.acquire()
            self.counts[request.method] += 1
            try:
                response = self.inner.handle_request(request)
            except httpx.ConnectError:
                # Nothing reached the server: repeating is always safe.
                if attempt >= MAX_TRANSPORT_RETRIES:
                    raise
            except httpx.TimeoutException:
                if attempt >= MAX_TRANSPORT_RETRIES or not _safe_to_repeat(request):
                    raise
            else:
                if response.status_code == 429:
                    for limiter in self.limiters:
                        limiter.pause(_retry_after(response) or 1.0)
                    return response  # notion-client retries 429 itself, after Retry-After
                if response.status_code not in RETRY_STATUSES or attempt >= MAX_TRANSPORT_RETRIES:
                    return response
                if not _safe_to_repeat(request):
                    return response
                response.read()
                response.close()
                if (wait := _retry_after(response)) is not None:
                    for limiter in self.limiters:
                        limiter.pause(wait)
            attempt += 1
            time.sleep(min(8.0, 0.25 * 2**attempt) * (0.5 + random.random()))

    def close(self) -> None:
        self.inner.close()


def notion_limiter(settings: Settings) -> RateLimiter:
    return shared_limiter("notion", settings.notion_requests_per_second, settings.notion_burst)


def make_notion_client(
    settings: Settings,
    *,
    extra_limiters: list[RateLimiter] | None = None,
    transport: httpx.BaseTransport | None = None,
) -> notion_client.Client:
    """A notion-client ``Client`` on the shared budget. ``extra_limiters`` add a sub-budget (the recorder's)."""
    require(settings, "notion_token")
    limiters = [*(extra_limiters or []), notion_limiter(settings)]
    http = httpx.Client(transport=BudgetedTransport(limiters, transport))
    client = notion_client.Client(
        client=http,
        auth=settings.notion_token.get_secret_value(),  # type: ignore[union-attr]
        base_url=settings.notion_base_url,
        notion_version=settings.notion_api_version,
        timeout_ms=int(settings.request_timeout_seconds * 1000),
        # Each failure reaches the user once, as the product's own error with its fix; the SDK's per-request
        # "request fail" lines only repeat it (NOTION_FEEDBACK_LOG_LEVEL=DEBUG shows them).
        logger=logging.getLogger("notion_feedback.notion.sdk"),
        log_level=logging.DEBUG if settings.log_level == "DEBUG" else logging.ERROR,
    )
    return client


def request_counts(client: notion_client.Client) -> Counter[str]:
    """Requests sent through this client by HTTP method (retries included): for summaries and benchmarks."""
    transport = client.client._transport  # noqa: SLF001 - our own transport, injected above
    return transport.counts if isinstance(transport, BudgetedTransport) else Counter()

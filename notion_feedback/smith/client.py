"""The one way the product builds a LangSmith client for its own reads and writes.

The daemon must see every failure (feedback is never left to the SDK's background queue, whose errors are only
logged), must not sleep for minutes on a 404 (``stop_after_attempt`` is passed explicitly by callers), must not be
subject to a tracing sampling rate (``create_feedback`` silently drops feedback outside it), and shares one request
budget per process.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import langsmith
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from notion_feedback.config import Settings, require
from notion_feedback.smith.limits import EndpointLimiters, shared_limiters

log = logging.getLogger(__name__)


WaitObserver = Callable[[float], None]
NOTICE_SECONDS = 1.0  # shorter waits pass unremarked


class RateLimitWaits:
    """Tells an observer (a progress display) when this client's requests wait for LangSmith's rate limit: the
    seconds when a wait of at least ``NOTICE_SECONDS`` starts, then 0 when requests go on."""

    def __init__(self) -> None:
        self.observer: WaitObserver | None = None
        self._waiting = False

    def waiting(self, seconds: float) -> None:
        if self.observer is not None and seconds >= NOTICE_SECONDS:
            self._waiting = True
            self.observer(seconds)

    def done(self) -> None:
        if self._waiting and self.observer is not None:
            self._waiting = False
            self.observer(0.0)


class ObservedRetry(Retry):
    """urllib3's retry, saying how long it sleeps on a 429/503 with Retry-After before it sleeps."""

    waits: RateLimitWaits | None = None

    def new(self, **kw: Any) -> ObservedRetry:
        retry = super().new(**kw)
        retry.waits = self.waits
        return retry

    def sleep_for_retry(self, response: Any) -> bool:
        seconds = self.get_retry_after(response)
        if seconds and self.waits is not None:
            self.waits.waiting(seconds)
        slept = super().sleep_for_retry(response)
        if self.waits is not None:
            self.waits.done()
        return slept


class BudgetedAdapter(HTTPAdapter):
    """A requests adapter that waits for the endpoint's and the overall LangSmith budget, and counts requests."""

    def __init__(self, limiters: EndpointLimiters, waits: RateLimitWaits | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.limiters = limiters
        self.waits = waits or RateLimitWaits()
        self.counts: Counter[str] = Counter()

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        method = request.method or "GET"
        chain = self.limiters.for_request(method, urlsplit(request.url or "").path)
        for limiter in chain:
            limiter.acquire(on_wait=self.waits.waiting)
        self.waits.done()
        self.counts[method] += 1
        response = super().send(request, *args, **kwargs)
        if response.status_code == 429:
            try:
                wait = float(response.headers.get("retry-after", "1"))
            except ValueError:
                wait = 1.0
            chain[0].pause(wait)  # the endpoint that refused; other endpoints keep their pace
            self.waits.waiting(wait)  # the SDK sleeps at least this long before it asks again
        return response


def client_options(settings: Settings) -> dict[str, Any]:
    """Which LangSmith a client talks to, from ``Settings`` alone (never the process environment): the daemon's
    client and the agent's tracer must name the same endpoint, workspace and app, or rows and traces disagree."""
    options: dict[str, Any] = {"api_url": settings.langsmith_endpoint}
    if settings.langsmith_api_key is not None:
        options["api_key"] = settings.langsmith_api_key.get_secret_value()
    if settings.langsmith_web_url:
        options["web_url"] = settings.langsmith_web_url.rstrip("/")
    if settings.langsmith_workspace_id:
        options["workspace_id"] = settings.langsmith_workspace_id
    return options


def make_langsmith_client(settings: Settings, **kwargs: Any) -> langsmith.Client:
    """A synchronous client (no background batching, no sampling) on the shared budget."""
    require(settings, "langsmith_api_key")
    waits = RateLimitWaits()
    retry = ObservedRetry(
        total=3,
        backoff_factor=0.5,
        status_forcelist=[429, 500, 502, 503, 504, 408, 425],
        respect_retry_after_header=True,
        allowed_methods=None,
        raise_on_status=False,
    )
    retry.waits = waits
    adapter = BudgetedAdapter(shared_limiters(settings), waits, max_retries=retry)
    session = requests.Session()
    client = langsmith.Client(
        **client_options(settings),
        auto_batch_tracing=False,
        session=session,
        retry_config=retry,
        timeout_ms=int(settings.request_timeout_seconds * 1000),
        tracing_sampling_rate=1.0,
        **kwargs,
    )
    # requests picks the longest matching prefix, so this wins over the SDK's own "http://" adapter.
    session.mount(settings.langsmith_endpoint + "/", adapter)
    return client


def _adapter(client: langsmith.Client) -> BudgetedAdapter | None:
    for prefix, adapter in client.session.adapters.items():
        if isinstance(adapter, BudgetedAdapter) and prefix.startswith("http"):
            return adapter
    return None


def v1_url(client: langsmith.Client, path: str) -> str:
    """The full ``/api/v1/…`` URL of ``path`` whatever form the client's API URL takes (``…`` or ``…/api/v1``):
    for the routes the SDK has no method for (charts, the annotation-queue items of the platform API)."""
    base = client.api_url.rstrip("/")
    for suffix in ("/api/v1", "/api"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    return f"{base}/api/v1/{path.lstrip('/')}"


def request_counts(client: langsmith.Client) -> Counter[str]:
    """Requests this client sent, by HTTP method (retries included)."""
    adapter = _adapter(client)
    return adapter.counts if adapter is not None else Counter()


def observe_rate_limit_waits(client: langsmith.Client, observer: WaitObserver | None) -> None:
    """``observer(seconds)`` hears when this client's requests start waiting for LangSmith's rate limit (the
    client-side budget or the service's Retry-After), and ``observer(0)`` when they go on; None stops it."""
    adapter = _adapter(client)
    if adapter is not None:
        adapter.waits.observer = observer

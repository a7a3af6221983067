"""LangSmith's documented per-key rate limits, as client-side budgets, so the daemon slows down before a 429.

Source: docs.langchain.com/langsmith/cloud, "API rate limits". The sandbox's
emulator keeps its own copy of these numbers on purpose: it must not import the product.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from notion_feedback.config import Settings
from notion_feedback.ratelimit import RateLimiter


@dataclass(frozen=True)
class EndpointBudget:
    name: str
    method: str
    path: re.Pattern[str]  # matched against the URL path with any /api/v1 prefix removed
    requests: float
    seconds: float


# Requests per window, per API key. /runs/stats comes from settings (it differs by region).
DOCUMENTED: tuple[EndpointBudget, ...] = (
    EndpointBudget("feedback", "POST", re.compile(r"^/feedback/?$"), 2000, 10),
    EndpointBudget("runs_multipart", "POST", re.compile(r"^/runs/multipart/?$"), 6000, 10),
    EndpointBudget("runs_query", "POST", re.compile(r"^/runs/query/?$"), 15, 10),
    EndpointBudget("runs_read", "GET", re.compile(r"^/runs/[0-9a-fA-F-]{32,36}/?$"), 30, 60),
)
_STATS = re.compile(r"^/runs/stats/?$")
_PREFIX = re.compile(r"^/api/v[12]")


class EndpointLimiters:
    """The process's LangSmith budget: one overall limiter plus one per limited endpoint."""

    def __init__(self, settings: Settings) -> None:
        rps = settings.langsmith_requests_per_second
        self.overall = RateLimiter(rate=rps, burst=max(1.0, rps), name="langsmith")
        stats = EndpointBudget("runs_stats", "POST", _STATS, settings.langsmith_stats_per_10s, 10)
        self.budgets = (*DOCUMENTED, stats)
        # A window of N requests allows N at once: burst = N (at least one), average N / window.
        self.limiters = {
            b.name: RateLimiter(rate=b.requests / b.seconds, burst=max(1.0, b.requests), name=b.name)
            for b in self.budgets
        }

    def for_request(self, method: str, path: str) -> list[RateLimiter]:
        """The limiters a request must pass: its endpoint's (if any), then the overall one."""
        path = _PREFIX.sub("", path)
        for budget in self.budgets:
            if budget.method == method and budget.path.match(path):
                return [self.limiters[budget.name], self.overall]
        return [self.overall]


_shared: dict[tuple, EndpointLimiters] = {}
_lock = threading.Lock()


def shared_limiters(settings: Settings) -> EndpointLimiters:
    """One set per process and budget configuration, shared by every job (docs/architecture.md §4.6)."""
    key = (settings.langsmith_endpoint, settings.langsmith_requests_per_second, settings.langsmith_stats_per_10s)
    with _lock:
        if key not in _shared:
            _shared[key] = EndpointLimiters(settings)
        return _shared[key]

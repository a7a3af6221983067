"""The sync's retry policy on top of the clients' own: a few more patient tries, then stop the pass cleanly.

The clients already retry what is safe (notion-client: 429; our Notion transport: 5xx/529 on repeatable
requests; the LangSmith session: 429/5xx). Under a storm those run out quickly; the engine then waits longer,
and if the service is still failing the pass stops with its progress saved (the cursor never passed a row whose
effect was not durable), to resume on the next pass.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
import notion_client
from notion_client.errors import RequestTimeoutError

from notion_feedback.errors import NotionFeedbackError, is_permanent_status
from notion_feedback.errors import SyncIncompleteError as SyncIncompleteError  # re-exported: callers import it here

T = TypeVar("T")
ATTEMPTS = 6
CONNECT_ATTEMPTS = 2
MAX_SLEEP = 8.0
NOTION_CONFLICT = 409  # Notion's conflict_error: another write won the race; sending again is the documented fix


def notion_status(exc: BaseException) -> int | None:
    status = getattr(exc, "status", None)
    return int(status) if isinstance(status, int) else None


def is_transient(exc: BaseException) -> bool:
    """Whether waiting and sending again may help: the product's errors say so themselves (``permanent``); the
    SDKs' timeouts and dropped connections may; a Notion answer by its status."""
    if isinstance(exc, NotionFeedbackError):
        return not exc.permanent
    if isinstance(exc, RequestTimeoutError | httpx.TransportError):
        return True
    if isinstance(exc, notion_client.errors.HTTPResponseError):
        status = notion_status(exc)
        return status is None or status == NOTION_CONFLICT or not is_permanent_status(status)
    return False


def with_retries(fn: Callable[..., T], *args: Any, attempts: int = ATTEMPTS, **kwargs: Any) -> T:
    """Call ``fn``; on a transient failure wait (exponential, jittered) and call again, at most ``attempts`` times."""
    for attempt in range(1, attempts + 1):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            # A host that refuses the connection is a network or base-URL problem: one more try, not a minute.
            unreachable = isinstance(exc, httpx.ConnectError) and attempt >= CONNECT_ATTEMPTS
            if not is_transient(exc) or attempt == attempts or unreachable:
                raise
            retry_after = _retry_after(exc)
            delay = retry_after if retry_after is not None else min(MAX_SLEEP, 0.25 * 2**attempt)
            time.sleep(min(60.0, delay) * (0.75 + random.random() / 2))
    raise AssertionError("unreachable")


def _retry_after(exc: BaseException) -> float | None:
    headers = getattr(exc, "headers", None)
    if headers is None:
        return None
    try:
        return float(headers.get("retry-after"))
    except (TypeError, ValueError):
        return None

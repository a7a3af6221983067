"""The one hook library code calls before a batch of writes: "may this process still write?"

The daemon runs each scheduled job under its lease's fence (``daemon/lease.py``); the sync and the reports call
``check_fence`` before each batch and stop with ``LeaseLostError`` when the lease is gone. Outside a daemon (a
one-off ``sync``, a test) there is no fence and the call does nothing. Kept apart from the daemon so the stages
never import it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol


class Fence(Protocol):
    """Anything that raises ``LeaseLostError`` from ``check`` when its holder may no longer write."""

    def check(self) -> None: ...


_fence: ContextVar[Fence | None] = ContextVar("notion_feedback_fence", default=None)


@contextmanager
def fenced(fence: Fence | None) -> Iterator[None]:
    """Run the block (a scheduled job) under ``fence``: library code finds it with ``check_fence``."""
    token = _fence.set(fence)
    try:
        yield
    finally:
        _fence.reset(token)


def check_fence() -> None:
    """Raise ``LeaseLostError`` when running under a daemon that no longer holds the lease; no-op outside one."""
    fence = _fence.get()
    if fence is not None:
        fence.check()

"""Client-side request budgets: one limiter per outside service, shared by every job in the process.

A 429 from the service pauses the whole limiter for its Retry-After, so a burst from one job does not make
every other job hit the wall too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class RateLimiter:
    """A blocking token bucket: ``rate`` requests per second on average, ``burst`` at once."""

    rate: float
    burst: float = 1.0
    name: str = ""
    _tokens: float = field(init=False)
    _stamp: float = field(init=False)
    _paused_until: float = field(init=False, default=0.0)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    waited_seconds: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self._tokens = self.burst
        self._stamp = time.monotonic()

    def _take(self) -> float:
        """Take a token if one is free; otherwise return how long to wait before trying again."""
        with self._lock:
            now = time.monotonic()
            if now < self._paused_until:
                return self._paused_until - now
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            if self._tokens >= 1:
                self._tokens -= 1
                return 0.0
            return (1 - self._tokens) / self.rate

    def try_acquire(self) -> bool:
        return self._take() == 0.0

    def acquire(self, timeout: float | None = None, on_wait: Callable[[float], None] | None = None) -> bool:
        """Block until a request may be sent. False if ``timeout`` passes first. ``on_wait`` hears each wait (in
        seconds) before it starts, so a caller can say why nothing moves."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while (wait := self._take()) > 0:
            if deadline is not None and time.monotonic() + wait > deadline:
                return False
            if on_wait is not None:
                on_wait(wait)
            time.sleep(wait)
            self.waited_seconds += wait
        return True

    def pause(self, seconds: float) -> None:
        """The service said "slow down": nobody sends for ``seconds``."""
        with self._lock:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)
            self._tokens = 0.0


_registry: dict[str, RateLimiter] = {}
_registry_lock = threading.Lock()


def shared_limiter(name: str, rate: float, burst: float) -> RateLimiter:
    """The process-wide limiter for a service (created on first use with the given budget)."""
    with _registry_lock:
        limiter = _registry.get(name)
        if limiter is None or (limiter.rate, limiter.burst) != (rate, burst):
            limiter = _registry[name] = RateLimiter(rate=rate, burst=burst, name=name)
        return limiter

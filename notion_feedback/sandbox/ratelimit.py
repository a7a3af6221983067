"""Token buckets, the shape both real services use to answer 429 with Retry-After."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    """``rate`` requests per second on average, at most ``burst`` at once."""

    rate: float
    burst: float

    @classmethod
    def per_window(cls, requests: int, seconds: float) -> Limit:
        """LangSmith documents limits as N requests per window: allow the whole window as burst."""
        return cls(rate=requests / seconds, burst=float(requests))


class TokenBucket:
    def __init__(self, limit: Limit, clock=time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._tokens = limit.burst
        self._stamp = clock()
        self._lock = threading.Lock()

    def try_acquire(self) -> tuple[bool, float]:
        """Take one token. On refusal, also return how many seconds until one is available."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.limit.burst, self._tokens + (now - self._stamp) * self.limit.rate)
            self._stamp = now
            if self._tokens >= 1:
                self._tokens -= 1
                return True, 0.0
            return False, (1 - self._tokens) / self.limit.rate

    @staticmethod
    def retry_after_header(seconds: float) -> str:
        """Retry-After is whole delta-seconds; never 0, or a client would hammer."""
        return str(max(1, math.ceil(seconds)))

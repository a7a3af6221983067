"""The client-side budget: average rate, burst, and a pause for everyone after a 429."""

from __future__ import annotations

import threading
import time

from notion_feedback.masking import MASK, mask_secrets
from notion_feedback.ratelimit import RateLimiter, shared_limiter


def test_burst_then_average_rate() -> None:
    limiter = RateLimiter(rate=20, burst=5)
    assert all(limiter.try_acquire() for _ in range(5))
    assert not limiter.try_acquire()
    start = time.monotonic()
    for _ in range(4):
        limiter.acquire()
    elapsed = time.monotonic() - start
    assert 0.12 <= elapsed < 0.6  # 4 tokens at 20/s


def test_pause_stops_every_thread() -> None:
    limiter = RateLimiter(rate=1000, burst=10)
    limiter.pause(0.3)
    done: list[float] = []
    start = time.monotonic()

    def worker() -> None:
        limiter.acquire()
        done.append(time.monotonic() - start)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert min(done) >= 0.29


def test_acquire_gives_up_at_timeout() -> None:
    limiter = RateLimiter(rate=0.5, burst=1)
    assert limiter.acquire(timeout=0.1)
    assert not limiter.acquire(timeout=0.1)


def test_one_limiter_per_service() -> None:
    assert shared_limiter("svc-x", 3, 3) is shared_limiter("svc-x", 3, 3)


def test_secret_shapes_are_masked() -> None:
    text = (
        "token ntn_"
        + "4x9QeW2mZpR8sT1vY6uB3nK7"
        + " key lsv2_pt_"
        + "0123456789abcdef0123"
        + " Bearer abcdefghijklmnop1234"
    )
    masked = mask_secrets(text, known=["my-own-secret"])
    assert "ntn_4x9" not in masked and "lsv2_pt" not in masked and masked.count(MASK) == 3
    assert mask_secrets("value my-own-secret here", known=["my-own-secret"]) == f"value {MASK} here"


def test_acquire_tells_each_wait_before_it_starts() -> None:
    limiter = RateLimiter(rate=10, burst=1)
    heard: list[float] = []
    limiter.acquire(on_wait=heard.append)
    assert heard == [], "a free token: no wait"
    limiter.acquire(on_wait=heard.append)
    assert len(heard) == 1 and 0.05 <= heard[0] <= 0.1

"""The single-active lease: one holder at a time, takeover after expiry, a lost lease is noticed on renewal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from notion_feedback.daemon.lease import Lease, current_holder
from notion_feedback.state import open_state


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture()
def engine(state_url):
    return open_state(state_url)


def test_two_contenders_only_one_holds(engine) -> None:
    clock = FakeClock()
    a = Lease(engine, 30, holder="a", clock=clock)
    b = Lease(engine, 30, holder="b", clock=clock)
    assert a.acquire()
    assert not b.acquire()
    assert a.acquire(), "re-acquiring our own lease is a renewal"
    clock.advance(20)
    assert a.renew()
    clock.advance(20)  # 40 s after the first claim, but only 20 s after the renewal
    assert not b.acquire()
    info = current_holder(engine)
    assert info is not None and info.holder == "a"
    assert info.expires_at == clock.now + timedelta(seconds=10)


def test_expired_lease_is_taken_over_and_the_old_holder_learns_it_on_renewal(engine) -> None:
    clock = FakeClock()
    a = Lease(engine, 30, holder="a", clock=clock)
    b = Lease(engine, 30, holder="b", clock=clock)
    assert a.acquire()
    clock.advance(31)  # a died (or stalled) and did not renew
    assert b.acquire()
    assert not a.renew(), "a stalled holder must find out it lost the lease"
    assert not a.acquire()
    assert current_holder(engine).holder == "b"


def test_release_lets_a_standby_in_at_once_and_only_the_holder_can_release(engine) -> None:
    clock = FakeClock()
    a = Lease(engine, 30, holder="a", clock=clock)
    b = Lease(engine, 30, holder="b", clock=clock)
    assert a.acquire()
    b.release()  # not b's: no effect
    assert current_holder(engine).holder == "a"
    a.release()
    assert current_holder(engine) is None
    assert b.acquire()


def test_simultaneous_first_claims_have_one_winner(engine) -> None:
    import threading

    contenders = [Lease(engine, 30, holder=f"c{i}") for i in range(8)]
    results: dict[str, bool] = {}
    barrier = threading.Barrier(len(contenders))

    def claim(lease: Lease) -> None:
        barrier.wait()
        results[lease.holder] = lease.acquire()

    threads = [threading.Thread(target=claim, args=(c,)) for c in contenders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(results.values()) == 1
    winner = next(h for h, ok in results.items() if ok)
    assert current_holder(engine).holder == winner

"""The single-active lease: one row in the state store's ``leases`` table, claimed and renewed by compare-and-set.

APScheduler 3.x cannot share a job store between processes, so only the lease holder runs a scheduler. Every
write is a conditional statement whose row count says whether we won (the pattern healthchecks uses for its
replica-safe daemons): no advisory locks that a pooled connection could silently drop, and it works the same on
SQLite and PostgreSQL. A holder that dies stops renewing; once ``expires_at`` passes, any contender may take over.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, and_, or_, select
from sqlalchemy.exc import IntegrityError

from notion_feedback.errors import LeaseLostError
from notion_feedback.state import leases, utcnow

DAEMON_LEASE = "daemon"


def make_holder_id() -> str:
    """Who holds the lease, readable in `status`: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass(frozen=True)
class LeaseInfo:
    name: str
    holder: str
    expires_at: datetime

    def expired(self, now: datetime) -> bool:
        return self.expires_at <= now


class Lease:
    """One named lease for one contender. ``acquire`` and ``renew`` return whether we hold it afterwards."""

    def __init__(
        self,
        engine: Engine,
        seconds: float,
        *,
        name: str = DAEMON_LEASE,
        holder: str | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.seconds = seconds
        self.name = name
        self.holder = holder or make_holder_id()
        self.clock = clock

    def _times(self) -> tuple[datetime, datetime]:
        now = self.clock().astimezone(UTC)  # always UTC: SQLite compares the stored text
        return now, now + timedelta(seconds=self.seconds)

    def acquire(self) -> bool:
        """Claim the lease if it is free, expired or already ours."""
        now, until = self._times()
        with self.engine.begin() as conn:
            claimed = conn.execute(
                leases.update()
                .where(
                    and_(leases.c.name == self.name, or_(leases.c.holder == self.holder, leases.c.expires_at <= now))
                )
                .values(holder=self.holder, expires_at=until)
            )
            if claimed.rowcount == 1:
                return True
        try:
            with self.engine.begin() as conn:
                conn.execute(leases.insert().values(name=self.name, holder=self.holder, expires_at=until))
            return True
        except IntegrityError:
            return False  # someone else holds it (or inserted it a moment before us)

    def renew(self) -> bool:
        """Extend our lease; False means another contender took it over and we must stop at once."""
        _, until = self._times()
        with self.engine.begin() as conn:
            renewed = conn.execute(
                leases.update()
                .where(and_(leases.c.name == self.name, leases.c.holder == self.holder))
                .values(expires_at=until)
            )
        return renewed.rowcount == 1

    def release(self) -> None:
        """Give the lease up so a waiting contender takes over without waiting for expiry."""
        with self.engine.begin() as conn:
            conn.execute(leases.delete().where(and_(leases.c.name == self.name, leases.c.holder == self.holder)))


def current_holder(engine: Engine, name: str = DAEMON_LEASE) -> LeaseInfo | None:
    """The lease row as stored (expired or not), for `status`."""
    with engine.connect() as conn:
        row = conn.execute(select(leases).where(leases.c.name == name)).first()
    if row is None:
        return None
    return LeaseInfo(row.name, row.holder, row.expires_at)


# A write that starts this close to the lease's expiry is refused: the takeover could happen while it is in flight.
FENCE_MARGIN_SECONDS = 2.0


@dataclass(frozen=True)
class LeaseFence:
    """The fencing check a job makes before each batch of writes: is the lease still ours, and not about to lapse?

    The daemon's renewal loop notices a lost lease only when it next runs; a process that was frozen (SIGSTOP, a
    VM pause, a long GC) resumes its job and its renewal loop together, and the job could write before the loop
    says stop. So the job asks the store itself, one cheap read per batch, and stops with ``LeaseLostError``.
    """

    engine: Engine
    holder: str
    name: str = DAEMON_LEASE
    clock: Callable[[], datetime] = utcnow

    def check(self) -> None:
        info = current_holder(self.engine, self.name)
        now = self.clock().astimezone(UTC)
        if (
            info is None
            or info.holder != self.holder
            or info.expires_at <= now + timedelta(seconds=FENCE_MARGIN_SECONDS)
        ):
            who = "nobody" if info is None else ("it expired" if info.holder == self.holder else info.holder)
            raise LeaseLostError(
                f"this daemon ({self.holder}) lost the single-active lease ({who}); the job stops before writing",
                "nothing to do: the daemon holding the lease carries on, and this one stands by",
            )

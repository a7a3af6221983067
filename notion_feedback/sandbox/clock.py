"""A controllable wall clock, so tests can move time (minute rounding, upload expiry) without sleeping."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class SandboxClock:
    """Real UTC time plus an offset that tests can move forward, or a frozen instant."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = timedelta(0)
        self._frozen: datetime | None = None

    def now(self) -> datetime:
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            return datetime.now(UTC) + self._offset

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            if self._frozen is not None:
                self._frozen += timedelta(seconds=seconds)
            else:
                self._offset += timedelta(seconds=seconds)
        return self.now()

    def set(self, instant: datetime | None, *, frozen: bool = False) -> datetime:
        """Jump to ``instant`` (aware); ``frozen`` stops time there. ``None`` returns to real time."""
        with self._lock:
            if instant is None:
                self._offset, self._frozen = timedelta(0), None
            elif frozen:
                self._frozen = instant.astimezone(UTC)
            else:
                self._frozen = None
                self._offset = instant.astimezone(UTC) - datetime.now(UTC)
        return self.now()

    def describe(self) -> dict[str, object]:
        with self._lock:
            frozen = self._frozen is not None
            offset = self._offset.total_seconds()
        return {"now": self.now().isoformat(), "frozen": frozen, "offset_seconds": offset}

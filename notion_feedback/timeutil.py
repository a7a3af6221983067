"""Moments in time, read one way everywhere: always aware, always UTC.

The state store hands back aware UTC datetimes (state.AwareDateTime), callers may pass naive ones, and the
services write ISO 8601 with ``Z`` or an offset. ``as_utc`` and ``parse_iso`` are the only places that decide what
such a value means.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload


@overload
def as_utc(moment: datetime) -> datetime: ...
@overload
def as_utc(moment: None) -> None: ...
def as_utc(moment: datetime | None) -> datetime | None:
    """``moment`` as an aware UTC datetime: a naive one is read as UTC, an aware one converted; None stays None."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_iso(text: str) -> datetime:
    """An ISO 8601 timestamp (``Z``, an offset, or none meaning UTC) as an aware UTC datetime.

    Raises ``ValueError`` when ``text`` is not one.
    """
    return as_utc(datetime.fromisoformat(str(text).strip().replace("Z", "+00:00")))


def parse_iso_or_none(text: str | None) -> datetime | None:
    """``parse_iso`` for a value that may be missing or malformed (a cursor, a row's date): None then."""
    if not text:
        return None
    try:
        return parse_iso(text)
    except ValueError:
        return None

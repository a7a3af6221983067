"""One reading of time: aware UTC from naive, aware and ISO text alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from notion_feedback.timeutil import as_utc, parse_iso

MOMENT = datetime(2026, 3, 1, 12, 30, 15, 250000, tzinfo=UTC)


def test_a_naive_moment_is_read_as_utc_and_an_aware_one_converted() -> None:
    assert as_utc(MOMENT.replace(tzinfo=None)) == MOMENT and as_utc(MOMENT.replace(tzinfo=None)).tzinfo is UTC
    paris = MOMENT.astimezone(timezone(timedelta(hours=1)))
    assert as_utc(paris) == MOMENT and as_utc(paris).tzinfo is UTC and as_utc(paris).hour == 12
    assert as_utc(None) is None


@pytest.mark.parametrize(
    "stamp",
    [
        "2026-03-01T12:30:15.250Z",  # Notion
        "2026-03-01T12:30:15.250000+00:00",  # LangSmith
        "2026-03-01T13:30:15.250+01:00",
        "2026-03-01T12:30:15.250000",  # naive: stored in UTC
        " 2026-03-01T12:30:15.25Z ",
    ],
)
def test_every_iso_form_the_services_write_is_one_moment(stamp: str) -> None:
    parsed = parse_iso(stamp)
    assert parsed == MOMENT and parsed.tzinfo is UTC


def test_text_that_is_no_timestamp_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_iso("yesterday")


def test_no_product_module_reads_time_its_own_way() -> None:
    from pathlib import Path

    import notion_feedback

    root = Path(notion_feedback.__file__).parent
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "sandbox" not in path.parts
        and path.name != "timeutil.py"
        and any(s in path.read_text() for s in ('replace("Z", "+00:00")', "tzinfo is None", "datetime.fromisoformat"))
    ]
    assert offenders == []

"""Alert dates on report pages: an alert starts on its report's day, never after it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from notion_feedback.report import alerts
from notion_feedback.report import publish as report
from notion_feedback.report.kpi import Check
from notion_feedback.state import open_state

OFF = Check("error_rate", "Error rate", 0.0833, 0.01, False, "rate")
BACK = Check("error_rate", "Error rate", 0.0, 0.01, False, "rate")


def test_the_dec_1_report_run_on_dec_2_says_since_dec_1(tmp_path: Path) -> None:
    engine = open_state(f"sqlite:///{tmp_path / 's.db'}")
    dec1 = alerts.plan(engine, [OFF], "day", date(2026, 12, 1))
    alerts.commit(engine, dec1, datetime(2026, 12, 2, 8, 5, tzinfo=UTC))  # the daily job runs the next morning

    dec2 = alerts.plan(engine, [OFF], "day", date(2026, 12, 2))
    [line] = alerts.lines(dec2, report._format)
    assert line.startswith("⚠️ Still off target since 2026-12-01: Error rate 8.3 %")
    alerts.commit(engine, dec2, datetime(2026, 12, 3, 8, 5, tzinfo=UTC))

    dec3 = alerts.plan(engine, [BACK], "day", date(2026, 12, 3))
    [resolved] = alerts.lines(dec3, report._format)
    assert resolved.endswith("off target since 2026-12-01")


def test_a_backfilled_page_older_than_the_alert_shows_no_alert_from_its_future(tmp_path: Path) -> None:
    engine = open_state(f"sqlite:///{tmp_path / 's.db'}")
    alerts.commit(engine, alerts.plan(engine, [OFF], "day", date(2026, 12, 1)), datetime(2026, 12, 2, 8, tzinfo=UTC))
    older = alerts.plan(engine, [OFF], "day", date(2026, 11, 28), moves_state=False)
    assert alerts.lines(older, report._format) == []
    for page_day in (date(2026, 11, 28), date(2026, 12, 1), date(2026, 12, 2)):
        p = alerts.plan(engine, [OFF], "day", page_day, moves_state=False)
        assert all(since.date() <= page_day for _, since in p.still_firing)

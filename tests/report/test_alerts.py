"""Alerts on the sandbox: ok → firing (comment + webhook), no repeat while firing, resolved with a recovery notice;
failures of the webhook never break the report; and the report's A/B, cost and forecast sections."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pydantic import SecretStr
from report_helpers import Interaction, trace

from notion_feedback.config import Settings
from notion_feedback.notion.client import make_notion_client
from notion_feedback.notion.text import plain_text
from notion_feedback.report import alerts
from notion_feedback.report import publish as report
from notion_feedback.report.kpi import Check
from notion_feedback.sandbox.server import Sandbox
from notion_feedback.state import open_state

SECRET = "T0001/B0002/hooksecret1234567890"


class Hook:
    """A tiny webhook receiver on 127.0.0.1 that records each JSON body (and can answer with an error)."""

    def __init__(self, status: int = 200) -> None:
        self.bodies: list[dict] = []
        self.paths: list[str] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                hook.bodies.append(json.loads(self.rfile.read(length)))
                hook.paths.append(self.path)
                self.send_response(status)
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/services/{SECRET}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def hook() -> Iterator[Hook]:
    h = Hook()
    yield h
    h.close()


def _day(offset: int) -> datetime:
    d = datetime.now(UTC).date() - timedelta(days=offset)
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def _traffic(settings: Settings, day: datetime, latency_s: float) -> None:
    """Three fast-enough-or-not interactions, rated 5: only the response-time rule can be off target."""
    trace(
        settings,
        [Interaction(day + timedelta(hours=h), latency_s, 500, 0.003, "A", "gpt-4o-mini", "u1", 5) for h in (1, 2, 3)],
    )


def _comments(settings: Settings, page_id: str) -> list[str]:
    notion = make_notion_client(settings)
    return [plain_text(c["rich_text"]) for c in notion.comments.list(block_id=page_id)["results"]]


def test_alert_fires_once_stays_quiet_then_resolves(ws: Settings, sandbox: Sandbox, hook: Hook) -> None:
    s = ws.model_copy(update={"alert_webhook_url": SecretStr(hook.url)})
    d1, d2, d3 = _day(3), _day(2), _day(1)
    for day, latency in ((d1, 3.0), (d2, 3.2), (d3, 0.5)):
        _traffic(s, day, latency)

    # day 1: the average response time (3 s) is off its 2 s target -> fires: one comment, one webhook POST
    r1 = report.publish_report(s, "day", now=d1 + timedelta(days=1, hours=8))
    assert (r1.alerts, r1.alert_transitions) == (1, 1)
    [c1] = _comments(s, r1.page_id)
    assert "1 new alert(s), 0 resolved" in c1 and "🔔 New: Average response time 3,000 ms (target < 2,000 ms)" in c1
    assert len(hook.bodies) == 1 and set(hook.bodies[0]) == {"text"}
    assert hook.bodies[0]["text"].startswith(c1) and r1.url in hook.bodies[0]["text"]

    # the same report published again, and the next day still slow: no repeat anywhere
    again = report.publish_report(s, "day", now=d1 + timedelta(days=1, hours=9))
    assert again.page_id == r1.page_id and again.alert_transitions == 0
    r2 = report.publish_report(s, "day", now=d2 + timedelta(days=1, hours=8))
    assert r2.alerts == 1 and r2.alert_transitions == 0 and _comments(s, r2.page_id) == []
    assert len(_comments(s, r1.page_id)) == 1 and len(hook.bodies) == 1
    page2 = make_notion_client(s).blocks.children.list(r2.page_id, page_size=100)["results"]
    texts = [plain_text(b[b["type"]].get("rich_text", [])) for b in page2 if "rich_text" in b[b["type"]]]
    assert any(t.startswith(f"⚠️ Still off target since {d1:%Y-%m-%d}: Average") for t in texts)

    # day 3: back on target -> a recovery notice on that day's page and to the webhook
    r3 = report.publish_report(s, "day", now=d3 + timedelta(days=1, hours=8))
    assert (r3.alerts, r3.alert_transitions) == (0, 1)
    [c3] = _comments(s, r3.page_id)
    assert "0 new alert(s), 1 resolved" in c3 and "✅ Resolved: Average response time 500 ms" in c3
    assert len(hook.bodies) == 2 and "Resolved" in hook.bodies[1]["text"]

    # republishing an old day (a backfill) shows its breach but never notifies nor moves the state
    old = report.publish_report(s, "day", d1.date(), now=d3 + timedelta(days=1, hours=9))
    assert old.alerts == 1 and old.alert_transitions == 0 and len(hook.bodies) == 2
    assert len(_comments(s, r1.page_id)) == 1
    states = alerts.load_states(open_state(s.resolved_state_url), ["day:latency_avg_ms"])
    assert states["day:latency_avg_ms"][0] == alerts.OK


def test_a_failing_webhook_is_logged_masked_and_never_breaks_the_report(
    ws: Settings, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    broken = Hook(status=500)
    try:
        s = ws.model_copy(update={"alert_webhook_url": SecretStr(broken.url)})
        _traffic(s, _day(1), 3.0)
        with caplog.at_level(logging.WARNING, logger="notion_feedback.report.alerts"):
            result = report.publish_report(s, "day")
        assert result.alert_transitions == 1 and len(broken.bodies) == 1
        assert len(_comments(s, result.page_id)) == 1  # the comment still went out
        assert "HTTP 500" in caplog.text and "127.0.0.1/…" in caplog.text and SECRET not in caplog.text
        assert "hooksecret" not in caplog.text
    finally:
        broken.close()
    # nothing listens any more: a connection error is logged the same way; the state does not re-notify
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="notion_feedback.report.alerts"):
        assert alerts.post_webhook(broken.url, "x", timeout=2) is False
    assert "failed: ConnectError" in caplog.text and "hooksecret" not in caplog.text


def test_no_data_keeps_the_state(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = open_state(f"sqlite:///{tmp_path / 's.db'}")
    now = datetime(2026, 11, 2, 8, tzinfo=UTC)
    off = Check("error_rate", "Error rate", 0.2, 0.01, False, "rate")
    p1 = alerts.plan(engine, [off], "day", date(2026, 11, 1))
    assert [t.kind for t in p1.transitions] == ["firing"]
    alerts.commit(engine, p1, now)
    quiet = Check("error_rate", "Error rate", None, 0.01, False, "rate")
    p2 = alerts.plan(engine, [quiet], "day", date(2026, 11, 2))
    assert p2.transitions == [] and [c.key for c, _ in p2.still_firing] == ["error_rate"]
    # a weekly rule is another rule: the daily state does not leak into it
    p3 = alerts.plan(engine, [off], "week", date(2026, 10, 26))
    assert [t.rule for t in p3.transitions] == ["week:error_rate"]


def test_report_shows_ab_verdicts_cost_advice_and_forecast(ws: Settings, sandbox: Sandbox) -> None:
    s = ws.model_copy(update={"rating_scale": "thumbs", "monthly_budget_usd": 50.0})  # the bulk loader rates 0/1
    start = _day(20)
    sandbox.langsmith.bulk_load_runs(
        8000,
        project_name=s.langsmith_project,
        start_time=start,
        days=20.0,
        metadata={"variant": ["A", "B"], "user_id": [f"u{i}" for i in range(50)]},
        feedback_rate=0.3,
    )
    # and yesterday, two models rated alike: one costs 10x the other
    y = _day(1)
    trace(
        s,
        [Interaction(y + timedelta(hours=h), 1.0, 400, 0.02, "A", "gpt-4.1", "u1", 1) for h in (1, 2, 3)]
        + [Interaction(y + timedelta(hours=h), 1.0, 400, 0.002, "B", "gpt-4o-mini", "u2", 1) for h in (4, 5, 6)],
    )
    result = report.publish_report(s, "day", notify=False)
    assert result.charts == 5 and result.alert_transitions == 0
    notion = make_notion_client(s)
    blocks = notion.blocks.children.list(result.page_id, page_size=100)["results"]
    texts = [plain_text(b[b["type"]].get("rich_text", [])) for b in blocks if "rich_text" in b.get(b["type"], {})]
    headings = [
        t
        for b, t in zip([b for b in blocks if "rich_text" in b.get(b["type"], {})], texts, strict=True)
        if b["type"].startswith("heading")
    ]
    assert "Cost forecast and savings" in headings and "A/B comparison" in headings
    assert "Verdicts (against A, at 95 % confidence)" in headings
    verdict = next(t for t in texts if t.startswith("B vs A: "))
    assert "B rated" in verdict or "Not enough data yet" in verdict
    assert sum(t.count("B vs A") for t in texts) == 1
    assert any(t.startswith("Month to date (") for t in texts)
    assert any(t.startswith(f"Projected {(start + timedelta(days=19)):%B} total: ≈$") and "trend" in t for t in texts)
    assert any("monthly budget" in t for t in texts)
    saving = (0.02 - 0.002) * 3 * 365.25 / 12
    assert (
        "gpt-4.1 costs 10× gpt-4o-mini per interaction ($0.0200 vs $0.0020) with the same average rating (1.00 vs "
        "1.00; few ratings, 3 and 3: try it as a variant first): moving gpt-4.1's traffic (3 interactions/day) to "
        f"gpt-4o-mini would save ≈${saving:,.2f}/month."
    ) in texts
    assert sum(b["type"] == "image" for b in blocks) == 5

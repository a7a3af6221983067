"""Stateful threshold alerts over the report's KPI checks: ok → firing → resolved, one notice per transition.

Why stateful: a daily report that re-announces the same breach every morning gets ignored; the bar set by the
LLM-ops tools (Lunary's triggered/resolved history, Langfuse's alert levels) is a notice when a KPI goes off
target, silence while it stays off, and a recovery notice when it is back. The rules are the KPI targets in
settings (``kpi.checks``); each rule is keyed ``<period>:<kpi>``, so daily and weekly reports keep separate states
in the state store's ``alert_state`` table.

- No data (a quiet day, nobody rated) keeps a rule's state: silence neither fires nor resolves an alert.
- Only the latest complete period moves the state: republishing or backfilling older reports never notifies.
- An alert starts on the first day of the period that went off target, not when its report ran (the report of
  Dec 1 runs on Dec 2, and must not say "since Dec 2"); a backfilled page older than an alert does not show it.
- Delivery costs at most one Notion request per report whatever the number of transitions: one comment on the
  report page listing them all; plus one webhook POST (``NOTION_FEEDBACK_ALERT_WEBHOOK_URL``, Slack-compatible
  ``{"text": ...}``) when configured. Failures and timeouts are logged with the URL masked and never raised into
  the report job. The state is saved after the delivery attempt: a crash in between repeats a notice once
  (at-least-once), a failing webhook never makes it repeat every day.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from urllib.parse import urlsplit

import httpx
import notion_client
from sqlalchemy import Engine, select

from notion_feedback.config import Settings
from notion_feedback.masking import mask_secrets
from notion_feedback.notion.text import rich_text
from notion_feedback.report.kpi import Check
from notion_feedback.state import alert_state

log = logging.getLogger(__name__)
OK, FIRING, RESOLVED = "ok", "firing", "resolved"
WEBHOOK_TIMEOUT_SECONDS = 10.0
Formatter = Callable[[str, float | None], str]


def rule_key(period: str, check: Check) -> str:
    return f"{period}:{check.key}"


@dataclass(frozen=True)
class Transition:
    """A rule changing state with this report: ``kind`` is firing (ok → firing) or resolved (firing → ok)."""

    rule: str
    kind: str
    check: Check
    since: datetime | None = None  # resolved: when it started firing


@dataclass
class AlertPlan:
    """What this report changes, computed before the page is written (the page shows it) and saved after."""

    period: str
    period_start: date
    moves_state: bool
    transitions: list[Transition] = field(default_factory=list)
    still_firing: list[tuple[Check, datetime]] = field(default_factory=list)  # firing before, firing now

    @property
    def firing(self) -> list[Transition]:
        return [t for t in self.transitions if t.kind == FIRING]

    @property
    def resolved(self) -> list[Transition]:
        return [t for t in self.transitions if t.kind == RESOLVED]


def load_states(engine: Engine, rules: Sequence[str]) -> dict[str, tuple[str, datetime]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(alert_state.c.rule, alert_state.c.state, alert_state.c.since).where(alert_state.c.rule.in_(rules))
        ).all()
    return {r: (s, since) for r, s, since in rows}


def period_moment(period_start: date) -> datetime:
    """The ``since`` of an alert that fired with the report of ``period_start``: that period's first day."""
    return datetime(period_start.year, period_start.month, period_start.day, tzinfo=UTC)


def plan(
    engine: Engine, checks: Sequence[Check], period: str, period_start: date, *, moves_state: bool = True
) -> AlertPlan:
    """Compare each check with its rule's saved state; reads the state store only.

    A state that began after this period (a backfilled page) is no state for it: the page shows the breach in
    its KPI table, not an alert "since" a later day.
    """
    out = AlertPlan(period, period_start, moves_state)
    states = load_states(engine, [rule_key(period, c) for c in checks])
    for c in checks:
        key = rule_key(period, c)
        state, since = states.get(key, (OK, None))
        if since is not None and since.date() > period_start:
            state, since = OK, None
        if c.ok is None:  # no data: keep the state
            if state == FIRING and since is not None:
                out.still_firing.append((c, since))
            continue
        if c.ok is False and state != FIRING:
            out.transitions.append(Transition(key, FIRING, c))
        elif c.ok is True and state == FIRING:
            out.transitions.append(Transition(key, RESOLVED, c, since))
        elif c.ok is False and since is not None:
            out.still_firing.append((c, since))
    if not moves_state:
        out.transitions = []
    return out


def commit(engine: Engine, alert_plan: AlertPlan, now: datetime) -> None:
    """Save the transitions (and the latest value of each rule that fired), dated by the report's period.

    ``now`` (when the report ran) dates nothing a reader sees: it is at least a day after a daily report's day.
    """
    if not alert_plan.moves_state:
        return
    since = min(now, period_moment(alert_plan.period_start))
    with engine.begin() as conn:
        for t in alert_plan.transitions:
            conn.execute(alert_state.delete().where(alert_state.c.rule == t.rule))
            conn.execute(
                alert_state.insert().values(
                    rule=t.rule, state=FIRING if t.kind == FIRING else OK, value=t.check.value, since=since
                )
            )
        for c, _ in alert_plan.still_firing:
            key = rule_key(alert_plan.period, c)
            if c.value is not None:
                conn.execute(alert_state.update().where(alert_state.c.rule == key).values(value=c.value))


# -- words ----------------------------------------------------------------------------------------------------------


def _target(c: Check, fmt: Formatter) -> str:
    return ("> " if c.higher_is_better else "< ") + fmt(c.unit, c.target)


def lines(alert_plan: AlertPlan, fmt: Formatter) -> list[str]:
    """One line per new, resolved and ongoing alert (what the page and the notices say)."""
    out = [
        f"🔔 New: {t.check.label} {fmt(t.check.unit, t.check.value)} (target {_target(t.check, fmt)})"
        for t in alert_plan.firing
    ]
    out += [
        f"✅ Resolved: {t.check.label} {fmt(t.check.unit, t.check.value)} (target {_target(t.check, fmt)})"
        + (f", off target since {t.since:%Y-%m-%d}" if t.since else "")
        for t in alert_plan.resolved
    ]
    out += [
        f"⚠️ Still off target since {since:%Y-%m-%d}: {c.label} {fmt(c.unit, c.value)} (target {_target(c, fmt)})"
        for c, since in alert_plan.still_firing
    ]
    return out


def notice(alert_plan: AlertPlan, fmt: Formatter, title: str) -> str:
    """The text of a notice: the transitions only (ongoing alerts were announced when they started)."""
    news = [line for line in lines(alert_plan, fmt) if not line.startswith("⚠️")]
    return "\n".join([f"{title}: {len(alert_plan.firing)} new alert(s), {len(alert_plan.resolved)} resolved", *news])


# -- delivery -------------------------------------------------------------------------------------------------------


def mask_url(url: str) -> str:
    """Scheme and host only: webhook paths and queries carry the secret (Slack: /services/T…/B…/token)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}/…" if parts.scheme else "<webhook URL>"


@dataclass
class Delivery:
    """What the notices did: ``comment`` / ``webhook`` are None when not attempted, else whether they worked."""

    transitions: int = 0
    comment: bool | None = None
    webhook: bool | None = None
    notion_requests: int = 0


def post_webhook(url: str, text: str, *, timeout: float = WEBHOOK_TIMEOUT_SECONDS, secrets: Sequence[str] = ()) -> bool:
    """POST ``{"text": ...}``; True on a 2xx. Never raises; logs failures without the URL's secret part."""
    where = mask_url(url)
    try:
        response = httpx.post(url, json={"text": text}, timeout=timeout)
    except httpx.HTTPError as exc:
        log.warning("alert webhook %s failed: %s", where, exc.__class__.__name__)
        return False
    except Exception as exc:  # noqa: BLE001 - a notice must never break the report job
        log.warning("alert webhook %s failed: %s", where, mask_secrets(str(exc), [url, *secrets]))
        return False
    if response.is_success:
        return True
    log.warning("alert webhook %s answered HTTP %s", where, response.status_code)
    return False


def post_comment(notion: notion_client.Client, page_id: str, text: str, secrets: Sequence[str] = ()) -> bool:
    """A comment on the report page, where the team reads the report (one request)."""
    try:
        notion.comments.create(parent={"page_id": page_id}, rich_text=rich_text(text))
        return True
    except Exception as exc:  # noqa: BLE001 - a notice must never break the report job
        log.warning("alert comment on the report page failed: %s", mask_secrets(str(exc), secrets))
        return False


def deliver(
    settings: Settings,
    alert_plan: AlertPlan,
    notion: notion_client.Client,
    page_id: str,
    *,
    title: str,
    url: str,
    fmt: Formatter,
    now: datetime,
    engine: Engine,
) -> Delivery:
    """Notify the transitions of one report (comment + webhook), then save the new states."""
    out = Delivery(transitions=len(alert_plan.transitions))
    if alert_plan.transitions:
        text = notice(alert_plan, fmt, title)
        secrets = settings.secrets()
        out.comment = post_comment(notion, page_id, text, secrets)
        out.notion_requests = 1
        if settings.alert_webhook_url:
            hook = settings.alert_webhook_url.get_secret_value()
            out.webhook = post_webhook(
                hook,
                f"{text}\n{url}" if url else text,
                timeout=min(WEBHOOK_TIMEOUT_SECONDS, settings.request_timeout_seconds),
                secrets=secrets,
            )
    commit(engine, alert_plan, now)
    return out

"""What the daemon is doing, read from the state store alone (works whether a daemon runs or not).

Each job's last run and next run, who holds the lease, how far the rating sync lags, and what went wrong lately.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, MetaData, Table, func, select
from sqlalchemy.exc import NoSuchTableError

from notion_feedback.capture.spool import SPOOL_FILE, SpoolSummary, read_summary
from notion_feedback.config import Settings
from notion_feedback.daemon.jobruns import OK, SYNC_JOB, VERIFY_JOB, JobRun, last_runs, recent_runs
from notion_feedback.daemon.lease import LeaseInfo, current_holder
from notion_feedback.daemon.scheduler import JOBS, JOBSTORE_TABLE
from notion_feedback.state import open_state, synced_ratings, utcnow
from notion_feedback.timeutil import parse_iso_or_none

__all__ = ["SYNC_JOB", "Status", "collect_status", "status_as_dict"]


@dataclass
class JobStatus:
    id: str
    last: JobRun | None
    next_run: datetime | None
    scheduled: bool  # present in the job store (False: never started by a daemon, or removed)


@dataclass
class Status:
    now: datetime
    jobs: list[JobStatus]
    lease: LeaseInfo | None
    cursor: datetime | None
    last_sync_ok: datetime | None
    recent_errors: list[JobRun] = field(default_factory=list)
    rows_in_error: int = 0
    spool: SpoolSummary | None = None  # the recorder's spool in this home, when one exists

    @property
    def daemon_active(self) -> bool:
        return self.lease is not None and not self.lease.expired(self.now)

    @property
    def sync_lag_seconds(self) -> float | None:
        """Now minus the sync cursor: how old the newest edit the sync has fully handled is."""
        return None if self.cursor is None else max(0.0, (self.now - self.cursor).total_seconds())


def next_runs(engine: Engine) -> dict[str, datetime | None]:
    """Next run per job id from APScheduler's table (read directly: nothing to unpickle, no job to import)."""
    try:
        table = Table(JOBSTORE_TABLE, MetaData(), autoload_with=engine)
    except NoSuchTableError:
        return {}
    with engine.connect() as conn:
        rows = conn.execute(select(table.c.id, table.c.next_run_time)).all()
    return {row.id: datetime.fromtimestamp(row.next_run_time, UTC) if row.next_run_time else None for row in rows}


def sync_cursor(engine: Engine, settings: Settings) -> datetime | None:
    if not settings.feedback_data_source_id:
        return None
    from notion_feedback.sync.store import get_cursor

    return parse_iso_or_none(get_cursor(engine, settings.feedback_data_source_id, settings.rating_key))


def collect_status(settings: Settings, *, errors: int = 5, now: datetime | None = None) -> Status:
    engine = open_state(settings.resolved_state_url)
    now = now or utcnow()
    runs = last_runs(engine)
    upcoming = next_runs(engine)
    ids = [spec.id for spec in JOBS] + sorted((set(runs) | set(upcoming)) - {spec.id for spec in JOBS})
    jobs = [JobStatus(i, runs.get(i), upcoming.get(i), i in upcoming) for i in ids]
    last_ok = next((r for r in recent_runs(engine, 50) if r.job in (SYNC_JOB, VERIFY_JOB) and r.outcome == OK), None)
    with engine.connect() as conn:
        in_error = conn.execute(
            select(func.count()).select_from(synced_ratings).where(synced_ratings.c.status == "error")
        ).scalar_one()
    return Status(
        now=now,
        jobs=jobs,
        lease=current_holder(engine),
        cursor=sync_cursor(engine, settings),
        last_sync_ok=last_ok.finished_at if last_ok else None,
        recent_errors=recent_runs(engine, errors, outcome="error"),
        rows_in_error=int(in_error),
        spool=read_summary(settings.home / SPOOL_FILE),
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def _run_dict(run: JobRun | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "outcome": run.outcome,
        "duration_seconds": run.duration_seconds,
        "summary": run.summary,
        "error": run.error,
    }


def status_as_dict(status: Status) -> dict[str, Any]:
    """The `status --json` document."""
    return {
        "now": _iso(status.now),
        "daemon_active": status.daemon_active,
        "lease": None
        if status.lease is None
        else {"holder": status.lease.holder, "expires_at": _iso(status.lease.expires_at)},
        "jobs": [
            {"id": j.id, "scheduled": j.scheduled, "next_run": _iso(j.next_run), "last_run": _run_dict(j.last)}
            for j in status.jobs
        ],
        "sync": {
            "cursor": _iso(status.cursor),
            "lag_seconds": status.sync_lag_seconds,
            "last_ok": _iso(status.last_sync_ok),
            "rows_in_error": status.rows_in_error,
        },
        "recent_errors": [{"job": r.job} | (_run_dict(r) or {}) for r in status.recent_errors],
        "spool": None
        if status.spool is None
        else {
            "waiting": status.spool.waiting,
            "refused": status.spool.failed,
            "oldest_age_seconds": status.spool.oldest_age_seconds,
            "dropped": status.spool.dropped,
        },
    }


def ago(seconds: float | None) -> str:
    """``93`` -> ``1 min ago``: short and readable in a table."""
    if seconds is None:
        return "—"
    future = seconds < 0
    seconds = abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            amount = f"{seconds / size:.0f} {unit}"
            break
    else:
        amount = f"{seconds:.0f} s"
    return f"in {amount}" if future else f"{amount} ago"

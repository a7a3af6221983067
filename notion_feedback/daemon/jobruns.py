"""Job runs: a row in ``job_runs`` per run (read by `status`) and one structured log line when it ends.

The log line carries the job, outcome, duration and the summary's counts, so a log pipeline can alert on it
without parsing prose. Error text and summaries pass through the secret mask before they are stored or logged.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Engine, desc, func, select

from notion_feedback.masking import mask_secrets
from notion_feedback.state import job_runs, open_state, utcnow

if TYPE_CHECKING:
    from notion_feedback.config import Settings

T = TypeVar("T")

log = logging.getLogger("notion_feedback.jobs")

OK, ERROR, MISSED, RUNNING = "ok", "error", "missed", "running"
MAX_ERROR_CHARS = 2000
SYNC_JOB, VERIFY_JOB, LEARN_JOB = "sync_ratings", "verify_ratings", "learn"
"""Job ids of an incremental rating pass and a full one (`sync --full`): in the daemon's job store, in job-run
records, and what ``status`` reads the sync lag from."""
REPORT_JOBS = {"day": "daily_report", "week": "weekly_rollup", "month": "monthly_rollup"}
"""The report job per period, whether the daemon or `notion-feedback report` runs it."""


@dataclass(frozen=True)
class JobRun:
    id: int
    job: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    summary: dict[str, Any]
    error: str | None

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return round((self.finished_at - self.started_at).total_seconds(), 3)


def summary_of(result: Any) -> dict[str, Any]:
    """A job's return value as a JSON-able dict (dataclasses and objects with ``as_dict`` included)."""
    if result is None:
        return {}
    if isinstance(result, dict):
        return {str(k): v for k, v in result.items()}
    for method in ("as_dict", "to_dict", "model_dump"):
        if callable(getattr(result, method, None)):
            return summary_of(getattr(result, method)())
    import dataclasses

    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return dataclasses.asdict(result)
    return {"result": str(result)}


def _counts(summary: dict[str, Any]) -> dict[str, Any]:
    """The scalar fields of a summary (numbers, booleans, short strings): what belongs on a log line."""
    return {
        k: v for k, v in summary.items() if isinstance(v, int | float | bool) or (isinstance(v, str) and len(v) < 80)
    }


class JobRecorder:
    """Writes job runs for one state store; ``secrets`` are masked out of anything stored or logged. ``quiet``: a
    run that went well logs at DEBUG (a command that prints its own summary)."""

    def __init__(self, engine: Engine, secrets: Iterable[str] = (), *, quiet: bool = False) -> None:
        self.engine = engine
        self.secrets = [s for s in secrets if s]
        self.ok_level = logging.DEBUG if quiet else logging.INFO

    def _mask(self, text: str) -> str:
        return mask_secrets(text, self.secrets)

    def start(self, job: str, started_at: datetime | None = None) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(job_runs.insert().values(job=job, started_at=started_at or utcnow(), outcome=RUNNING))
            return int(result.inserted_primary_key[0])

    def finish(
        self, run_id: int, job: str, outcome: str, result: Any = None, error: BaseException | str | None = None
    ) -> JobRun:
        """Close a run and log its line. Never raises for an unserialisable summary: it is stored as text."""
        finished = utcnow()
        summary = summary_of(result)
        summary_text = self._mask(json.dumps(summary, default=str))
        error_text = None
        if error is not None:
            raw = f"{error.__class__.__name__}: {error}" if isinstance(error, BaseException) else str(error)
            error_text = self._mask(raw)[:MAX_ERROR_CHARS]
        with self.engine.begin() as conn:
            conn.execute(
                job_runs.update()
                .where(job_runs.c.id == run_id)
                .values(finished_at=finished, outcome=outcome, summary=summary_text, error=error_text)
            )
            started = conn.execute(select(job_runs.c.started_at).where(job_runs.c.id == run_id)).scalar_one()
        run = JobRun(run_id, job, started or finished, finished, outcome, json.loads(summary_text), error_text)
        fields: dict[str, Any] = {"job": job, "outcome": outcome, "duration_s": run.duration_seconds}
        fields |= {k: v for k, v in _counts(run.summary).items() if k not in fields}
        if error_text:
            fields["error"] = error_text.splitlines()[0][:300]
        level = logging.ERROR if outcome == ERROR else self.ok_level
        log.log(level, self._mask(f"job {job} {outcome} in {run.duration_seconds}s"), extra={"fields": fields})
        return run


def run_recorded(settings: Settings, job: str, work: Callable[[], T], summary: Callable[[T], Any] = summary_of) -> T:
    """Run ``work`` now as a run of ``job``, recorded in the settings' state store as the daemon records its
    scheduled runs, so `status` tells the same story whoever ran it (the daemon, `sync`, the demo). The caller
    shows the result itself, so only a failure is logged above DEBUG."""
    recorder = JobRecorder(open_state(settings.resolved_state_url), settings.secrets(), quiet=True)
    run_id = recorder.start(job)
    try:
        result = work()
    except BaseException as exc:
        recorder.finish(run_id, job, ERROR, error=exc)
        raise
    recorder.finish(run_id, job, OK, summary(result))
    return result


def _row(row: Any) -> JobRun:
    try:
        summary = json.loads(row.summary) if row.summary else {}
    except ValueError:
        summary = {"result": row.summary}
    return JobRun(row.id, row.job, row.started_at, row.finished_at, row.outcome or RUNNING, summary, row.error)


def last_runs(engine: Engine) -> dict[str, JobRun]:
    """The latest run of each job."""
    latest = select(job_runs.c.job, func.max(job_runs.c.id).label("id")).group_by(job_runs.c.job).subquery()
    with engine.connect() as conn:
        rows = conn.execute(select(job_runs).join(latest, job_runs.c.id == latest.c.id)).all()
    return {row.job: _row(row) for row in rows}


def recent_runs(engine: Engine, limit: int = 10, outcome: str | None = None) -> list[JobRun]:
    """Newest first; ``outcome="error"`` gives the recent errors."""
    query = select(job_runs).order_by(desc(job_runs.c.id)).limit(limit)
    if outcome:
        query = query.where(job_runs.c.outcome == outcome)
    with engine.connect() as conn:
        return [_row(row) for row in conn.execute(query).all()]

"""The daemon: APScheduler 3.11 runs the jobs of ``notion_feedback.jobs`` while this process holds the lease.

1. Check every job's textual reference resolves, so a renamed function fails at start, loudly, instead of being
   dropped from the persistent job store the first time it is due.
2. Wait for the lease (``notion_feedback.daemon.lease``); several daemons may start, one leads, the others poll.
3. Leading: start a scheduler on the state store's job store (coalesce, one instance per job, a misfire grace time,
   the configured time zone), register the jobs under fixed ids and renew the lease every third of its life.
   A renewal refused means another daemon took over: the scheduler stops at once and we go back to waiting. A
   renewal that fails because the state store does not answer is retried while the lease still holds; only when
   the outage outlasts it does the scheduler stop (the log says which of the two happened).
4. SIGTERM/SIGINT: no new runs start, the running one finishes (its state is saved by the job itself), the lease
   is released so a standby takes over without waiting for expiry.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED
from apscheduler.executors.base import run_job
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from apscheduler.util import ref_to_obj
from sqlalchemy.exc import SQLAlchemyError

from notion_feedback.config import Settings
from notion_feedback.daemon.job_refs import migrate_job_refs
from notion_feedback.daemon.jobruns import (
    ERROR,
    LEARN_JOB,
    MISSED,
    OK,
    REPORT_JOBS,
    SYNC_JOB,
    VERIFY_JOB,
    JobRecorder,
)
from notion_feedback.daemon.lease import FENCE_MARGIN_SECONDS, Lease, LeaseFence
from notion_feedback.errors import DaemonError
from notion_feedback.fencing import Fence, fenced
from notion_feedback.state import open_state

log = logging.getLogger("notion_feedback.daemon.scheduler")

JOBSTORE_TABLE = "apscheduler_jobs"
# APScheduler logs a job's exception with its traceback (which may quote a secret); our JobRecorder writes the
# masked, structured line instead, so the executor's own logger stays quiet.
_EXECUTOR_LOGGER = "notion_feedback.daemon.scheduler.executor"
logging.getLogger(_EXECUTOR_LOGGER).setLevel(logging.CRITICAL)


def _tz(settings: Settings) -> ZoneInfo:
    return ZoneInfo(settings.timezone)


def _report_hm(settings: Settings) -> tuple[int, int]:
    hours, minutes = settings.report_time.split(":")
    return int(hours), int(minutes)


def every_sync(settings: Settings) -> BaseTrigger:
    return IntervalTrigger(seconds=settings.sync_interval_minutes * 60, timezone=_tz(settings))


def every_verify(settings: Settings) -> BaseTrigger:
    return IntervalTrigger(seconds=settings.verify_every_hours * 3600, timezone=_tz(settings))


def every_learn(settings: Settings) -> BaseTrigger:
    return IntervalTrigger(seconds=settings.learn_every_minutes * 60, timezone=_tz(settings))


def daily_at_report_time(settings: Settings) -> BaseTrigger:
    hour, minute = _report_hm(settings)
    return CronTrigger(hour=hour, minute=minute, timezone=_tz(settings))


def weekly_on_monday(settings: Settings) -> BaseTrigger:
    hour, minute = _report_hm(settings)
    return CronTrigger(day_of_week="mon", hour=hour, minute=minute, timezone=_tz(settings))


def monthly_on_the_first(settings: Settings) -> BaseTrigger:
    hour, minute = _report_hm(settings)
    return CronTrigger(day=1, hour=hour, minute=minute, timezone=_tz(settings))


@dataclass(frozen=True)
class JobSpec:
    """One scheduled job: a fixed id, a textual reference ``module:function``, and when it runs."""

    id: str
    ref: str
    trigger: Callable[[Settings], BaseTrigger]
    quick_seconds: float
    """Its interval on the quick schedule (the demo's): minutes become seconds."""


# The job table: the one place that says what the daemon runs.
JOBS: tuple[JobSpec, ...] = (
    JobSpec(SYNC_JOB, "notion_feedback.jobs.sync_ratings:run", every_sync, 20),
    JobSpec(VERIFY_JOB, "notion_feedback.jobs.verify_ratings:run", every_verify, 90),
    JobSpec("drain_spool", "notion_feedback.jobs.drain_spool:run", every_sync, 20),
    JobSpec(LEARN_JOB, "notion_feedback.jobs.learn:run", every_learn, 60),
    JobSpec(REPORT_JOBS["day"], "notion_feedback.jobs.daily_report:run", daily_at_report_time, 120),
    JobSpec(REPORT_JOBS["week"], "notion_feedback.jobs.rollups:weekly", weekly_on_monday, 300),
    JobSpec(REPORT_JOBS["month"], "notion_feedback.jobs.rollups:monthly", monthly_on_the_first, 600),
)


def trigger_for(spec: JobSpec, settings: Settings, quick: bool = False) -> BaseTrigger:
    if quick:
        return IntervalTrigger(seconds=spec.quick_seconds, timezone=_tz(settings))
    return spec.trigger(settings)


def check_job_refs(jobs: Sequence[JobSpec]) -> None:
    """Resolve every reference now; a missing module or a renamed function stops the daemon with the fix."""
    broken = []
    for spec in jobs:
        try:
            target = ref_to_obj(spec.ref)
        except LookupError as exc:
            cause = exc.__cause__
            broken.append(f"{spec.id} -> {spec.ref}: {cause or exc}")
            continue
        if not callable(target):
            broken.append(f"{spec.id} -> {spec.ref}: not callable")
    if broken:
        raise DaemonError(
            "scheduled jobs do not resolve:\n  " + "\n  ".join(broken),
            "a job function was renamed or its module fails to import: fix the reference in "
            "notion_feedback/daemon/scheduler.py JOBS (or the module), then start the daemon again",
        )


class RecordingExecutor(ThreadPoolExecutor):
    """A thread pool that writes a ``job_runs`` row and one structured log line around every run."""

    def __init__(self, recorder: JobRecorder, max_workers: int = 4, fence: Fence | None = None) -> None:
        super().__init__(max_workers)
        self.recorder = recorder
        self.fence = fence

    def _do_submit_job(self, job: Any, run_times: list[Any]) -> None:
        def callback(future: Any) -> None:
            exc = future.exception()
            if exc:
                self._run_job_error(job.id, exc, exc.__traceback__)
            else:
                self._run_job_success(job.id, future.result())

        self._pool.submit(self._run, job, run_times).add_done_callback(callback)

    def _run(self, job: Any, run_times: list[Any]) -> list[Any]:
        run_id = self.recorder.start(job.id)
        events: list[Any] = []
        try:
            with fenced(self.fence):  # the job checks the lease before each batch of writes
                events = run_job(job, job._jobstore_alias, run_times, _EXECUTOR_LOGGER)
        finally:
            errors = [e for e in events if e.code == EVENT_JOB_ERROR]
            executed = [e for e in events if e.code == EVENT_JOB_EXECUTED]
            if errors:
                self.recorder.finish(run_id, job.id, ERROR, error=errors[-1].exception)
            elif executed:
                self.recorder.finish(run_id, job.id, OK, executed[-1].retval)
            elif events and all(e.code == EVENT_JOB_MISSED for e in events):
                late = events[-1].scheduled_run_time
                self.recorder.finish(run_id, job.id, MISSED, {"scheduled_for": late.isoformat()})
            else:
                self.recorder.finish(run_id, job.id, ERROR, error="the run was interrupted")
        return events


def build_scheduler(settings: Settings, recorder: JobRecorder, fence: Fence | None = None) -> BackgroundScheduler:
    """The scheduler with the daemon's defaults (APScheduler's own are wrong for a daemon: 1 s grace, local zone)."""
    engine = open_state(settings.resolved_state_url)
    migrate_job_refs(engine, JOBSTORE_TABLE)  # a store written before the jobs moved into the package
    return BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOBSTORE_TABLE)},
        executors={"default": RecordingExecutor(recorder, fence=fence)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": settings.misfire_grace_seconds},
        timezone=_tz(settings),
    )


def _trigger_key(trigger: BaseTrigger) -> str:
    return f"{trigger}@{getattr(trigger, 'timezone', '')}"


def register_jobs(
    scheduler: BackgroundScheduler, settings: Settings, jobs: Sequence[JobSpec], quick: bool = False
) -> None:
    """Put the job table into the (started, paused) scheduler's persistent store.

    A stored job with the same reference and schedule is kept, so a run that fell due while no daemon was up
    still fires on start (within the misfire grace time); anything else is replaced; strays are removed.
    """
    wanted = {spec.id for spec in jobs}
    for job in scheduler.get_jobs():
        if job.id not in wanted:
            log.info("removing job %s from the job store (no longer in the job table)", job.id)
            job.remove()
    for spec in jobs:
        trigger = trigger_for(spec, settings, quick)
        existing = scheduler.get_job(spec.id)
        if (
            existing is not None
            and existing.func_ref == spec.ref
            and not isinstance(trigger, IntervalTrigger)
            and _trigger_key(existing.trigger) == _trigger_key(trigger)
        ):
            continue
        scheduler.add_job(spec.ref, trigger=trigger, id=spec.id, name=spec.id, replace_existing=True)


class Daemon:
    """Lease-guarded scheduler. ``run()`` blocks until ``stop()`` (or SIGTERM/SIGINT in the main thread)."""

    def __init__(
        self,
        settings: Settings,
        *,
        jobs: Sequence[JobSpec] = JOBS,
        quick: bool = False,
        holder: str | None = None,
    ) -> None:
        self.settings = settings
        self.jobs = tuple(jobs)
        self.quick = quick
        self.engine = open_state(settings.resolved_state_url)
        self.lease = Lease(self.engine, settings.lease_seconds, holder=holder)
        self.recorder = JobRecorder(self.engine, settings.secrets())
        self.renew_every = settings.lease_seconds / 3
        self.scheduler: BackgroundScheduler | None = None
        self.leading = threading.Event()
        self._stop = threading.Event()

    def stop(self) -> None:
        """Ask the daemon to stop after the current step (safe from a signal handler)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self) -> None:
        check_job_refs(self.jobs)
        previous = self._install_signal_handlers()
        try:
            waiting = ""  # what the last log line said we wait for, so it is said once
            while not self._stop.is_set():
                got = self._try(self.lease.acquire)
                if got:
                    waiting = ""
                    self._lead()
                    continue
                why = "the state store is unreachable" if got is None else "another daemon holds the lease"
                if why != waiting:
                    log.info("%s; standing by (checking every %.0f s)", why, self.renew_every)
                    waiting = why
                self._stop.wait(self.renew_every)
        finally:
            self._restore_signal_handlers(previous)
            self._try(self.lease.release)
            log.info("daemon stopped")

    def _try(self, step: Callable[[], Any]) -> Any:
        """A lease step; a state store hiccup (answered None) counts as "not held", the safe answer, and is logged."""
        try:
            return step()
        except SQLAlchemyError as exc:
            log.warning("state store error during %s: %s", getattr(step, "__name__", "lease"), exc.__class__.__name__)
            return None

    def _lead(self) -> None:
        log.info("lease acquired by %s; starting the scheduler", self.lease.holder)
        scheduler = build_scheduler(self.settings, self.recorder, LeaseFence(self.engine, self.lease.holder))
        scheduler.start(paused=True)
        try:
            register_jobs(scheduler, self.settings, self.jobs, self.quick)
        except BaseException:
            scheduler.shutdown(wait=False)
            raise
        self.scheduler = scheduler
        scheduler.resume()
        self.leading.set()
        try:
            lost = self._keep_renewing()
            if lost:
                log.error("lost the lease (%s); stopping the scheduler now", lost)
                scheduler.shutdown(wait=False)  # a running job stops at its next write (fencing)
                return
            self._shutdown_keeping_lease(scheduler)
        finally:
            self.leading.clear()
            self.scheduler = None

    def _keep_renewing(self) -> str:
        """Renew until asked to stop (""), or until the lease is lost: the reason, for the log.

        A store outage shorter than the lease's remaining life changes nothing: jobs cannot write meanwhile (their
        fence check needs the store too), and leading resumes when it answers again.
        """
        held_until = time.monotonic() + self.settings.lease_seconds - FENCE_MARGIN_SECONDS
        outage_since: float | None = None
        while not self._stop.wait(self.renew_every):
            asked = time.monotonic()
            renewed = self._try(self.lease.renew)
            if renewed:
                held_until = asked + self.settings.lease_seconds - FENCE_MARGIN_SECONDS
                if outage_since is not None:
                    log.info("the state store answers again after %.0f s; still leading", asked - outage_since)
                    outage_since = None
                continue
            if renewed is not None:
                return "another daemon took over"
            if outage_since is None:
                outage_since = asked
                log.warning("the state store is unreachable; the lease holds for %.0f s more", held_until - asked)
            if asked >= held_until - self.renew_every:
                return f"the state store was unreachable for {asked - outage_since:.0f} s"
        return ""

    def _shutdown_keeping_lease(self, scheduler: BackgroundScheduler) -> None:
        """Let the running job finish, renewing meanwhile so no standby starts a second copy of it."""
        log.info("stopping after the current step")
        stopper = threading.Thread(target=scheduler.shutdown, kwargs={"wait": True}, name="scheduler-shutdown")
        stopper.start()
        while stopper.is_alive():
            stopper.join(self.renew_every)
            if stopper.is_alive():
                self._try(self.lease.renew)

    def _install_signal_handlers(self) -> dict[int, Any]:
        if threading.current_thread() is not threading.main_thread():
            return {}
        previous = {}
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, lambda *_: self.stop())
        return previous

    @staticmethod
    def _restore_signal_handlers(previous: dict[int, Any]) -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_daemon(settings: Settings, *, quick: bool = False, jobs: Sequence[JobSpec] = JOBS) -> None:
    """Run until SIGTERM/SIGINT (the `notion-feedback run` command)."""
    started = time.monotonic()
    daemon = Daemon(settings, jobs=jobs, quick=quick)
    log.info(
        "daemon %s: %s jobs, time zone %s%s",
        daemon.lease.holder,
        len(daemon.jobs),
        settings.timezone,
        " (quick schedule)" if quick else "",
    )
    daemon.run()
    log.info("ran for %.0f s", time.monotonic() - started)

"""The daemon: jobs by textual reference with the right defaults, one leader, takeover, loud failures, SIGTERM."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import update
from state_backend import backend, fresh_state_url

from notion_feedback.config import Settings
from notion_feedback.daemon.jobruns import JobRecorder, last_runs, recent_runs
from notion_feedback.daemon.lease import current_holder
from notion_feedback.daemon.scheduler import (
    JOBS,
    Daemon,
    DaemonError,
    JobSpec,
    build_scheduler,
    check_job_refs,
    register_jobs,
)
from notion_feedback.state import leases, open_state

JOB_MODULE = """
import os, time
from pathlib import Path

def _mark(text):
    with open(os.environ["NF_TEST_MARKS"], "a") as fh:
        fh.write(text + "\\n")

def tick():
    _mark("tick")
    return {"rows": 3, "ok": True}

def slow():
    _mark("slow-start")
    time.sleep(float(os.environ.get("NF_TEST_SLOW", "2")))
    _mark("slow-end")
    return {"rows": 7}

def boom():
    raise RuntimeError("upstream refused token ntn_" + "x" * 30 + " and " + os.environ.get("NF_TEST_SECRET", ""))
"""


@pytest.fixture()
def job_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An importable module of test jobs (``nf_test_jobs``) and the file its jobs mark."""
    (tmp_path / "nf_test_jobs.py").write_text(JOB_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    marks = tmp_path / "marks.txt"
    marks.touch()
    monkeypatch.setenv("NF_TEST_MARKS", str(marks))
    return marks


_STORES: dict[Path, str] = {}


def _store(tmp_path: Path) -> str:
    """This test's state store (the same one however often it is asked for)."""
    if tmp_path not in _STORES:
        default = f"sqlite:///{tmp_path / 'home' / 'state.sqlite3'}"
        _STORES[tmp_path] = fresh_state_url(tmp_path) if backend() == "postgresql" else default
    return _STORES[tmp_path]


def _settings(tmp_path: Path, **extra: object) -> Settings:
    extra = {"timezone": "Europe/Paris", "lease_seconds": 5} | extra
    return Settings(_env_file=None, home=tmp_path / "home", state_url=_store(tmp_path), **extra)


def _every(seconds: float):
    return lambda s: IntervalTrigger(seconds=seconds)


def _wait(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_job_table_uses_textual_refs_with_fixed_ids() -> None:
    assert [spec.id for spec in JOBS] == [
        "sync_ratings",
        "verify_ratings",
        "drain_spool",
        "learn",
        "daily_report",
        "weekly_rollup",
        "monthly_rollup",
    ]
    assert [spec.ref for spec in JOBS] == [
        "notion_feedback.jobs.sync_ratings:run",
        "notion_feedback.jobs.verify_ratings:run",
        "notion_feedback.jobs.drain_spool:run",
        "notion_feedback.jobs.learn:run",
        "notion_feedback.jobs.daily_report:run",
        "notion_feedback.jobs.rollups:weekly",
        "notion_feedback.jobs.rollups:monthly",
    ]


def test_the_shipped_jobs_resolve() -> None:
    check_job_refs(JOBS)


def _stand_ins() -> list[JobSpec]:
    """The job table with each function swapped for a test job: the wiring is tested, not the jobs' work."""
    return [dataclasses.replace(spec, ref="nf_test_jobs:tick") for spec in JOBS]


def test_scheduler_defaults_and_registered_jobs(tmp_path: Path, job_module: Path) -> None:
    jobs_ = _stand_ins()
    settings = _settings(tmp_path, misfire_grace_seconds=900, report_time="06:30", sync_interval_minutes=3)
    scheduler = build_scheduler(settings, JobRecorder(open_state(settings.resolved_state_url)))
    scheduler.start(paused=True)
    try:
        register_jobs(scheduler, settings, jobs_)
        assert str(scheduler.timezone) == "Europe/Paris"
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert set(jobs) == {spec.id for spec in JOBS}
        for spec in jobs_:
            job = jobs[spec.id]
            assert job.func_ref == spec.ref, "jobs are stored by textual reference"
            assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, 900)
        assert jobs["sync_ratings"].trigger.interval.total_seconds() == 180
        daily = jobs["daily_report"].trigger
        assert isinstance(daily, CronTrigger) and str(daily.timezone) == "Europe/Paris"
        assert "hour='6'" in str(daily) and "minute='30'" in str(daily)
        assert "day_of_week='mon'" in str(jobs["weekly_rollup"].trigger)
        assert "day='1'" in str(jobs["monthly_rollup"].trigger)
        quick = {spec.id: spec for spec in JOBS}
        register_jobs(scheduler, settings, jobs_, quick=True)
        assert scheduler.get_job("sync_ratings").trigger.interval.total_seconds() == quick["sync_ratings"].quick_seconds
    finally:
        scheduler.shutdown(wait=False)


def test_a_stored_cron_job_keeps_its_due_time_across_restarts(tmp_path: Path, job_module: Path) -> None:
    """Replacing a cron job on every start would silently skip a report that fell due while no daemon ran."""
    settings = _settings(tmp_path)
    recorder = JobRecorder(open_state(settings.resolved_state_url))
    first = build_scheduler(settings, recorder)
    first.start(paused=True)
    register_jobs(first, settings, _stand_ins())
    due = first.get_job("daily_report").next_run_time
    first.shutdown(wait=False)
    second = build_scheduler(settings, recorder)
    second.start(paused=True)
    try:
        register_jobs(second, settings, _stand_ins())
        assert second.get_job("daily_report").next_run_time == due
        changed = _settings(tmp_path, report_time="09:15")
        register_jobs(second, changed, _stand_ins())
        assert "hour='9'" in str(second.get_job("daily_report").trigger), "a changed schedule replaces the job"
    finally:
        second.shutdown(wait=False)


def test_a_renamed_job_function_fails_loudly_at_start(tmp_path: Path, job_module: Path) -> None:
    check_job_refs([JobSpec("tick", "nf_test_jobs:tick", _every(1), 1)])
    specs = [JobSpec("tick", "nf_test_jobs:tick", _every(1), 1), JobSpec("gone", "nf_test_jobs:renamed", _every(1), 1)]
    daemon = Daemon(_settings(tmp_path), jobs=specs)
    with pytest.raises(DaemonError) as err:
        daemon.run()
    assert "nf_test_jobs:renamed" in err.value.message and "gone" in err.value.message
    assert "JOBS" in err.value.fix
    with pytest.raises(DaemonError, match="no_such_module"):
        check_job_refs([JobSpec("x", "no_such_module:run", _every(1), 1)])
    assert current_holder(open_state(_settings(tmp_path).resolved_state_url)) is None, "no lease taken"


def test_runs_are_recorded_with_one_masked_log_line_each(
    tmp_path: Path, job_module: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("NF_TEST_SECRET", "sandbox-secret-value-123")
    settings = _settings(tmp_path, notion_token="sandbox-secret-value-123")
    specs = [
        JobSpec("tick", "nf_test_jobs:tick", _every(0.3), 0.3),
        JobSpec("boom", "nf_test_jobs:boom", _every(0.3), 1),
    ]
    daemon = Daemon(settings, jobs=specs)
    caplog.set_level(logging.INFO, logger="notion_feedback.jobs")
    thread = threading.Thread(target=daemon.run)
    thread.start()
    try:
        engine = open_state(settings.resolved_state_url)
        assert _wait(lambda: {"tick", "boom"} <= set(last_runs(engine)))
    finally:
        daemon.stop()
        thread.join(15)
    assert not thread.is_alive()
    runs = last_runs(engine)
    assert runs["tick"].outcome == "ok" and runs["tick"].summary == {"rows": 3, "ok": True}
    assert runs["tick"].duration_seconds is not None
    assert runs["boom"].outcome == "error" and "RuntimeError: upstream refused" in runs["boom"].error
    errors = recent_runs(engine, outcome="error")
    assert errors and all("sandbox-secret-value-123" not in (r.error or "") for r in errors)
    assert all("ntn_xxxx" not in (r.error or "") for r in errors)
    lines = [r for r in caplog.records if r.name == "notion_feedback.jobs"]
    tick_lines = [r for r in lines if r.fields["job"] == "tick"]
    assert tick_lines and tick_lines[0].fields["outcome"] == "ok" and tick_lines[0].fields["rows"] == 3
    boom_lines = [r for r in lines if r.fields["job"] == "boom"]
    assert boom_lines and boom_lines[0].levelname == "ERROR"
    assert "sandbox-secret-value-123" not in caplog.text and "ntn_xxxx" not in caplog.text
    assert current_holder(engine) is None, "the lease is released on stop"


def test_one_daemon_leads_and_a_standby_takes_over(tmp_path: Path, job_module: Path) -> None:
    settings = _settings(tmp_path)
    specs = [JobSpec("tick", "nf_test_jobs:tick", _every(0.5), 0.5)]
    a = Daemon(settings, jobs=specs, holder="a")
    b = Daemon(settings, jobs=specs, holder="b")
    ta = threading.Thread(target=a.run)
    ta.start()
    assert _wait(a.leading.is_set)
    tb = threading.Thread(target=b.run)
    tb.start()
    try:
        time.sleep(2.5)  # more than one standby poll (lease 5 s / 3)
        assert a.leading.is_set() and not b.leading.is_set()
        a.stop()
        ta.join(15)
        assert _wait(b.leading.is_set, 5), "the standby takes over once the holder releases"
        assert current_holder(open_state(settings.resolved_state_url)).holder == "b"
    finally:
        a.stop()
        b.stop()
        ta.join(15)
        tb.join(15)


def test_a_lost_lease_stops_the_scheduler_at_once(tmp_path: Path, job_module: Path) -> None:
    settings = _settings(tmp_path)
    daemon = Daemon(settings, jobs=[JobSpec("tick", "nf_test_jobs:tick", _every(0.2), 0.2)], holder="a")
    thread = threading.Thread(target=daemon.run)
    thread.start()
    try:
        assert _wait(daemon.leading.is_set)
        scheduler = daemon.scheduler
        engine = open_state(settings.resolved_state_url)
        with engine.begin() as conn:  # another daemon took over while we stalled
            conn.execute(update(leases).values(holder="intruder"))
        assert _wait(lambda: not daemon.leading.is_set(), 5)
        assert not scheduler.running
        marks_before = job_module.read_text().count("tick")
        time.sleep(0.8)
        assert job_module.read_text().count("tick") == marks_before, "no job runs after the lease is lost"
        assert current_holder(engine).holder == "intruder"
    finally:
        daemon.stop()
        thread.join(15)
    assert current_holder(engine).holder == "intruder", "stopping does not release someone else's lease"


DAEMON_SCRIPT = textwrap.dedent(
    """
    import logging, sys
    from apscheduler.triggers.interval import IntervalTrigger
    from notion_feedback.config import load_settings
    from notion_feedback.daemon.scheduler import JobSpec, run_daemon
    from notion_feedback.logs import setup_logging
    setup_logging("INFO", "json")
    run_daemon(load_settings(), jobs=[JobSpec("slow", "nf_test_jobs:slow", lambda s: IntervalTrigger(seconds=0.5), 1)])
    """
)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_after_the_current_step(tmp_path: Path, job_module: Path, sig: int) -> None:
    env = os.environ | {
        "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        "NOTION_FEEDBACK_HOME": str(tmp_path / "home"),
        "NOTION_FEEDBACK_STATE_URL": _store(tmp_path),
        "NOTION_FEEDBACK_LEASE_SECONDS": "6",
        "NF_TEST_SLOW": "1.5",
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", DAEMON_SCRIPT], cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        assert _wait(lambda: "slow-start" in job_module.read_text(), 20), "the job never started"
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    marks = job_module.read_text().split()
    assert marks[-1] == "slow-end", "the running step finished before exit"
    assert marks.count("slow-start") == marks.count("slow-end") == 1, "no new run started after the signal"
    engine = open_state(_store(tmp_path))
    run = last_runs(engine)["slow"]
    assert run.outcome == "ok" and run.summary == {"rows": 7}
    assert current_holder(engine) is None
    job_lines = [json.loads(line) for line in stderr.splitlines() if '"notion_feedback.jobs"' in line]
    assert job_lines and job_lines[-1]["job"] == "slow" and job_lines[-1]["outcome"] == "ok"
    assert job_lines[-1]["rows"] == 7 and job_lines[-1]["duration_s"] >= 1.4


def test_run_command_says_what_to_set_before_starting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from notion_feedback.cli.app import app

    monkeypatch.chdir(tmp_path)
    for name in ("NOTION_TOKEN", "LANGSMITH_API_KEY", "NOTION_FEEDBACK_FEEDBACK_DATA_SOURCE_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NOTION_FEEDBACK_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("NOTION_FEEDBACK_STATE_URL", _store(tmp_path))
    result = CliRunner().invoke(app, ["run"])
    assert result.exit_code == 2
    assert "missing settings" in result.output and "NOTION_TOKEN" in result.output
    assert current_holder(open_state(_store(tmp_path))) is None


def test_a_state_store_outage_is_named_as_such_and_leading_resumes(
    tmp_path: Path, job_module: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An outage shorter than the lease keeps the leader; a longer one stops it, and the log blames the store."""
    from sqlalchemy.exc import OperationalError

    from notion_feedback.daemon.lease import Lease

    caplog.set_level(logging.INFO, logger="notion_feedback")
    settings = _settings(tmp_path, lease_seconds=9)  # renewals every 3 s
    daemon = Daemon(settings, jobs=[JobSpec("tick", "nf_test_jobs:tick", _every(0.5), 0.5)], holder="a")
    down = threading.Event()
    real_renew, real_acquire = Lease.renew, Lease.acquire

    def when_up(real):
        def call(self):
            if down.is_set():
                raise OperationalError("renew", {}, Exception("connection refused"))
            return real(self)

        return call

    monkeypatch.setattr(Lease, "renew", when_up(real_renew))
    monkeypatch.setattr(Lease, "acquire", when_up(real_acquire))
    thread = threading.Thread(target=daemon.run)
    thread.start()
    try:
        assert _wait(daemon.leading.is_set)
        down.set()
        time.sleep(4)  # one failed renewal: the lease still holds
        assert daemon.leading.is_set(), "a short outage does not cost the lease"
        down.clear()
        assert _wait(lambda: "answers again" in caplog.text, 5)
        down.set()  # now longer than the lease
        assert _wait(lambda: not daemon.leading.is_set(), 12), "the leader stops before its lease runs out"
        assert "lost the lease (the state store was unreachable" in caplog.text
        assert "another daemon took over" not in caplog.text
        down.clear()
        assert _wait(daemon.leading.is_set, 10), "it leads again once the store answers"
    finally:
        daemon.stop()
        thread.join(15)


def _store_old_refs(settings: Settings, specs: list[JobSpec]) -> dict[str, object]:
    """A job store as the previous version left it (references ``jobs.x:run``); returns each job's due time."""
    import pickle

    from sqlalchemy import MetaData, Table, select

    from notion_feedback.daemon.scheduler import JOBSTORE_TABLE

    scheduler = build_scheduler(settings, JobRecorder(open_state(settings.resolved_state_url)))
    scheduler.start(paused=True)
    register_jobs(scheduler, settings, specs)
    due = {job.id: job.next_run_time for job in scheduler.get_jobs()}
    scheduler.shutdown(wait=False)
    engine = open_state(settings.resolved_state_url)
    table = Table(JOBSTORE_TABLE, MetaData(), autoload_with=engine)
    with engine.begin() as conn:
        for job_id, blob in conn.execute(select(table.c.id, table.c.job_state)).all():
            state = pickle.loads(blob)
            state["func"] = state["func"].removeprefix("notion_feedback.")
            conn.execute(update(table).where(table.c.id == job_id).values(job_state=pickle.dumps(state)))
        olds = [pickle.loads(b)["func"] for (b,) in conn.execute(select(table.c.job_state))]
    assert olds and all(ref.startswith("jobs.") for ref in olds)
    return due


def test_a_job_store_of_the_previous_version_keeps_its_jobs_and_due_times(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    due = _store_old_refs(settings, list(JOBS))
    scheduler = build_scheduler(settings, JobRecorder(open_state(settings.resolved_state_url)))
    scheduler.start(paused=True)
    try:
        loaded = {job.id: job for job in scheduler.get_jobs()}
        assert {job_id: job.func_ref for job_id, job in loaded.items()} == {spec.id: spec.ref for spec in JOBS}
        register_jobs(scheduler, settings, JOBS)
        jobs = scheduler.get_jobs()
        assert sorted(job.id for job in jobs) == sorted(spec.id for spec in JOBS), "nothing lost or duplicated"
        assert scheduler.get_job("daily_report").next_run_time == due["daily_report"], "the due report still fires"
        assert scheduler.get_job("monthly_rollup").next_run_time == due["monthly_rollup"]
    finally:
        scheduler.shutdown(wait=False)


def test_an_upgraded_job_runs_under_its_new_reference(
    tmp_path: Path, job_module: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib
    import types

    probe = types.ModuleType("notion_feedback.jobs.nf_probe")
    probe.tick = importlib.import_module("nf_test_jobs").tick  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "notion_feedback.jobs.nf_probe", probe)
    specs = [JobSpec("probe", "notion_feedback.jobs.nf_probe:tick", _every(0.3), 0.3)]
    settings = _settings(tmp_path)
    _store_old_refs(settings, specs)
    daemon = Daemon(settings, jobs=specs)
    thread = threading.Thread(target=daemon.run)
    thread.start()
    try:
        assert _wait(lambda: "tick" in job_module.read_text()), "the stored job ran"
    finally:
        daemon.stop()
        thread.join(10)
    runs = recent_runs(open_state(settings.resolved_state_url), 10)
    assert runs and {r.job for r in runs} == {"probe"} and runs[-1].outcome == "ok"

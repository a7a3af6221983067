"""`notion-feedback status`: last and next runs, the lease, the sync lag and recent errors, from the state store."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from notion_feedback.cli.app import app
from notion_feedback.config import Settings
from notion_feedback.daemon.jobruns import ERROR, OK, JobRecorder
from notion_feedback.daemon.lease import Lease
from notion_feedback.daemon.scheduler import JOBS, build_scheduler, register_jobs
from notion_feedback.daemon.status import ago, collect_status
from notion_feedback.state import open_state, synced_ratings, utcnow
from notion_feedback.sync.store import set_cursor

DS = "0123456789abcdef0123456789abcdef"


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "NOTION_FEEDBACK_HOME": str(tmp_path / "home"),
        "NOTION_FEEDBACK_FEEDBACK_DATA_SOURCE_ID": DS,
        "NOTION_TOKEN": "ntn_" + "statustestsecret0123456789abcdef",
    }.items():
        monkeypatch.setenv(name, value)
    return Settings(_env_file=None)


def _populate(settings: Settings, job_module: str = "time:time") -> None:
    engine = open_state(settings.resolved_state_url)
    recorder = JobRecorder(engine, settings.secrets())
    run = recorder.start("sync_ratings")
    recorder.finish(run, "sync_ratings", OK, {"read": 12, "sent": 3, "errors": 1})
    run = recorder.start("daily_report")
    recorder.finish(
        run, "daily_report", ERROR, error=RuntimeError("Notion said 503 for token " + settings.secrets()[0])
    )
    scheduler = build_scheduler(settings, recorder)
    scheduler.start(paused=True)
    register_jobs(scheduler, settings, [dataclasses.replace(spec, ref=job_module) for spec in JOBS])
    scheduler.shutdown(wait=False)
    Lease(engine, 60, holder="host-a:123:abc").acquire()
    set_cursor(
        engine,
        settings.feedback_data_source_id,
        settings.rating_key,
        (utcnow() - timedelta(minutes=7)).strftime("%Y-%m-%dT%H:%M:00.000Z"),
    )
    with engine.begin() as conn:
        for i, status in enumerate(["error", "error", "synced"]):
            conn.execute(
                synced_ratings.insert().values(
                    page_id=f"p{i}",
                    feedback_key=settings.rating_key,
                    feedback_id=f"f{i}",
                    status=status,
                    updated_at=utcnow(),
                )
            )


def test_status_collects_runs_next_runs_lease_lag_and_errors(env: Settings) -> None:
    _populate(env)
    status = collect_status(env)
    jobs = {j.id: j for j in status.jobs}
    assert list(jobs)[: len(JOBS)] == [spec.id for spec in JOBS]
    assert jobs["sync_ratings"].last.outcome == "ok" and jobs["sync_ratings"].last.summary["sent"] == 3
    assert jobs["daily_report"].last.outcome == "error"
    assert jobs["weekly_rollup"].last is None and jobs["weekly_rollup"].next_run is not None
    assert jobs["sync_ratings"].next_run > status.now
    assert status.daemon_active and status.lease.holder == "host-a:123:abc"
    assert 7 * 60 <= status.sync_lag_seconds < 8 * 60 + 5
    assert status.rows_in_error == 2
    assert [r.job for r in status.recent_errors] == ["daily_report"]
    assert "ntn_statustestsecret" not in status.recent_errors[0].error


def test_status_json(env: Settings) -> None:
    _populate(env)
    result = CliRunner().invoke(app, ["status", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["daemon_active"] is True and doc["lease"]["holder"] == "host-a:123:abc"
    by_id = {j["id"]: j for j in doc["jobs"]}
    assert by_id["sync_ratings"]["last_run"]["summary"] == {"read": 12, "sent": 3, "errors": 1}
    assert by_id["monthly_rollup"]["next_run"] and by_id["monthly_rollup"]["scheduled"]
    assert doc["sync"]["rows_in_error"] == 2 and doc["sync"]["lag_seconds"] >= 420
    assert doc["recent_errors"][0]["job"] == "daily_report" and "503" in doc["recent_errors"][0]["error"]
    assert "ntn_statustestsecret" not in result.output


def test_status_table(env: Settings) -> None:
    _populate(env)
    result = CliRunner().invoke(app, ["status"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    out = result.stdout
    for text in ("sync_ratings", "daily_report", "weekly_rollup", "monthly_rollup", "read=12", "sent=3"):
        assert text in out
    assert "active" in out and "host-a:123:abc" in out
    assert "rows in error: 2" in out and "Recent errors" in out and "RuntimeError: Notion said 503" in out
    assert "ntn_statustestsecret" not in result.output


def test_status_without_any_daemon_ever(env: Settings) -> None:
    result = CliRunner().invoke(app, ["status"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "never run" in result.stdout and "none running" in result.stdout and "not scheduled" in result.stdout
    doc = json.loads(CliRunner().invoke(app, ["status", "--json"]).stdout)
    assert doc["daemon_active"] is False and doc["sync"]["cursor"] is None and doc["recent_errors"] == []


def test_ago() -> None:
    assert ago(5) == "5 s ago" and ago(125) == "2 min ago" and ago(-7200) == "in 2 h" and ago(None) == "—"

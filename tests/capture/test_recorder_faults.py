"""The recorder under faults on the sandbox: outages, 429 storms, writes that took effect unseen, a killed process."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from test_recorder_basic import run_ids

from notion_feedback.capture import Recorder, interaction
from notion_feedback.capture.spool import SPOOL_FILE
from notion_feedback.config import Settings
from notion_feedback.sandbox.control import FaultPlan
from notion_feedback.setup.workspace import init_workspace


@pytest.fixture()
def ws_settings(settings: Settings) -> Settings:
    ids = init_workspace(settings, settings.parent_page_id, langsmith=False)
    return settings.model_copy(
        update={
            "feedback_data_source_id": ids.feedback_data_source_id,
            "recorder_backoff_seconds": 0.05,
            "notion_requests_per_second": 1000,
            "notion_burst": 1000,
            "recorder_requests_per_second": 1000,
        }
    )


def _record(recorder: Recorder, n: int) -> list[str]:
    ids = []
    for i in range(n):
        with interaction("agent", variant="A", model="gpt-4o-mini", enabled=False) as it:
            pass
        recorder.record(it, question=f"question {i}", answer=f"answer {i}")
        ids.append(it.run_id)
    return ids


@pytest.mark.parametrize("mode", ["process", "thread"])
def test_outage_during_1000_records_then_recovery_gives_exactly_1000_rows(ws_settings, sandbox, mode) -> None:
    control = sandbox.notion.control
    # Every request fails; a third of the failed creates took effect anyway (the worst case for duplicates).
    control.faults = FaultPlan.from_json({"status": {"503": 1.0}, "after_effect": 0.3, "seed": 4})
    recorder = Recorder(ws_settings.model_copy(update={"recorder_sender": mode}))
    t0 = time.perf_counter()
    expected = _record(recorder, 1000)
    record_seconds = time.perf_counter() - t0
    time.sleep(1.0)
    assert recorder.pending() > 900  # nothing is lost while Notion is down: it waits in the spool
    control.faults = FaultPlan()
    assert recorder.flush(90), f"{recorder.pending()} rows still pending"
    recorder.close()
    found = run_ids(ws_settings)
    assert len(found) == 1000 and Counter(found).most_common(1)[0][1] == 1
    assert set(found) == set(expected)
    assert record_seconds < 1.0  # 1000 record() calls during the outage did not wait for Notion


def test_429_storm_delays_rows_but_loses_none(ws_settings, sandbox) -> None:
    sandbox.notion.control.faults = FaultPlan.from_json({"storm_seconds": 1.5})
    recorder = Recorder(ws_settings)
    expected = _record(recorder, 100)
    assert recorder.flush(60)
    recorder.close()
    assert sorted(run_ids(ws_settings)) == sorted(expected)
    assert sandbox.notion.control.count("POST /v1/pages", 429) >= 1


def test_refused_row_is_kept_and_the_rest_go_on(ws_settings, sandbox) -> None:
    """A row Notion refuses (schema drift: a property renamed) is parked in the spool; the next start does not resend
    it (the same request would be refused again); once the cause is fixed, a retry writes it."""
    from notion_feedback.notion.client import make_notion_client

    client = make_notion_client(ws_settings)
    client.data_sources.update(ws_settings.feedback_data_source_id, properties={"Variant": {"name": "Arm"}})
    recorder = Recorder(ws_settings)
    _record(recorder, 3)
    deadline = time.monotonic() + 10
    while recorder.spool.counts()["failed"] < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert recorder.spool.counts()["failed"] == 3 and run_ids(ws_settings) == []
    recorder.close(timeout=0.1)
    client.data_sources.update(ws_settings.feedback_data_source_id, properties={"Arm": {"name": "Variant"}})
    recorder = Recorder(ws_settings)  # the next start leaves parked rows parked
    assert recorder.flush(10)
    assert recorder.spool.counts()["failed"] == 3 and run_ids(ws_settings) == []
    assert recorder.spool.retry_failed() == 3  # what `notion-feedback spool --retry` does
    assert recorder.flush(10)
    recorder.close()
    assert len(run_ids(ws_settings)) == 3


_CHILD = textwrap.dedent(
    """
    import sys, time, uuid
    from notion_feedback.capture import Recorder, interaction
    from notion_feedback.config import Settings

    settings = Settings(_env_file=None)
    recorder = Recorder(settings)
    n = int(sys.argv[1])
    for i in range(n):
        with interaction("agent", enabled=False, run_id=uuid.uuid5(uuid.NAMESPACE_URL, f"kill-test/{i}")) as it:
            pass
        recorder.record(it, question=f"q{i}", answer="a")
    while n and recorder.sender_pid is None and recorder.pending():
        time.sleep(0.01)
    print("sender", recorder.sender_pid, flush=True)
    sys.exit(0 if recorder.close(timeout=120) else 1)
    """
)


def _child_env(settings: Settings) -> dict[str, str]:
    env = {
        **os.environ,
        "NOTION_TOKEN": settings.notion_token.get_secret_value(),
        "NOTION_BASE_URL": settings.notion_base_url,
        "NOTION_FEEDBACK_FEEDBACK_DATA_SOURCE_ID": settings.feedback_data_source_id,
        "NOTION_FEEDBACK_HOME": str(settings.home),
        "NOTION_FEEDBACK_NOTION_REQUESTS_PER_SECOND": "1000",
        "NOTION_FEEDBACK_NOTION_BURST": "1000",
        "NOTION_FEEDBACK_RECORDER_REQUESTS_PER_SECOND": "1000",
        "NOTION_FEEDBACK_RECORDER_BACKOFF_SECONDS": "0.05",
        "LANGSMITH_TRACING": "false",
    }
    env.pop("LANGSMITH_API_KEY", None)
    return env


def _wait_for_rows(settings: Settings, at_least: int, alive: subprocess.Popen | None = None, limit: float = 60) -> int:
    deadline = time.monotonic() + limit
    while (found := len(run_ids(settings))) < at_least:
        assert time.monotonic() < deadline, f"{found} rows after {limit} s"
        assert alive is None or alive.poll() is None
        time.sleep(0.05)
    return found


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0] == "Z"


@pytest.mark.parametrize("kill", ["agent", "agent and sender"])
def test_agent_killed_mid_drain_loses_nothing_and_duplicates_nothing(ws_settings, sandbox, tmp_path, kill) -> None:
    """SIGKILL of the agent alone: its orphaned sender finishes the drain. Of both (a crash of the machine, say):
    the next start sends the rest, checking by Run ID the rows whose outcome the crash left unknown."""
    n = 300
    env = _child_env(ws_settings)
    script = tmp_path / "child.py"
    script.write_text(_CHILD)
    # Slow Notion down so the kill lands mid-drain (and sometimes between a create and its acknowledgement).
    sandbox.notion.control.faults = FaultPlan.from_json({"latency_ms": 15})
    child = subprocess.Popen([sys.executable, str(script), str(n)], env=env, cwd=tmp_path, stdout=subprocess.PIPE)
    line = child.stdout.readline().decode().split()  # type: ignore[union-attr]
    assert line[0] == "sender" and line[1].isdigit(), line
    sender_pid = int(line[1])
    _wait_for_rows(ws_settings, 60, alive=child)
    child.send_signal(signal.SIGKILL)
    if kill == "agent and sender":
        os.kill(sender_pid, signal.SIGKILL)
    child.wait(10)
    before = len(run_ids(ws_settings))
    assert 60 <= before < n  # killed mid-drain
    sandbox.notion.control.faults = FaultPlan()
    if kill == "agent":
        _wait_for_rows(ws_settings, n, limit=30)  # nobody restarted: the orphan sends the rest, then exits
        deadline = time.monotonic() + 10
        while not _gone(sender_pid):
            assert time.monotonic() < deadline, "the orphaned sender did not exit once the spool was empty"
            time.sleep(0.05)
    restarted = subprocess.run([sys.executable, str(script), "0"], env=env, cwd=tmp_path, timeout=120)
    assert restarted.returncode == 0
    found = run_ids(ws_settings)
    expected = {str(uuid.uuid5(uuid.NAMESPACE_URL, f"kill-test/{i}")) for i in range(n)}
    assert len(found) == n and set(found) == expected


_BURST_CHILD = textwrap.dedent(
    """
    import sys, time, uuid
    from notion_feedback.capture import Recorder, interaction
    from notion_feedback.config import Settings

    def slow_redaction(text):  # a team's own hook (a CRM lookup, say): the intake writes ~300 rows a second
        time.sleep(0.001)
        return text

    recorder = Recorder(Settings(_env_file=None), redact_hook=slow_redaction)
    n = int(sys.argv[1])
    for i in range(n):
        with interaction("agent", enabled=False, run_id=uuid.uuid5(uuid.NAMESPACE_URL, f"burst/{i}")) as it:
            pass
        recorder.record(it, question=f"q{i}", answer="a")
    print("recorded", flush=True)
    time.sleep(600)  # the agent goes on with other work until it is killed
    """
)


def test_agent_killed_one_durability_bound_after_a_burst_loses_nothing(ws_settings, sandbox, tmp_path) -> None:
    """2,000 record() calls in a burst, then SIGKILL of the whole process: every row recorded more than the
    durability bound before the kill is in Notion or in the spool on disk (from where the next start sends it),
    although the intake alone would take ~6 s to write them all."""
    n, bound = 2000, 0.5
    env = {**_child_env(ws_settings), "NOTION_FEEDBACK_RECORDER_MAX_UNSAVED_SECONDS": str(bound)}
    env["NOTION_FEEDBACK_RECORDER_SENDER"] = "thread"  # one process: the kill takes the sender with it
    env["NOTION_FEEDBACK_RECORDER_REQUESTS_PER_SECOND"] = "20"  # most rows are still in the spool at the kill
    script = tmp_path / "burst.py"
    script.write_text(_BURST_CHILD)
    child = subprocess.Popen([sys.executable, str(script), str(n)], env=env, cwd=tmp_path, stdout=subprocess.PIPE)
    assert child.stdout.readline().decode().strip() == "recorded"  # type: ignore[union-attr]
    time.sleep(bound * 2)  # twice the bound: room for a loaded test machine
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    in_notion = run_ids(ws_settings)
    with sqlite3.connect(ws_settings.home / SPOOL_FILE) as db:
        on_disk = [row[0] for row in db.execute("SELECT run_id FROM outbox")]
    expected = {str(uuid.uuid5(uuid.NAMESPACE_URL, f"burst/{i}")) for i in range(n)}
    assert len(on_disk) > n // 2  # killed while most rows waited for the sender
    assert Counter(in_notion).most_common(1)[0][1] == 1 and len(on_disk) == len(set(on_disk))
    assert set(in_notion) | set(on_disk) == expected


def test_sender_process_killed_mid_drain_is_replaced_and_nothing_is_lost_or_doubled(ws_settings, sandbox) -> None:
    sandbox.notion.control.faults = FaultPlan.from_json({"latency_ms": 15})
    recorder = Recorder(ws_settings)
    expected = _record(recorder, 300)
    _wait_for_rows(ws_settings, 60)
    first = recorder.sender_pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    sandbox.notion.control.faults = FaultPlan()
    assert recorder.flush(60), f"{recorder.pending()} rows still pending"
    assert recorder.stats.delivered + recorder.stats.found_existing == 300
    recorder.close()
    found = run_ids(ws_settings)
    assert len(found) == 300 and set(found) == set(expected)
    assert sandbox.notion.control.count("POST /v1/pages", 200) == 300  # no row was sent twice

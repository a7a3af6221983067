"""The recorder's sender process and the daemon's drain: settings through the environment, secrets kept off the
command line and out of its output, one sender per spool, rows left by a dead agent sent by ``drain_spool``."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from pydantic import SecretStr
from test_recorder_basic import run_ids

from notion_feedback.capture import Recorder, drain_spool, interaction
from notion_feedback.capture.rows import RowValues, feedback_properties
from notion_feedback.capture.sender import settings_environment
from notion_feedback.capture.spool import SPOOL_FILE, Spool
from notion_feedback.config import Settings
from notion_feedback.notion.client import make_notion_client
from notion_feedback.setup.workspace import init_workspace


@pytest.fixture()
def ws_settings(settings: Settings) -> Settings:
    ids = init_workspace(settings, settings.parent_page_id, langsmith=False)
    return settings.model_copy(
        update={"feedback_data_source_id": ids.feedback_data_source_id, "recorder_backoff_seconds": 0.05}
    )


def _run_id() -> str:
    with interaction("agent", enabled=False) as it:
        pass
    return it.run_id


def test_settings_cross_to_the_sender_through_the_environment(tmp_path, monkeypatch) -> None:
    original = Settings(
        _env_file=None,
        notion_token="ntn_" + "0123456789abcdefghijklmnop",
        feedback_data_source_id="0123456789abcdef0123456789abcdef",
        property_map={"Rating": "Score"},
        redact_patterns=[r"\bACME-\d+\b"],
        home=Path("rel/home"),
        recorder_requests_per_second=7.5,
        redact=False,
        recorder_sender="thread",
    )
    base = {"PATH": os.environ.get("PATH", ""), "NOTION_FEEDBACK_SAMPLE_RATE": "0.1", "notion_token": "stale"}
    env = settings_environment(original, base)
    assert "notion_token" not in env and env["NOTION_FEEDBACK_SAMPLE_RATE"] == "1.0"  # ours win; stale names go
    for name in list(os.environ):
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    copy = Settings(_env_file=None)
    assert copy.notion_token.get_secret_value() == "ntn_" + "0123456789abcdefghijklmnop"  # type: ignore[union-attr]
    assert copy.model_dump(exclude={"notion_token", "home"}) == original.model_dump(exclude={"notion_token", "home"})
    assert copy.home == original.home.resolve()  # absolute: the sender may run elsewhere


def test_the_token_is_never_on_the_command_line_nor_in_what_the_sender_prints(ws_settings, capfd) -> None:
    token = "ntn_" + "wrongtoken0123456789abcdefXYZ"
    bad = ws_settings.model_copy(update={"notion_token": SecretStr(token)})
    recorder = Recorder(bad)
    with interaction("agent", enabled=False) as it:
        pass
    recorder.record(it, question="q", answer="a")
    err = ""
    deadline = time.monotonic() + 15
    while "doctor" not in err:  # the sender's error names what to run
        assert time.monotonic() < deadline, err
        pid = recorder.sender_pid
        if pid is not None:
            assert token not in Path(f"/proc/{pid}/cmdline").read_bytes().decode()
        err += capfd.readouterr().err
        time.sleep(0.05)
    assert "401" in err or "unauthorized" in err.lower()
    recorder.close(timeout=0.2)
    err += capfd.readouterr().err
    assert token not in err
    assert recorder.spool_left == 1  # refused for a wrong token: kept, not failed


def test_one_sender_per_spool_and_drain_spool_sends_what_a_dead_agent_left(ws_settings, sandbox) -> None:
    """Rows of a dead agent (one of them written before the crash, its outcome unknown) reach Notion once."""
    written, lost = _run_id(), _run_id()
    client = make_notion_client(ws_settings)
    client.pages.create(
        parent={"type": "data_source_id", "data_source_id": ws_settings.feedback_data_source_id},
        properties=feedback_properties(RowValues(run_id=written, question="q"), {}),
    )
    spool = Spool(ws_settings.home / SPOOL_FILE)
    spool.add_many([(r, RowValues(run_id=r, question="q").to_json()) for r in (written, lost)])
    spool.mark_sending(spool.next_rows()[0].seq)
    # Another process (an agent's sender) holds the drain lock: the daemon leaves the rows to it.
    holder = Spool(ws_settings.home / SPOOL_FILE)
    assert holder.try_lock_drain()
    assert spool.drain_locked_elsewhere()
    assert drain_spool(ws_settings) == 0
    holder.close()
    assert not spool.drain_locked_elsewhere()
    assert drain_spool(ws_settings, deadline=time.monotonic() - 1) == 0  # past its deadline: sends nothing
    assert drain_spool(ws_settings, deadline=time.monotonic() + 10) == 2
    assert sorted(run_ids(ws_settings)) == sorted([written, lost])
    assert sandbox.notion.control.count("POST /v1/pages", 200) == 2  # the written one was found, not re-sent
    assert spool.undelivered() == 0 and spool.counters()["found_existing"] == 1
    spool.close()
    assert drain_spool(ws_settings.model_copy(update={"home": ws_settings.home / "none"})) == 0  # no spool


def test_thread_mode_sends_without_a_process(ws_settings) -> None:
    recorder = Recorder(ws_settings.model_copy(update={"recorder_sender": "thread"}))
    with interaction("agent", enabled=False) as it:
        pass
    recorder.record(it, question="q", answer="a")
    assert recorder.flush(10)
    assert recorder.sender_pid is None and recorder.stats.delivered == 1
    recorder.close()
    assert run_ids(ws_settings) == [it.run_id]

"""Fencing: a daemon that lost its lease stops before its next write, even when it was frozen mid-job."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from notion_feedback.daemon.lease import Lease
from notion_feedback.daemon.lease import LeaseFence as Fence
from notion_feedback.errors import LeaseLostError
from notion_feedback.fencing import fenced
from notion_feedback.smith import feedback as fb
from notion_feedback.state import open_state, utcnow
from notion_feedback.sync.engine import run_sync
from notion_feedback.testing import World, make_world

WRITER_JOBS = """
import os, time
from notion_feedback.fencing import check_fence

def writes():
    # A long job that writes in batches, checking the fence before each one (as the sync does).
    for _ in range(400):
        check_fence()
        with open(os.environ["NF_TEST_MARKS"], "a") as fh:
            fh.write(f"{os.getpid()} {time.time():.3f}\\n")
        time.sleep(0.1)
"""

DAEMON = textwrap.dedent(
    """
    from apscheduler.triggers.interval import IntervalTrigger
    from notion_feedback.config import load_settings
    from notion_feedback.daemon.scheduler import JobSpec, run_daemon
    from notion_feedback.logs import setup_logging
    setup_logging("INFO", "text")
    every_second = lambda s: IntervalTrigger(seconds=1)
    run_daemon(load_settings(), jobs=[JobSpec("writes", "nf_fence_jobs:writes", every_second, 1)])
    """
)


def _marks(path: Path) -> list[tuple[int, float]]:
    return [(int(p), float(t)) for p, t in (line.split() for line in path.read_text().splitlines() if line)]


def test_a_frozen_leader_writes_nothing_after_it_resumes(tmp_path: Path, state_url: str) -> None:
    (tmp_path / "nf_fence_jobs.py").write_text(WRITER_JOBS)
    marks = tmp_path / "marks.txt"
    marks.touch()
    env = os.environ | {
        "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        "NOTION_FEEDBACK_HOME": str(tmp_path / "home"),
        "NOTION_FEEDBACK_STATE_URL": state_url,
        "NOTION_FEEDBACK_LEASE_SECONDS": "6",
        "NF_TEST_MARKS": str(marks),
    }
    start = lambda: subprocess.Popen(  # noqa: E731
        [sys.executable, "-c", DAEMON], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    leader = start()
    standby = None
    try:
        deadline = time.monotonic() + 30
        while not _marks(marks) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _marks(marks), "the leader never started writing"
        standby = start()
        time.sleep(1.5)
        leader.send_signal(signal.SIGSTOP)  # frozen mid-job, lease still held
        frozen_at = time.time()
        deadline = time.monotonic() + 30
        while not any(pid == standby.pid for pid, _ in _marks(marks)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert any(pid == standby.pid for pid, _ in _marks(marks)), "the standby never took over"
        leader.send_signal(signal.SIGCONT)
        resumed_at = time.time()
        time.sleep(4)  # the resumed leader's job would write every 0.1 s if nothing stopped it
    finally:
        for proc in (leader, standby):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
                proc.kill()
                proc.wait(10)
    by_leader = [t for pid, t in _marks(marks) if pid == leader.pid]
    assert by_leader and max(by_leader) < frozen_at + 0.5, "the leader wrote after it was frozen"
    assert resumed_at > frozen_at
    takeover = min(t for pid, t in _marks(marks) if pid == standby.pid)
    assert not [t for t in by_leader if t >= takeover], "two writers overlapped"


@pytest.fixture()
def world(sandbox, settings) -> World:
    return make_world(sandbox, settings)


def test_a_sync_pass_stops_at_the_page_after_the_lease_moved(world: World, sandbox, monkeypatch) -> None:
    runs = world.batch_runs(250)
    rng = random.Random(7)
    rows = [world.row_properties(runs.pop(), rating=str(rng.randint(1, 5))) for _ in range(250)]
    sandbox.notion.bulk_create_pages(world.ds_id, rows, as_person=True)
    engine = open_state(world.settings.resolved_state_url)
    ours = Lease(engine, 30, holder="frozen-leader")
    assert ours.acquire()
    real, calls = fb.create_or_update, {"n": 0}

    def writes_then_lease_moves(*args: Any, **kwargs: Any) -> str:
        calls["n"] += 1
        if calls["n"] == 100:  # during the first page, the lease expires and another daemon takes it
            later = utcnow() + timedelta(seconds=60)
            assert Lease(engine, 30, holder="new-leader", clock=lambda: later).acquire()
        return real(*args, **kwargs)

    monkeypatch.setattr(fb, "create_or_update", writes_then_lease_moves)
    with fenced(Fence(engine, "frozen-leader")), pytest.raises(LeaseLostError):
        run_sync(world.settings)
    assert len(world.feedback()) == 100, "nothing was written after the page during which the lease moved"

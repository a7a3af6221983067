"""The recorder on a full disk: a real, tiny file system that fills up while Notion is down.

Nothing within the memory bound is lost (rows wait and are written once space returns); what is past the bound is
dropped, counted in ``RecorderStats`` and in the spool, logged once with SQLite's own cause, and shown by
``status`` and ``doctor``.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from test_recorder_basic import run_ids
from test_recorder_faults import _record

from notion_feedback.capture import Recorder
from notion_feedback.cli.status_command import render
from notion_feedback.config import Settings
from notion_feedback.daemon.status import collect_status, status_as_dict
from notion_feedback.sandbox.control import FaultPlan
from notion_feedback.setup.doctor import run_checks
from notion_feedback.setup.workspace import init_workspace

BOUND = 100


@pytest.fixture()
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs: a file system of its own that really runs out of space (needs root, as the tests run)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True)
    assert done.returncode == 0, f"cannot mount a tmpfs (run the tests as root): {done.stderr.decode().strip()}"
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> Path:
    """Write a file until the file system says ENOSPC; removing it gives the space back."""
    filler = disk / "filler"
    chunk = b"\0" * 65536
    with filler.open("wb", buffering=0) as out:
        try:
            while True:
                out.write(chunk)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
        with contextlib.suppress(OSError):
            while True:
                out.write(b"\0" * 512)
    return filler


@pytest.fixture()
def disk_settings(settings: Settings, small_disk: Path) -> Settings:
    ids = init_workspace(settings, settings.parent_page_id, langsmith=False)
    return settings.model_copy(
        update={
            "feedback_data_source_id": ids.feedback_data_source_id,
            "home": small_disk / "home",
            "state_url": f"sqlite:///{settings.home / 'state.sqlite3'}",  # the state store is not on the full disk
            "recorder_queue_size": BOUND,
            "recorder_backoff_seconds": 0.05,
            "recorder_sender": "thread",
            "notion_requests_per_second": 1000,
            "notion_burst": 1000,
            "recorder_requests_per_second": 1000,
        }
    )


def _wait(predicate, limit: float = 20.0) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_full_disk_keeps_rows_within_the_bound_and_counts_what_it_drops(
    disk_settings, sandbox, small_disk, caplog
) -> None:
    sandbox.notion.control.faults = FaultPlan.from_json({"status": {"503": 1.0}})  # Notion is down too
    recorder = Recorder(disk_settings)
    filler = fill(small_disk)
    caplog.set_level(logging.WARNING, logger="notion_feedback")

    within = _record(recorder, BOUND - 20)
    time.sleep(0.5)  # the intake has tried, and failed, to write them, several times
    assert recorder.stats.dropped == 0 and recorder.pending() >= BOUND - 20

    past = _record(recorder, 220)
    stats = recorder.stats
    assert stats.recorded == 300
    assert stats.dropped == 200  # memory holds BOUND rows; the rest had nowhere to go
    drops = [r for r in caplog.records if "dropping rows" in r.getMessage()]
    assert len(drops) == 1, [r.getMessage() for r in drops]  # once per incident, not once per row
    assert "database or disk is full" in drops[0].getMessage()
    assert not any("cannot rollback" in r.getMessage() for r in caplog.records)
    assert not any(r.exc_info for r in caplog.records)  # a cause in words, no traceback

    filler.unlink()  # space comes back: the held rows are written, and the drop count with them
    _wait(lambda: recorder.spool.summary().waiting == BOUND)
    summary = recorder.spool.summary()
    assert summary.dropped == 200 and summary.oldest_age_seconds is not None
    sandbox.notion.control.faults = FaultPlan()
    assert recorder.flush(30), f"{recorder.pending()} rows still pending"
    recorder.close()
    found = set(run_ids(disk_settings))
    assert len(found) == BOUND and set(within) <= found  # every row within the bound arrived
    assert found - set(within) <= set(past) and len(found - set(within)) == 20
    assert any("written again; 200 rows were dropped" in r.getMessage() for r in caplog.records)

    spool = status_as_dict(collect_status(disk_settings))["spool"]
    assert spool == {"waiting": 0, "refused": 0, "oldest_age_seconds": None, "dropped": 200}
    console = Console(record=True, width=200)
    render(collect_status(disk_settings), console)
    assert "200 dropped" in console.export_text()
    check = next(c for c in run_checks(disk_settings) if c.name == "recorder spool")
    assert not check.ok and "200 rows dropped" in check.detail and "disk" in check.fix


def test_spool_write_on_a_full_disk_says_why_and_keeps_nothing_half_written(small_disk) -> None:
    from notion_feedback.capture.spool import Spool
    from notion_feedback.errors import SpoolWriteError

    spool = Spool(small_disk / "spool.sqlite3")
    spool.add_many([("r0", {"question": "q"})])
    filler = fill(small_disk)
    rows = [(f"r{i}", {"question": "x" * 2000}) for i in range(1, 500)]
    with pytest.raises(SpoolWriteError) as raised:
        spool.add_many(rows, dropped=3)
    assert "database or disk is full" in raised.value.message and "free space" in raised.value.fix
    assert "rollback" not in str(raised.value)
    filler.unlink()
    assert spool.summary().waiting == 1 and spool.summary().dropped == 0  # the failed transaction left nothing
    assert spool.add_many(rows, dropped=3) == len(rows)
    assert spool.summary().waiting == len(rows) + 1 and spool.summary().dropped == 3
    spool.close()

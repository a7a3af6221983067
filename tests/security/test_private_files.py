"""Files that hold data or secrets are 0600 in 0700 folders whatever the umask; a URL's password never shows."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from notion_feedback.capture.spool import Spool
from notion_feedback.config import Settings
from notion_feedback.envfile import describe, update_env_file
from notion_feedback.setup.doctor import run_checks
from notion_feedback.state import open_state


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture()
def open_umask():
    previous = os.umask(0o000)  # the worst case: everything created world-writable unless the code says otherwise
    yield
    os.umask(previous)


def test_state_store_spool_and_env_file_are_private_under_any_umask(tmp_path: Path, open_umask) -> None:
    home = tmp_path / "home" / "nf"
    engine = open_state(f"sqlite:///{home / 'state.sqlite3'}")
    with engine.begin() as conn:  # a write, so SQLite creates its -wal and -shm files too
        conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS probe (x INTEGER)")
    spool = Spool(home / "spool.sqlite3")
    spool.add_many([("k1", {"question": "private?"})])
    assert spool.try_lock_drain()
    env_file = tmp_path / "project" / ".env"
    update_env_file(env_file, {"NOTION_TOKEN": "ntn_" + "s" * 46})
    for path in (home / "state.sqlite3", home / "state.sqlite3-wal", home / "spool.sqlite3", env_file):
        assert _mode(path) == 0o600, f"{path} is {_mode(path):04o}"
    assert _mode(home / "spool.sqlite3.lock") == 0o600
    assert _mode(home) == 0o700 and _mode(home.parent) == 0o700 and _mode(env_file.parent) == 0o700
    spool.close()


def test_doctor_warns_about_a_readable_state_file(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, home=tmp_path / "home")
    open_state(settings.resolved_state_url)
    state_file = settings.home / "state.sqlite3"
    state_file.chmod(0o644)
    (problem,) = [r for r in run_checks(settings) if r.name == "file modes"]
    assert not problem.ok and "0644" in problem.detail and f"chmod 0600 {state_file}" in problem.detail


def test_a_state_url_password_is_masked_in_config_and_secrets() -> None:
    settings = Settings(_env_file=None, state_url="postgresql://nf:pa55-w0rd-xyz@db.internal:5432/nf")
    shown = dict(describe(settings))["NOTION_FEEDBACK_STATE_URL"]
    assert "pa55-w0rd-xyz" not in shown and "db.internal" in shown
    assert "pa55-w0rd-xyz" in settings.secrets()  # so logs and errors mask it too
    assert "pa55-w0rd-xyz" not in repr(settings)

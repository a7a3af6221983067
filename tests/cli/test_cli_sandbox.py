"""`notion-feedback sandbox`: prints NAME=value lines a shell can export, serves the real SDKs, keeps state."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import langsmith
import notion_client


def _start(*args: str) -> tuple[subprocess.Popen, dict[str, str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "notion_feedback.cli.app", "sandbox", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    env: dict[str, str] = {}
    while len(env) < 7:
        line = proc.stdout.readline()
        assert line, f"sandbox exited early: {proc.stderr.read()}"
        name, _, value = line.strip().partition("=")
        env[name] = value
    return proc, env


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=15) == 0


def test_sandbox_command_serves_both_sdks_and_keeps_state(tmp_path: Path) -> None:
    proc, env = _start("--data-dir", str(tmp_path / "ws"), "--no-rate-limit")
    try:
        assert set(env) == {
            "NOTION_BASE_URL",
            "NOTION_TOKEN",
            "NOTION_SANDBOX_ROOT_PAGE_ID",
            "LANGSMITH_ENDPOINT",
            "LANGSMITH_API_KEY",
            "LANGSMITH_WEB_URL",
            "NOTION_SANDBOX_ADMIN_TOKEN",
        }
        assert env["LANGSMITH_WEB_URL"] == env["NOTION_BASE_URL"] + "/_viewer/langsmith"
        assert env["NOTION_BASE_URL"].startswith("http://127.0.0.1:")
        notion = notion_client.Client(auth=env["NOTION_TOKEN"], base_url=env["NOTION_BASE_URL"])
        page = notion.pages.create(
            parent={"page_id": env["NOTION_SANDBOX_ROOT_PAGE_ID"]},
            properties={"title": {"title": [{"text": {"content": "kept across restarts"}}]}},
        )
        ls = langsmith.Client(api_url=env["LANGSMITH_ENDPOINT"], api_key=env["LANGSMITH_API_KEY"])
        project = ls.create_project("kept-project")
    finally:
        _stop(proc)

    proc, env2 = _start("--data-dir", str(tmp_path / "ws"))
    try:
        assert env2["NOTION_TOKEN"] == env["NOTION_TOKEN"]  # the same workspace opens with the same credentials
        assert env2["NOTION_SANDBOX_ROOT_PAGE_ID"] == env["NOTION_SANDBOX_ROOT_PAGE_ID"]
        assert env2["NOTION_SANDBOX_ADMIN_TOKEN"] == env["NOTION_SANDBOX_ADMIN_TOKEN"]  # kept beside the others
        assert (tmp_path / "ws" / "admin-token.secret").stat().st_mode & 0o777 == 0o600
        notion = notion_client.Client(auth=env2["NOTION_TOKEN"], base_url=env2["NOTION_BASE_URL"])
        assert notion.pages.retrieve(page["id"])["id"] == page["id"]
        ls = langsmith.Client(api_url=env2["LANGSMITH_ENDPOINT"], api_key=env2["LANGSMITH_API_KEY"])
        assert ls.read_project(project_name="kept-project").id == project.id
    finally:
        _stop(proc)


def test_sandbox_refuses_a_non_loopback_host() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "notion_feedback.cli.app", "sandbox", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "loopback" in result.stderr


def _burst(env: dict[str, str], n: int = 12) -> list[int]:
    import httpx

    headers = {"Authorization": f"Bearer {env['NOTION_TOKEN']}", "Notion-Version": "2025-09-03"}
    return [httpx.get(f"{env['NOTION_BASE_URL']}/v1/users/me", headers=headers).status_code for _ in range(n)]


def test_a_reopened_data_dir_keeps_its_ports_and_rate_limits(tmp_path: Path) -> None:
    """A saved env file (the demo's DIR/demo.env, a shell's sandbox.env) stays right after a restart."""
    ws = tmp_path / "ws"
    proc, first = _start("--data-dir", str(ws), "--no-rate-limit")
    _stop(proc)
    (ws / "demo.env").write_text("".join(f"{k}={v}\n" for k, v in first.items()))
    proc, again = _start("--data-dir", str(ws))
    try:
        assert again == first, "same ports, same tokens"
        assert set(_burst(again)) == {200}, "still without rate limits, as saved"
    finally:
        _stop(proc)
    import socket

    with socket.socket() as squatter:  # the saved Notion port is taken now: a free one, and demo.env follows
        squatter.bind(("127.0.0.1", int(first["NOTION_BASE_URL"].rsplit(":", 1)[1])))
        proc, moved = _start("--data-dir", str(ws), "--rate-limit")
        try:
            assert moved["NOTION_BASE_URL"] != first["NOTION_BASE_URL"]
            assert f"NOTION_BASE_URL={moved['NOTION_BASE_URL']}" in (ws / "demo.env").read_text().splitlines()
            assert 429 in _burst(moved, 30), "--rate-limit turns them on again"
        finally:
            _stop(proc)


def test_the_help_example_does_not_hang(tmp_path: Path) -> None:
    """`sandbox --help` shows a way to take the lines into a shell that returns."""
    help_text = subprocess.run(
        [sys.executable, "-m", "notion_feedback.cli.app", "sandbox", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "120"},
        check=True,
    ).stdout
    assert "eval" not in help_text and "> sandbox.env &" in help_text
    lines = [line.split("#")[0].strip() for line in help_text.splitlines()]
    start = lines.index("notion-feedback sandbox --data-dir ./ws > sandbox.env &")
    script = "\n".join(lines[start : start + 3]) + "\n"  # the example as printed: start, wait, load
    assert "until grep" in script and ". ./sandbox.env" in script
    bindir = Path(sys.executable).parent
    run = subprocess.run(
        ["bash", "-c", script + 'echo "got $NOTION_BASE_URL"; kill %1; wait'],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"},
    )
    assert "got http://127.0.0.1:" in run.stdout, run.stderr

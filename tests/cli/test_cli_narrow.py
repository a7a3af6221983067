"""At 80 columns every address and command the CLI prints stays whole on one line, ready to copy."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from cli_support import report_workspace
from rich.console import Console
from typer.testing import CliRunner

from notion_feedback.cli.app import app
from notion_feedback.config import Settings
from notion_feedback.daemon.jobruns import ERROR, JobRecorder
from notion_feedback.demo.runner import DemoOptions, DemoResult, show_where_to_look
from notion_feedback.envfile import describe
from notion_feedback.state import open_state

URL = re.compile(r"(?:https?|sqlite)://[^\s'\"`)]+")


def _at_80(args: list[str]) -> str:
    result = CliRunner().invoke(app, args, env={"COLUMNS": "80"})
    assert result.exit_code in (0, 1), result.output  # doctor exits 1 for a check that fails
    assert "Traceback" not in result.output
    return result.output


def _whole(output: str, known: list[str]) -> None:
    """Each address printed is one of the known ones in full: a cut one would be only a part of it."""
    printed = URL.findall(output)
    assert printed, output
    for url in printed:
        assert any(url.startswith(k) for k in known), f"{url!r} is cut:\n{output}"


def test_report_status_config_and_doctor_at_80_columns(settings: Settings, sandbox, monkeypatch) -> None:
    env = report_workspace(settings, sandbox, monkeypatch)
    known = [env["NOTION_BASE_URL"], env["LANGSMITH_ENDPOINT"], settings.resolved_state_url]
    report = _at_80(["report"])
    _whole(report, known)
    assert any(line.strip().startswith(f"{sandbox.notion.viewer_url}page/") for line in report.splitlines())

    recorder = JobRecorder(open_state(settings.resolved_state_url))
    failed = f"{env['NOTION_BASE_URL']}/v1/data_sources/{env['NOTION_FEEDBACK_FEEDBACK_DATA_SOURCE_ID']}/query"
    recorder.finish(recorder.start("sync_ratings"), "sync_ratings", ERROR, error=f"HTTPError: 503 for url: {failed}")
    status = _at_80(["status"])
    assert "verify_ratings" in status and "never run" in status and "daily_report" in status
    assert any(failed in line for line in status.splitlines()), status
    _whole(status, known)
    for token in ("period=day", "notion_requests=", "langsmith_requests=", "charts="):
        assert token in status, f"{token} is cut:\n{status}"

    config = _at_80(["config"])
    _whole(config, known)
    for name, _ in describe(settings):
        assert name in config, f"{name} is cut:\n{config}"
    assert env["NOTION_FEEDBACK_HOME"] in config

    _whole(_at_80(["doctor"]), known)


def test_config_prints_setting_values_as_text_not_markup(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NOTION_FEEDBACK_HOME", str(tmp_path / "[bold]home[/bold]"))
    for width in ("80", "250"):
        result = CliRunner().invoke(app, ["config"], env={"COLUMNS": width})
        assert result.exit_code == 0, result.output
        assert "[bold]home[/bold]" in result.output


def test_where_to_look_after_the_demo_copies_whole_at_80_columns(tmp_path: Path) -> None:
    data_dir = tmp_path / ("a-long-folder-name-" * 3) / "demo-data"
    viewer = "http://127.0.0.1:45678/_viewer/"
    page_id = "0c1b2a39-4d5e-4f60-8a7b-9c0d1e2f3a4b"
    result = DemoResult(
        viewer_url=viewer,
        interactions=10,
        new_interactions=10,
        ratings=4,
        sync={},
        reports=[{"period": "day", "start": "2026-12-02", "page_id": page_id}],
        env={"NOTION_BASE_URL": "http://127.0.0.1:45678", "LANGSMITH_ENDPOINT": "http://127.0.0.1:45679"},
    )
    out = io.StringIO()
    show_where_to_look(Console(file=out, width=80), result, DemoOptions(data_dir=data_dir))
    lines = [line.strip() for line in out.getvalue().splitlines()]
    assert viewer in lines and f"{viewer}page/{page_id}" in lines
    command = f"notion-feedback sandbox --data-dir {data_dir} --notion-port 45678 --langsmith-port 45679"
    assert command in lines, out.getvalue()
    assert f"set -a; . {data_dir / 'demo.env'}; set +a" in lines

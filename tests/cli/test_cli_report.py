"""`notion-feedback report` on the sandbox: the address a person can open, the run in `status`, and a progress line
that says when LangSmith's rate limit holds it back."""

from __future__ import annotations

import io
import json
import re

import httpx
import pytest
from cli_support import report_workspace
from rich.console import Console
from rich.progress import Progress
from typer.testing import CliRunner

from notion_feedback.cli.app import app
from notion_feedback.cli.common import ReportProgress
from notion_feedback.config import Settings
from notion_feedback.notion.links import is_sandbox, page_link
from notion_feedback.sandbox.control import FaultPlan

URL = re.compile(r"https?://[^\s'\"`)]+")


@pytest.fixture()
def workspace(settings: Settings, sandbox, monkeypatch: pytest.MonkeyPatch) -> Settings:
    report_workspace(settings, sandbox, monkeypatch)
    return settings


def _report() -> str:
    result = CliRunner().invoke(app, ["report"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result.output


def test_report_on_the_sandbox_prints_the_viewer_page_and_is_a_run_in_status(workspace: Settings, sandbox) -> None:
    output = _report()
    links = URL.findall(output)
    viewer = sandbox.notion.viewer_url
    pages = [link for link in links if link.startswith(f"{viewer}page/")]
    assert len(pages) == 1, output
    assert not [link for link in links if "notion.com" in link or "notion.so" in link], output
    page = httpx.get(pages[0])
    assert page.status_code == 200 and "Daily report" in page.text

    status = CliRunner().invoke(app, ["status", "--json"])
    last = {job["id"]: job["last_run"] for job in json.loads(status.stdout)["jobs"]}
    assert last["daily_report"]["outcome"] == "ok"
    assert pages[0].endswith(last["daily_report"]["summary"]["page_id"])


def test_a_report_waiting_for_langsmiths_rate_limit_says_so(workspace: Settings, sandbox) -> None:
    sandbox.langsmith.control.faults = FaultPlan.from_json({"storm_seconds": 2})  # every request: 429, Retry-After
    try:
        output = _report()
    finally:
        sandbox.langsmith.control.faults = FaultPlan()
    assert re.search(r"waiting \d+ s for LangSmith's rate limit", output), output
    assert "Daily report" in output and "published" in output, "it waited, then went on"


def test_without_a_rate_limit_nothing_is_said_about_one(workspace: Settings) -> None:
    assert "rate limit" not in _report()


@pytest.mark.parametrize(
    ("base", "sandboxed"),
    [
        ("http://127.0.0.1:8123", True),
        ("http://localhost:9000/", True),
        ("http://[::1]:7000", True),
        ("http://127.0.0.2:7000", True),
        ("https://api.notion.com", False),
        ("https://notion.example.com", False),
    ],
)
def test_the_sandbox_is_a_loopback_notion_base_url(base: str, sandboxed: bool) -> None:
    page_id = "0123abcd-0123-4567-89ab-0123456789ab"
    notion_url = "https://app.notion.com/p/Daily-0123abcd0123456789ab0123456789ab"
    assert is_sandbox(base) is sandboxed
    link = page_link(base, page_id, notion_url)
    if sandboxed:
        assert link.endswith(f"/_viewer/page/{page_id}") and link.startswith(base.rstrip("/"))
    else:
        assert link == notion_url


def test_the_progress_line_says_why_it_waits_then_goes_back_to_the_step() -> None:
    out = io.StringIO()
    with Progress(console=Console(file=out, width=80)) as bar:
        shown = ReportProgress(bar, bar.add_task("reports", total=1))
        shown.step("day 2026-12-02", "run stats")
        shown.waiting(9.6)
        assert bar.tasks[0].description == "day 2026-12-02: run stats · waiting 10 s for LangSmith's rate limit"
        shown.waiting(0.0)
        assert bar.tasks[0].description == "day 2026-12-02: run stats"
    assert "waiting 10 s for LangSmith's rate limit" in out.getvalue(), "without a terminal, a line of its own"

"""A row's Trace link on the sandbox opens the run in the viewer: name, figures, inputs and outputs, feedback, spans."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from notion_feedback.capture import Recorder, interaction
from notion_feedback.capture.tracing import ProjectRef, trace_url
from notion_feedback.config import Settings
from notion_feedback.demo.runner import _demo_env
from notion_feedback.notion.client import make_notion_client
from notion_feedback.sandbox.server import Sandbox
from notion_feedback.setup.workspace import init_workspace
from notion_feedback.smith.client import make_langsmith_client

HOSTILE = '<script>alert("run")</script><img src=x onerror=alert(1)>'


@pytest.fixture()
def ws_settings(settings: Settings) -> Settings:
    ids = init_workspace(settings, settings.parent_page_id, langsmith=False)
    return settings.model_copy(
        update={"feedback_data_source_id": ids.feedback_data_source_id, "recorder_backoff_seconds": 0.05}
    )


def _record(settings: Settings, name: str, tool: str) -> tuple[object, str]:
    """One traced interaction with a tool span and an LLM span, recorded as a row; returns it and the row's Trace."""
    client = make_langsmith_client(settings)
    recorder = Recorder(settings)
    project = f"trace-links-{uuid.uuid4().hex[:8]}"  # a project this process has not resolved before
    with interaction(name, model="gpt-4o-mini", client=client, project_name=project, enabled=True) as it:
        with it.tool(tool, {"q": "reset password"}) as span:
            span.end({"hits": 3})
        it.llm("gpt-4o-mini", input_tokens=120, output_tokens=30).end({"answer": "Use the link"})
        it.end({"answer": "Use the link"})
    recorder.record(it, question="How do I reset my password?", answer="Use the link")
    assert recorder.flush(10)
    recorder.close()
    notion = make_notion_client(settings)
    (row,) = notion.data_sources.query(settings.feedback_data_source_id)["results"]
    return it, row["properties"]["Trace"]["url"]


def test_a_recorded_rows_trace_link_opens_the_run_in_the_viewer(ws_settings: Settings, sandbox: Sandbox) -> None:
    it, url = _record(ws_settings, "support-agent", "search")
    assert url.startswith(f"{sandbox.notion_url}/_viewer/langsmith/o/"), url
    assert f"/projects/p/{it.project_id}/r/{it.run_id}?" in url
    make_langsmith_client(ws_settings).create_feedback(
        it.run_id, "rating", score=4, value="4", comment="clear & quick <thanks>", session_id=it.project_id
    )
    page = httpx.get(url)
    assert page.status_code == 200
    assert "<h1>support-agent</h1>" in page.text
    assert "clear &amp; quick &lt;thanks&gt;" in page.text and ">rating<" in page.text
    assert "Use the link" in page.text  # the outputs
    assert ">success<" in page.text and "150 (120 in, 30 out)" in page.text
    spans = re.findall(r'<a href="([^"]+)">(search|gpt-4o-mini)</a>', page.text)
    assert [name for _, name in spans] == ["search", "gpt-4o-mini"], "the trace's spans, in order"
    child = httpx.get(sandbox.notion_url + spans[0][0])
    assert child.status_code == 200 and "<h1>search</h1>" in child.text and "parent run" in child.text
    assert "reset password" in child.text and ">tool<" in child.text  # the span's inputs and type


def test_hostile_run_names_are_shown_as_text(ws_settings: Settings, sandbox: Sandbox) -> None:
    it, url = _record(ws_settings, HOSTILE, "javascript:alert(1)")
    page = httpx.get(url)
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;alert(&#34;run&#34;)&lt;/script&gt;" in page.text
    hrefs = re.findall(r'href="([^"]*)"', page.text)
    assert hrefs and not [h for h in hrefs if not h.startswith("/_viewer/")], hrefs


def test_run_pages_keep_the_viewers_guards(ws_settings: Settings, sandbox: Sandbox) -> None:
    _, url = _record(ws_settings, "guarded-agent", "search")
    page = httpx.get(url)
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    rebound = httpx.get(url, headers={"Host": "evil.example"})
    assert rebound.status_code == 421 and "guarded-agent" not in rebound.text


def test_an_unknown_or_malformed_run_is_a_404_page(sandbox: Sandbox) -> None:
    base = f"{sandbox.notion_url}/_viewer/langsmith/o/t/projects/p/{uuid.uuid4()}/r/"
    for run in (str(uuid.uuid4()), "not-a-run", "%3Cscript%3E"):
        page = httpx.get(base + run)
        assert page.status_code == 404 and "<script>" not in page.text


@pytest.mark.parametrize("offset", [timedelta(0), timedelta(hours=5, minutes=30), -timedelta(hours=8)])
def test_the_trace_urls_start_time_reads_back_exactly(offset: timedelta) -> None:
    start = datetime(2026, 11, 24, 9, 30, 15, 123456, tzinfo=UTC).astimezone(timezone(offset))
    run = str(uuid.uuid4())
    url = trace_url(ProjectRef("p1", "http://127.0.0.1:1/_viewer/langsmith/o/t/projects/p/p1"), run, start)
    assert url is not None and "+" not in urlsplit(url).query
    query = parse_qs(urlsplit(url).query, strict_parsing=True)
    assert query == {"trace_id": [run], "start_time": [start.isoformat()]}
    assert datetime.fromisoformat(query["start_time"][0]) == start
    text_start = trace_url(ProjectRef("p1", "http://h/o/t/projects/p/p1"), run, "2026-11-24T09:30:15+00:00")
    assert parse_qs(urlsplit(text_start or "").query)["start_time"] == ["2026-11-24T09:30:15+00:00"]


def test_the_demo_settings_point_trace_links_at_the_sandbox(sandbox: Sandbox, tmp_path: Path) -> None:
    env = _demo_env(sandbox, tmp_path)
    assert env["LANGSMITH_WEB_URL"] == f"{sandbox.notion_url}/_viewer/langsmith" == sandbox.langsmith_web_url

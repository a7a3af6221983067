"""notion_feedback.testing as a user's test sees it: one context manager, a recorded interaction rated by a person
and synced to LangSmith, and nothing left running or on disk afterwards."""

from __future__ import annotations

import socket
import uuid

import httpx
import pytest

from notion_feedback.capture import Recorder, interaction
from notion_feedback.errors import SandboxRequestError
from notion_feedback.sync.engine import run_sync
from notion_feedback.testing import sandbox


def _refused(url: str) -> bool:
    try:
        httpx.get(url, timeout=2)
    except httpx.ConnectError:
        return True
    return False


def test_a_recorded_interaction_rated_in_notion_becomes_langsmith_feedback() -> None:
    with sandbox(project="my-agent") as sb:
        recorder = Recorder(sb.settings)
        with interaction("my-agent", model="gpt-4o-mini") as it:
            it.end({"answer": "Paris"})
        recorder.record(it, question="Capital of France?", answer="Paris")
        assert recorder.close(timeout=60)

        (row,) = list(sb.rows())
        run_id = sb.run_id_of(row)
        assert str(uuid.UUID(run_id)) == run_id  # the row points at the trace the interaction sent
        assert sb.feedback() == {}  # nobody has rated it yet

        sb.edit(row["id"], rating="5", comment="right answer")
        summary = run_sync(sb.settings)

        assert summary.created == 1  # LangSmith takes feedback only on a run it holds: the trace arrived
        assert sb.feedback() == {sb.fid(row["id"]): {"run_id": run_id, "score": 5.0, "comment": "right answer"}}
        assert sb.feedback() == sb.expected_feedback()


def test_the_clients_and_admin_point_at_the_running_emulators() -> None:
    with sandbox() as sb:
        assert sb.admin is not None
        assert sb.settings.notion_base_url == sb.notion_url == sb.admin.env()["NOTION_BASE_URL"]
        assert sb.notion.data_sources.retrieve(sb.ds_id)["id"] == sb.ds_id
        assert sb.langsmith.read_project(project_id=sb.project_id).name == "agent-tests"
        page = sb.add_row(str(uuid.uuid4()), rating="3")
        assert sb.admin.notion.control.count("POST /v1/pages") >= 1
        sb.trash(page)
        assert list(sb.rows()) == []


def test_a_person_request_that_fails_says_so_with_a_fix() -> None:
    with sandbox() as sb, pytest.raises(SandboxRequestError) as caught:
        sb.page(str(uuid.uuid4()))
    assert "404" in caught.value.message and caught.value.fix


def test_leaving_the_block_stops_both_servers_and_removes_the_temp_home() -> None:
    with sandbox() as sb:
        home = sb.settings.home
        recorder = Recorder(sb.settings)
        recorder.close(timeout=10)
        urls = [sb.settings.notion_base_url, sb.settings.langsmith_endpoint]
        assert home.exists() and not any(_refused(url) for url in urls)
    assert not home.parent.exists()
    assert all(_refused(url) for url in urls)
    for url in urls:  # nothing listens on the ports any more (closed connections may still linger in TIME_WAIT)
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port))


def test_an_exception_in_the_block_still_cleans_up() -> None:
    with pytest.raises(RuntimeError), sandbox() as sb:
        home, url = sb.settings.home, sb.settings.notion_base_url
        raise RuntimeError("the agent under test failed")
    assert not home.parent.exists() and _refused(url)

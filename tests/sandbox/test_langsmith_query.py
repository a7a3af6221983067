"""A small agent traced with the real ``@traceable`` (nested tool spans, an exception), read back through
``Client.list_runs`` / ``read_run`` / ``get_run_stats``, plus projects, pagination, dashboard and v2 queries."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import langsmith
import pytest
from langsmith import traceable
from langsmith_fixtures import *  # noqa: F403  (fixtures: ls_sandbox, ls, client, bg_client)
from langsmith_fixtures import QUIET

pytestmark = QUIET
LLM_META = {"ls_provider": "openai", "ls_model_name": "gpt-4o"}


def run_agent(c: langsmith.Client, project: str, n: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGSMITH_TRACING", "true")

    @traceable(run_type="tool", name="search", client=c)
    def search(q: str) -> list[str]:
        return [q.upper()]

    @traceable(run_type="tool", name="calculator", client=c)
    def calculator(x: int) -> int:
        if x == 3:
            raise ZeroDivisionError("tool failed")
        return x * 2

    @traceable(run_type="llm", name="chat", client=c, metadata=LLM_META)
    def chat(prompt: str) -> dict[str, Any]:
        return {"content": "ok", "usage_metadata": {"input_tokens": 1000, "output_tokens": 100, "total_tokens": 1100}}

    @traceable(name="agent", client=c, project_name=project, tags=["prod"])
    def agent(i: int) -> str:
        search(f"q{i}")
        chat("hello")
        calculator(i)
        return "done"

    for i in range(n):
        with contextlib.suppress(ZeroDivisionError):
            agent(i, langsmith_extra={"metadata": {"user": f"u{i % 2}"}})


@pytest.mark.parametrize("path", ["background", "sync"])
def test_traced_agent_read_back(ls: Any, path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from langsmith_fixtures import make_client

    c = make_client(ls) if path == "background" else make_client(ls, auto_batch_tracing=False)
    run_agent(c, "agent-proj", 5, monkeypatch)
    c.flush()
    runs = list(c.list_runs(project_name="agent-proj"))
    assert len(runs) == 20  # 5 traces x (agent, search, chat, calculator)
    roots = list(c.list_runs(project_name="agent-proj", is_root=True))
    assert [r.name for r in roots] == ["agent"] * 5
    failed = [r for r in roots if r.error]
    assert len(failed) == 1 and "tool failed" in failed[0].error and failed[0].status == "error"
    # a root's tokens and cost include its subtree (the chat child), as LangSmith's runs API reports them
    assert {r.total_tokens for r in roots} == {1100}
    assert float(roots[0].total_cost) == pytest.approx((1000 * 2.5 + 100 * 10) / 1e6)
    tools = list(c.list_runs(project_name="agent-proj", run_type="tool", error=True))
    assert [t.name for t in tools] == ["calculator"]
    child = next(r for r in runs if r.name == "search")
    assert child.parent_run_id is not None and child.trace_id == child.parent_run_id
    assert c.read_run(child.id).dotted_order.count(".") == 1
    # filters
    q = c.list_runs
    assert len(list(q(project_name="agent-proj", filter='and(eq(run_type, "tool"), eq(name, "search"))'))) == 5
    assert len(list(q(project_name="agent-proj", filter='has(tags, "prod")', is_root=True))) == 5
    meta = 'and(eq(metadata_key, "user"), eq(metadata_value, "u1"))'
    assert len(list(q(project_name="agent-proj", filter=meta, is_root=True))) == 2
    assert len(list(q(project_name="agent-proj", filter="gt(total_tokens, 1000)"))) == 10  # roots + chats
    assert len(list(q(project_name="agent-proj", filter='or(neq(error, null), eq(status, "error"))'))) == 2
    assert len(list(q(project_name="agent-proj", filter='gte(latency, "0s")', is_root=True))) == 5
    assert len(list(q(project_name="agent-proj", filter="lt(latency, 0.000001)", is_root=True))) == 0
    assert len(list(q(project_name="agent-proj", trace_filter='eq(status, "error")'))) == 4
    assert len(list(q(project_name="agent-proj", tree_filter='eq(name, "calculator")', is_root=True))) == 5
    sel = list(q(project_name="agent-proj", is_root=True, select=["id", "total_tokens"], limit=2))
    assert len(sel) == 2 and sel[0].total_tokens == 1100 and sel[0].outputs is None
    # stats over the traces
    pid = c.read_project(project_name="agent-proj").id
    st = c.get_run_stats(project_ids=[pid], is_root=True)
    assert st["run_count"] == 5 and st["error_rate"] == pytest.approx(0.2)
    assert st["total_tokens"] == 5500 and st["total_cost"] == pytest.approx(5 * 0.0035)
    assert st["latency_p50"] is not None and st["latency_p99"] >= st["latency_p50"]
    llm = c.get_run_stats(project_names=["agent-proj"], run_type="llm")
    assert llm["run_count"] == 5 and llm["prompt_tokens"] == 5000


def test_pagination_beyond_one_page(ls: Any, client: Any) -> None:
    t0 = datetime(2025, 5, 1, tzinfo=UTC)
    posts = []
    for i in range(130):
        rid = str(uuid.uuid4())
        st = t0 + timedelta(seconds=i)
        posts.append(
            {
                "id": rid,
                "name": f"r{i}",
                "run_type": "chain",
                "start_time": st.isoformat(),
                "end_time": (st + timedelta(seconds=1)).isoformat(),
                "session_name": "pages",
                "trace_id": rid,
                "dotted_order": f"{st:%Y%m%dT%H%M%S%f}Z{rid}",
                "inputs": {},
            }
        )
    client.batch_ingest_runs(create=posts)
    got = list(client.list_runs(project_name="pages"))
    assert len(got) == 130 and len({r.id for r in got}) == 130
    assert got[0].name == "r129"  # newest first
    assert ls.control.count("POST /runs/query") == 2
    since = list(client.list_runs(project_name="pages", start_time=t0 + timedelta(seconds=100)))
    assert len(since) == 30
    with pytest.raises(langsmith.utils.LangSmithError):
        list(client.list_runs(project_name="pages", limit=150))  # the server caps pages at 100 (sdk#3455)


def test_projects(ls: Any, client: Any) -> None:
    p = client.create_project("proj-a", description="first", metadata={"team": "x"})
    with pytest.raises(langsmith.utils.LangSmithConflictError):
        client.create_project("proj-a")
    assert client.read_project(project_id=p.id).name == "proj-a"
    assert client.has_project("proj-a") and not client.has_project("nope")
    assert "proj-a" in [x.name for x in client.list_projects()]
    stats = client.read_project(project_name="proj-a", include_stats=True)
    assert stats.run_count == 0
    client.update_project(p.id, description="second")
    assert client.read_project(project_id=p.id).description == "second"
    client.delete_project(project_name="proj-a")
    with pytest.raises(langsmith.utils.LangSmithNotFoundError):
        client.read_project(project_id=p.id)


def test_group_by_dashboard_and_v2(ls: Any, client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    run_agent(client, "dash", 4, monkeypatch)
    pid = str(client.read_project(project_name="dash").id)
    body = {"session": [pid], "is_root": True, "group_by": {"attribute": "metadata", "path": "user"}}
    groups = client.request_with_retries("POST", "/runs/stats", request_kwargs={"json": body}).json()
    assert {k: v["run_count"] for k, v in groups.items()} == {"u0": 2, "u1": 2}
    h = {"x-api-key": ls.api_key}
    now = datetime.now(UTC)
    dash = httpx.post(
        f"{ls.base_url}/api/v1/sessions/{pid}/dashboard",
        headers=h,
        json={
            "start_time": (now - timedelta(days=2)).isoformat(),
            "end_time": now.isoformat(),
            "stride": {"days": 1},
        },
    ).json()
    chart = next(c for c in dash["charts"] if c["title"] == "Trace Count")
    assert sum(d["value"] for d in chart["data"]) == 4
    assert len(chart["data"]) in (2, 3)  # calendar-day buckets from midnight UTC
    v2 = httpx.post(
        f"{ls.base_url}/api/v2/runs/query",
        headers=h,
        json={
            "project_ids": [pid],
            "is_root": True,
            "selects": ["ID", "TOTAL_TOKENS", "STATUS"],
            "page_size": 3,
        },
    ).json()
    assert len(v2["items"]) == 3 and v2["next_cursor"] and v2["items"][0]["total_tokens"] == 0  # own usage
    assert v2["items"][0]["status"] in ("SUCCESS", "ERROR")


def test_stats_needs_a_project_and_bulk_load(ls: Any, client: Any) -> None:
    r = httpx.post(f"{ls.base_url}/runs/stats", headers={"x-api-key": ls.api_key}, json={"is_root": True})
    assert r.status_code == 422
    pid = ls.bulk_load_runs(10_000, project_name="bulk", metadata={"tier": ["free", "pro"]})
    st = client.get_run_stats(project_ids=[pid])
    assert st["run_count"] == 10_000 and 0.02 < st["error_rate"] < 0.08
    assert st["feedback_stats"]["user_rating"]["n"] > 1000
    assert st["total_cost"] > 0 and st["latency_p99"] > st["latency_p50"] > 0
    page = list(client.list_runs(project_id=pid, limit=5))
    assert len(page) == 5 and page[0].name == "agent"
    assert client.read_run(page[0].id).id == page[0].id

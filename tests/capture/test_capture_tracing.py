"""Tracing with the real langsmith SDK against the LangSmith emulator: what the runs carry, read back."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta

import langsmith
import pytest
from langsmith import traceable

from notion_feedback.capture import current_interaction, decision, interaction, llm_call, pseudonymous_user, tool
from notion_feedback.pricing import price_usd

PROJECT = "capture-tests"


@pytest.fixture()
def ls_client(sandbox) -> langsmith.Client:
    env = sandbox.env()
    return langsmith.Client(
        api_url=env["LANGSMITH_ENDPOINT"], api_key=env["LANGSMITH_API_KEY"], auto_batch_tracing=False
    )


def _runs(client: langsmith.Client, trace_id: str) -> dict[str, langsmith.schemas.Run]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {r.name: r for r in client.list_runs(project_name=PROJECT, trace_id=trace_id)}


def test_interaction_traces_children_usage_and_metadata(ls_client) -> None:
    with interaction(
        "support-agent",
        variant="B",
        model="gpt-4o-mini",
        user_id="Ada@Example.com",
        tags=["beta"],
        metadata={"channel": "web"},
        client=ls_client,
        project_name=PROJECT,
        enabled=True,
    ) as it:
        with it.tool("search", {"q": "refund"}) as span:
            span.end({"hits": 3})
        it.decision("route", "faq", reason="short question", options=["faq", "human"])
        it.llm(input_tokens=1000, output_tokens=200).end({"text": "hello"})
        it.llm("claude-3-5-haiku", input_tokens=10, output_tokens=5, input_cost=0.5, output_cost=0.25).end()
        it.end({"answer": "hello"})

    runs = _runs(ls_client, it.run_id)
    assert set(runs) == {"support-agent", "search", "route", "gpt-4o-mini", "claude-3-5-haiku"}
    root = runs["support-agent"]
    assert str(root.id) == it.run_id and root.parent_run_id is None
    meta = root.extra["metadata"]
    assert meta["variant"] == "B" and meta["model"] == "gpt-4o-mini" and meta["channel"] == "web"
    assert meta["user_id"] == pseudonymous_user("ada@example.com") != "Ada@Example.com"
    assert "beta" in root.tags
    assert runs["search"].run_type == "tool" and runs["search"].outputs == {"hits": 3}
    assert runs["route"].outputs == {"choice": "faq", "reason": "short question"}
    llm = runs["gpt-4o-mini"]
    assert llm.run_type == "llm" and llm.parent_run_id == root.id
    assert llm.extra["metadata"]["ls_provider"] == "openai" and llm.extra["metadata"]["ls_model_name"] == "gpt-4o-mini"
    assert llm.extra["metadata"]["variant"] == "B"  # group-by metadata on the LLM run too
    assert (llm.prompt_tokens, llm.completion_tokens) == (1000, 200)
    # LangSmith priced the run from ls_model_name; the interaction priced it from the product's table.
    assert float(llm.total_cost) == pytest.approx(price_usd("gpt-4o-mini", 1000, 200))
    assert float(runs["claude-3-5-haiku"].total_cost) == pytest.approx(0.75)  # direct costs win
    assert it.tokens == 1215
    assert it.cost_usd == pytest.approx(price_usd("gpt-4o-mini", 1000, 200) + 0.75)
    assert it.latency_ms is not None and it.latency_ms >= 0
    project = ls_client.read_project(project_name=PROJECT)
    assert it.project_id == str(project.id) == str(root.session_id)
    assert it.run_id in it.trace_url and str(project.id) in it.trace_url


def test_exception_is_recorded_and_reraised(ls_client) -> None:
    with (
        pytest.raises(ZeroDivisionError),
        interaction("agent", client=ls_client, project_name=PROJECT, enabled=True) as it,
        it.tool("divide", {"a": 1}),
    ):
        1 / 0  # noqa: B018
    runs = _runs(ls_client, it.run_id)
    assert "ZeroDivisionError" in runs["agent"].error and "ZeroDivisionError" in runs["divide"].error
    assert it.error.startswith("ZeroDivisionError")


def test_decorator_module_helpers_and_traceable_nest(ls_client) -> None:
    @traceable(run_type="retriever", name="lookup")
    def lookup(q: str) -> list[str]:
        return [q.upper()]

    @interaction("decorated", variant="A", model="gpt-4o", client=ls_client, project_name=PROJECT, enabled=True)
    def answer(question: str) -> str:
        it = current_interaction()
        assert it is not None
        with tool("search", {"q": question}):
            lookup(question)
        decision("tone", "formal")
        llm_call(input_tokens=10, output_tokens=10).end()
        answer.last = it  # type: ignore[attr-defined]
        return "done"

    assert answer("hi") == "done"
    it = answer.last  # type: ignore[attr-defined]
    runs = _runs(ls_client, it.run_id)
    assert runs["decorated"].inputs == {"question": "hi"} and runs["decorated"].outputs == {"output": "done"}
    assert runs["lookup"].parent_run_id == runs["search"].id  # @traceable nests under our tool span
    assert runs["gpt-4o"].extra["metadata"]["ls_model_name"] == "gpt-4o"
    assert current_interaction() is None


def test_backfill_with_explicit_times(ls_client) -> None:
    start = datetime.now(UTC) - timedelta(days=10)
    with interaction(
        "agent",
        client=ls_client,
        project_name=PROJECT,
        enabled=True,
        start_time=start,
        end_time=start + timedelta(milliseconds=1500),
    ) as it:
        it.llm("gpt-4o-mini", input_tokens=5, output_tokens=5, start_time=start, end_time=start + timedelta(seconds=1))
    assert it.latency_ms == 1500.0
    root = _runs(ls_client, it.run_id)["agent"]
    assert root.start_time == start and root.end_time == start + timedelta(milliseconds=1500)


def test_tracing_off_still_gives_a_row_shape() -> None:
    with interaction("agent", model="gpt-4o-mini", enabled=False) as it:
        it.llm(input_tokens=3, output_tokens=4).end()
    assert it.run_id and it.project_id is None and it.trace_url is None and it.tokens == 7

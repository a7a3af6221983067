"""Datasets, examples, few-shot search and annotation queues through the real ``langsmith`` SDK (0.15) against
the emulator: the calls a curation flow makes (a rated run becomes an example with a deterministic id, a run
goes to a reviewer's queue)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import langsmith
import pytest
from langsmith_fixtures import *  # noqa: F403  (fixtures: ls_sandbox, ls, client, bg_client)
from langsmith_fixtures import QUIET, make_client

from notion_feedback.sandbox.server import Sandbox, SandboxOptions

pytestmark = QUIET
NS = uuid.UUID("6f0c1d1e-5b0a-4c55-9d3c-1f3b2a4c5d6e")


def _eid(name: str) -> str:
    return str(uuid.uuid5(NS, name))


def _run(client: langsmith.Client, name: str = "answer") -> str:
    rid = str(uuid.uuid4())
    client.create_run(name, {"q": name}, "chain", id=rid, project_name="curation", start_time=datetime.now(UTC))
    return rid


def test_datasets_create_read_list_delete(client: langsmith.Client) -> None:
    made = client.create_dataset("qa", description="rated answers", metadata={"team": "support"})
    assert (made.name, made.description, made.data_type.value) == ("qa", "rated answers", "kv")
    assert made.metadata["team"] == "support"
    client.create_dataset("other", data_type=langsmith.schemas.DataType.chat)
    assert client.read_dataset(dataset_name="qa").id == made.id
    assert client.read_dataset(dataset_id=made.id).name == "qa"
    assert [d.name for d in client.list_datasets(dataset_name="qa")] == ["qa"]
    assert {d.name for d in client.list_datasets()} == {"qa", "other"}
    assert [d.name for d in client.list_datasets(metadata={"team": "support"})] == ["qa"]
    with pytest.raises(langsmith.utils.LangSmithConflictError):
        client.create_dataset("qa")
    assert client.has_dataset(dataset_name="qa") and not client.has_dataset(dataset_name="nope")
    client.delete_dataset(dataset_name="qa")
    assert not client.has_dataset(dataset_id=made.id)
    with pytest.raises(langsmith.utils.LangSmithNotFoundError):
        client.read_dataset(dataset_id=made.id)


def test_examples_with_deterministic_ids(client: langsmith.Client) -> None:
    ds = client.create_dataset("curated")
    rid = _run(client)
    first = {"id": _eid("a"), "inputs": {"q": "capital of France"}, "outputs": {"a": "Paris"}}
    first |= {"metadata": {"rating": 5}, "source_run_id": rid}
    second = {"id": _eid("b"), "inputs": {"q": "capital of Spain"}, "outputs": {"a": "Madrid"}}
    second |= {"metadata": {"rating": 2}}
    made = client.create_examples(dataset_id=ds.id, examples=[first, second])
    assert made["count"] == 2 and sorted(map(str, made["example_ids"])) == sorted([_eid("a"), _eid("b")])
    example = client.read_example(_eid("a"))
    assert str(example.source_run_id) == rid and example.outputs == {"a": "Paris"}
    assert example.dataset_id == ds.id and example.metadata == {"rating": 5}
    with pytest.raises(langsmith.utils.LangSmithConflictError):
        client.create_examples(dataset_id=ds.id, examples=[{**first, "outputs": {"a": "changed"}}])
    assert client.read_example(_eid("a")).outputs == {"a": "Paris"}
    assert client.read_dataset(dataset_id=ds.id).example_count == 2
    client.update_example(_eid("a"), outputs={"a": "Paris, France"})
    client.update_examples(dataset_id=ds.id, updates=[{"id": _eid("b"), "metadata": {"rating": 4}}])
    assert client.read_example(_eid("a")).outputs == {"a": "Paris, France"}
    assert client.read_example(_eid("a")).inputs == {"q": "capital of France"}  # left alone
    assert client.read_example(_eid("b")).metadata == {"rating": 4}
    listed = client.list_examples(dataset_id=ds.id, example_ids=[_eid("b")])
    assert [str(e.id) for e in listed] == [_eid("b")]
    assert [str(e.id) for e in client.list_examples(dataset_id=ds.id, metadata={"rating": 4})] == [_eid("b")]
    client.delete_example(_eid("a"))
    with pytest.raises(langsmith.utils.LangSmithNotFoundError):
        client.read_example(_eid("a"))
    client.delete_examples([_eid("b")])
    assert list(client.list_examples(dataset_id=ds.id)) == []


def test_list_examples_pages_as_the_sdk_asks(ls: Any, client: langsmith.Client) -> None:
    ds = client.create_dataset("big")
    ids = [_eid(f"n{i}") for i in range(130)]
    client.create_examples(dataset_id=ds.id, examples=[{"id": i, "inputs": {"n": k}} for k, i in enumerate(ids)])
    ls.control.exchanges.start()
    assert [str(e.id) for e in client.list_examples(dataset_id=ds.id)] == ids
    pages = [e.query for e in ls.control.exchanges.stop() if e.path.endswith("/examples")]
    assert len(pages) == 2  # 100, then 30 (fewer than the limit: the SDK stops)
    assert [str(e.id) for e in client.list_examples(dataset_id=ds.id, offset=125, limit=3)] == ids[125:128]


def _similar(ls: Any, dataset_id: str, inputs: dict[str, Any], limit: int) -> httpx.Response:
    """The 0.15 SDK has no method for few-shot search: the request the earlier ``similar_examples`` sent."""
    return httpx.post(
        f"{ls.base_url}/datasets/{dataset_id}/search",
        json={"inputs": inputs, "limit": limit},
        headers={"x-api-key": ls.api_key},
    )


def test_similarity_search_ranks_by_token_overlap(ls: Any, client: langsmith.Client) -> None:
    ds = client.create_dataset("few-shot")
    questions = {"far": "how tall is the eiffel tower", "near": "what is the capital of france", "mid": "france"}
    client.create_examples(
        dataset_id=ds.id, examples=[{"id": _eid(k), "inputs": {"question": q}} for k, q in questions.items()]
    )
    refused = _similar(ls, str(ds.id), {"question": "capital of france"}, 2)
    assert refused.status_code == 400 and "not indexed" in refused.json()["detail"]
    client.request_with_retries("POST", f"/datasets/{ds.id}/index", json={"tag": "latest"})
    found = _similar(ls, str(ds.id), {"question": "the capital of france"}, 2).json()["examples"]
    assert [e["id"] for e in found] == [_eid("near"), _eid("mid")]
    assert found[0]["score"] > found[1]["score"] > 0


async def _review(client: langsmith.Client, queue_id: str, runs: list[str]) -> dict[str, Any]:
    """The items API (``client.annotation_queues``, async in 0.15): add, list by status, complete one, count."""
    items = client.annotation_queues.items
    await items.create(queue_id, items=[{"run_id": runs[0]}, {"run_id": runs[0]}])
    todo = [i async for i in items.list(queue_id, status="needs_my_review")]
    await items.create_status(todo[0].id, status="completed")
    return {
        "todo": todo,
        "left": [i async for i in items.list(queue_id, status="needs_my_review")],
        "done": [i async for i in items.list(queue_id, status="archived")],
        "counts": [(await items.retrieve_count(queue_id, status=s)).count for s in ("all", "archived")],
        "size": (await client.annotation_queues.retrieve_size(queue_id)).size,
    }


def test_annotation_queue_review(client: langsmith.Client) -> None:
    runs = [_run(client, "one"), _run(client, "two")]
    rubric = [{"feedback_key": "correctness", "description": "Is it right?"}]
    queue = client.create_annotation_queue(
        name="review", description="d", rubric_instructions="Be fair", rubric_items=rubric
    )
    read = client.read_annotation_queue(queue.id)
    assert (read.name, read.rubric_instructions, read.rubric_items) == ("review", "Be fair", rubric)
    assert [q.id for q in client.list_annotation_queues(name="review")] == [queue.id]
    client.add_runs_to_annotation_queue(queue.id, run_ids=runs)
    client.add_runs_to_annotation_queue(queue.id, run_ids=runs)  # again: no duplicate
    seen = asyncio.run(_review(client, str(queue.id), runs))
    assert sorted(i.run_id for i in seen["todo"]) == sorted(runs)
    assert [i.run_id for i in seen["done"]] == [seen["todo"][0].run_id]
    assert [i.run_id for i in seen["left"]] == [seen["todo"][1].run_id]
    assert seen["done"][0].last_reviewed_time and seen["left"][0].last_reviewed_time is None
    assert seen["counts"] == [2, 1] and seen["size"] == 2


def test_datasets_and_queues_survive_a_restart(tmp_path: Path) -> None:
    opts = SandboxOptions(notion=False, rate_limit=False, data_dir=tmp_path)
    with Sandbox(opts) as sb:
        c = make_client(sb.langsmith, auto_batch_tracing=False)
        ds = c.create_dataset("kept")
        c.create_examples(dataset_id=ds.id, examples=[{"id": _eid("k"), "inputs": {"q": "x"}}])
        queue = c.create_annotation_queue(name="kept", rubric_instructions="r")
        c.add_runs_to_annotation_queue(queue.id, run_ids=[_run(c)])
    with Sandbox(opts) as sb:
        c = make_client(sb.langsmith, auto_batch_tracing=False)
        assert c.read_example(_eid("k")).dataset_id == ds.id
        assert c.read_annotation_queue(queue.id).rubric_instructions == "r"
        assert c.annotation_queues is not None
        assert httpx.get(
            f"{sb.langsmith.base_url}/annotation-queues/{queue.id}/size", headers={"x-api-key": sb.langsmith.api_key}
        ).json() == {"size": 1}


def test_annotation_queue_legacy_methods(client: langsmith.Client) -> None:
    """The sync (deprecated) queue methods: runs listed by status with their queue info, one at an index,
    reviewed through the run status route, removed; the queue updated and deleted."""
    runs = [_run(client, "one"), _run(client, "two")]
    queue = client.create_annotation_queue(name="legacy")
    client.update_annotation_queue(queue.id, name="legacy-2", rubric_instructions="Check the facts")
    assert client.read_annotation_queue(queue.id).rubric_instructions == "Check the facts"
    client.add_runs_to_annotation_queue(queue.id, run_ids=runs)
    listed = list(client.list_runs_from_annotation_queue(queue.id, status="needs_my_review"))
    assert [str(r.id) for r in listed] == runs and all(r.added_at for r in listed)
    assert str(client.get_run_from_annotation_queue(queue.id, index=1).id) == runs[1]
    raw = client.request_with_retries("GET", f"/annotation-queues/{queue.id}/runs").json()
    asyncio.run(client.annotation_queues.create_run_status(raw[0]["queue_run_id"], status="completed"))
    done = list(client.list_runs_from_annotation_queue(queue.id, status="completed"))
    assert [str(r.id) for r in done] == [runs[0]] and done[0].last_reviewed_time is not None
    client.delete_run_from_annotation_queue(queue.id, run_id=runs[1])
    assert [str(r.id) for r in client.list_runs_from_annotation_queue(queue.id)] == [runs[0]]
    with pytest.raises(langsmith.utils.LangSmithNotFoundError):
        client.get_run_from_annotation_queue(queue.id, index=0)  # nothing left to review
    client.delete_annotation_queue(queue.id)
    with pytest.raises(langsmith.utils.LangSmithNotFoundError):
        client.read_annotation_queue(queue.id)

"""A tour of every LangSmith route the emulator serves, through the real ``langsmith`` SDK where it has a method,
and the emulator's error answers. ``tests/sandbox/test_smith_models.py`` records both (and the product's own
flows, ``sdk_flows.product_flows``) and checks each exchange against the SDK's models."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import langsmith

from notion_feedback.testing import World


def _call(world: World, method: str, path: str, body: Any = None, **headers: str) -> httpx.Response:
    """One raw request, for the routes the SDK reaches only through ``request_with_retries`` and for errors."""
    client = world.langsmith
    sent = {"x-api-key": client.api_key or "", **headers}
    return httpx.request(method, f"{client.api_url}{path}", json=body, headers=sent, timeout=30)


def _runs(world: World, client: langsmith.Client) -> str:
    """Runs through every ingestion route: ``create_run``/``update_run``, batch and multipart ingestion."""
    project = world.settings.langsmith_project
    now = datetime.now(UTC)
    rid = str(uuid.uuid4())
    client.create_run("tour", {"q": "hi"}, "chain", id=rid, project_name=project, start_time=now)
    client.update_run(rid, outputs={"a": "hello"}, end_time=now + timedelta(seconds=1))
    world.batch_runs(2)
    other = str(uuid.uuid4())
    run = {"id": other, "trace_id": other, "dotted_order": f"{now:%Y%m%dT%H%M%S%fZ}{other}", "name": "mp"}
    client.multipart_ingest(
        create=[{**run, "run_type": "llm", "inputs": {}, "start_time": now, "session_name": project}]
    )
    client.flush()
    return rid


def _feedback(world: World, client: langsmith.Client, rid: str) -> None:
    """Feedback, its configs and presigned tokens, each through the SDK method the product would use."""
    key = "tour_rating"
    client.create_feedback_config(key, feedback_config={"type": "continuous", "min": 0, "max": 1})
    list(client.list_feedback_configs(feedback_key=[key]))
    client.update_feedback_config(key, is_lower_score_better=False)
    fb = client.create_feedback(rid, key, score=1, comment="tour", feedback_source_type="api", trace_id=rid)
    client.read_feedback(fb.id)
    list(client.list_feedback(run_ids=[rid], feedback_key=[key]))
    client.update_feedback(fb.id, score=0.5, comment="changed")
    client.delete_feedback(fb.id)
    token = client.create_presigned_feedback_token(rid, key)
    list(client.list_presigned_feedback_tokens(rid))
    client.create_feedback_from_token(token.id, score=1)
    _call(world, "GET", f"/feedback/tokens/{token.id}?score=0")
    client.delete_feedback_config(key)


def _reads(world: World, client: langsmith.Client, rid: str, project_id: str) -> None:
    """The read side: runs, their statistics, the dashboard, settings, the price map, an attachment."""
    client.read_run(rid)
    list(client.list_runs(project_id=project_id, is_root=True, limit=5))
    client.get_run_stats(project_ids=[project_id], is_root=True)
    _call(world, "POST", f"/sessions/{project_id}/dashboard", {"omit_data": True})
    _call(world, "POST", "/api/v2/runs/query", {"session": [project_id], "limit": 2})
    client._get_settings()
    _call(world, "GET", "/model-price-map")
    _call(world, "GET", f"/public/attachments/{rid}/none")


def _datasets(world: World, client: langsmith.Client, rid: str) -> None:
    """A dataset and its examples through the SDK (``/examples/bulk``, as /info has multipart examples off), and
    the few-shot routes, which 0.15 has no method for."""
    ds = client.create_dataset(f"tour-{uuid.uuid4().hex[:8]}", description="a tour", metadata={"k": "v"})
    client.read_dataset(dataset_name=ds.name)
    client.read_dataset(dataset_id=ds.id)
    list(client.list_datasets(dataset_name=ds.name))
    ids = [str(uuid.uuid5(ds.id, name)) for name in ("a", "b")]
    examples = [{"id": ids[0], "inputs": {"q": "capital of france"}, "outputs": {"a": "Paris"}, "source_run_id": rid}]
    examples.append({"id": ids[1], "inputs": {"q": "tallest tower"}, "metadata": {"rating": 2}, "split": "test"})
    client.create_examples(dataset_id=ds.id, examples=examples)
    client.read_example(ids[0])
    client.update_example(ids[0], outputs={"a": "Paris, France"}, dataset_id=ds.id)
    client.update_examples(dataset_id=ds.id, updates=[{"id": ids[1], "metadata": {"rating": 3}}])
    list(client.list_examples(dataset_id=ds.id, example_ids=ids, metadata={"rating": 3}, limit=5))
    _call(world, "POST", f"/datasets/{ds.id}/index", {"tag": "latest"})
    _call(world, "POST", f"/datasets/{ds.id}/search", {"inputs": {"q": "france"}, "limit": 1})
    extra = str(uuid.uuid4())
    client.create_examples(dataset_id=ds.id, examples=[{"id": extra, "inputs": {"q": "gone for good"}}])
    client.delete_examples([extra], hard_delete=True)
    client.delete_example(ids[0])
    client.delete_examples([ids[1]])
    client.delete_dataset(dataset_id=ds.id)


async def _review(client: langsmith.Client, queue_id: str, rid: str, queue_run_id: str) -> None:
    """The items API (``client.annotation_queues``, async in 0.15) and the legacy run status route."""
    items = client.annotation_queues.items
    await items.create(queue_id, items=[{"run_id": rid}])
    page = await items.list(queue_id, status="needs_my_review", page_size=5)
    await items.create_status(page.items[0].id or "", status="completed")
    await items.retrieve_count(queue_id, status="archived")
    await client.annotation_queues.retrieve_size(queue_id)
    await client.annotation_queues.create_run_status(queue_run_id, status="completed")


def _queues(client: langsmith.Client, rid: str) -> None:
    """An annotation queue with a rubric; a run added, listed, reviewed and removed; the queue deleted."""
    rubric = [{"feedback_key": "correctness", "description": "Is it right?", "is_required": True}]
    name = f"tour-{uuid.uuid4().hex[:8]}"
    queue = client.create_annotation_queue(name=name, rubric_instructions="r", rubric_items=rubric)
    client.read_annotation_queue(queue.id)
    list(client.list_annotation_queues(name=queue.name))
    client.update_annotation_queue(queue.id, description="a tour", rubric_items=rubric)
    client.add_runs_to_annotation_queue(queue.id, run_ids=[rid])
    (run,) = client.list_runs_from_annotation_queue(queue.id, status="needs_my_review")
    client.get_run_from_annotation_queue(queue.id, index=0)
    raw = client.request_with_retries("GET", f"/annotation-queues/{queue.id}/runs").json()
    asyncio.run(_review(client, str(queue.id), rid, raw[0]["queue_run_id"]))
    client.delete_run_from_annotation_queue(queue.id, run_id=run.id)
    client.delete_annotation_queue(queue.id)


def _charts(world: World, project_id: str) -> None:
    """A custom-charts section with a chart grouped by a metadata key: created, listed, read with its data (the
    chart alone too) and deleted. The Python SDK has no method for them: raw requests, as the product sends."""
    section = _call(world, "POST", "/charts/section", {"title": "tour", "description": "a tour"}).json()
    series = {
        "name": "traces",
        "metric": "run_count",
        "filters": {"session": [project_id], "filter": "eq(is_root, true)"},
        "group_by": {"attribute": "metadata", "path": "variant", "max_groups": 5},
    }
    overall = {"name": "p50", "metric": "latency_p50", "filters": {"session": [project_id]}}
    body = {"title": "Traces", "chart_type": "bar", "section_id": section["id"], "series": [series, overall]}
    chart = _call(world, "POST", "/charts/create", body).json()
    _call(world, "GET", "/charts/section?title_contains=tour")
    window = {"stride": {"days": 1}, "timezone": "UTC"}
    _call(world, "POST", f"/charts/section/{section['id']}", window)
    _call(world, "POST", "/charts", {"omit_data": True})
    _call(world, "POST", f"/charts/{chart['id']}", window)
    _call(world, "DELETE", f"/charts/{chart['id']}")
    _call(world, "DELETE", f"/charts/section/{section['id']}")


def smith_tour(world: World) -> None:
    """Each emulated LangSmith route, once or more."""
    client = world.langsmith
    client.info  # noqa: B018 - a property that reads GET /info
    rid = _runs(world, client)
    _feedback(world, client, rid)
    _reads(world, client, rid, world.project_id)
    _datasets(world, client, rid)
    _queues(client, rid)
    _charts(world, world.project_id)
    project = client.create_project(f"tour-{uuid.uuid4().hex[:8]}")
    client.read_project(project_id=str(project.id))
    list(client.list_projects(limit=5))
    client.update_project(project.id, description="a tour")
    client.delete_project(project_id=str(project.id))
    _call(world, "GET", "/feedback/formulas")


def smith_error_paths(world: World, sandbox: Any) -> list[int]:
    """What the emulator answers when a request is wrong: the statuses, in order."""
    unknown = str(uuid.uuid4())
    statuses = [
        _call(world, "GET", f"/feedback/{unknown}").status_code,  # 404
        _call(world, "GET", "/sessions", **{"x-api-key": "wrong"}).status_code,  # 401
        _call(world, "POST", "/feedback", {"key": "k"}).status_code,  # 422: no run
        _call(world, "POST", "/feedback/formulas", {}).status_code,  # 410
    ]
    control = sandbox.langsmith.control
    control.faults = type(control.faults).from_json({"status": {"503": 1.0}})
    statuses.append(_call(world, "GET", "/info").status_code)
    control.faults = type(control.faults).from_json({})
    return statuses

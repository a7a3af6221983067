"""Shared by the report tests: interactions traced with the real LangSmith SDK, with known numbers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import langsmith
from langsmith.run_trees import RunTree

from notion_feedback.config import Settings


@dataclass
class Interaction:
    start: datetime
    latency_s: float
    tokens: int
    cost: float
    variant: str = "A"
    model: str = "gpt-4o-mini"
    user: str = "u1"
    rating: float | None = None
    error: bool = False


def sdk_client(settings: Settings) -> langsmith.Client:
    return langsmith.Client(
        api_url=settings.langsmith_endpoint,
        api_key=settings.langsmith_api_key.get_secret_value(),  # type: ignore[union-attr]
        auto_batch_tracing=False,
    )


def trace(
    settings: Settings, interactions: list[Interaction], rating_key: str = "user_rating", *, labels: bool = False
) -> str:
    """Trace each interaction as an agent (chain) run with one LLM child, rate it; returns the project id.

    ``labels`` rates as the sync does (the option as the feedback's value); otherwise scores only."""
    client = sdk_client(settings)
    rated = []
    for it in interactions:
        meta = {"variant": it.variant, "model": it.model, "user_id": it.user}
        root = RunTree(
            name="agent",
            run_type="chain",
            inputs={"question": "q"},
            project_name=settings.langsmith_project,
            client=client,
            start_time=it.start,
            extra={"metadata": meta},
        )
        root.post()
        llm = root.create_child(
            name="llm",
            run_type="llm",
            start_time=it.start + timedelta(milliseconds=10),
            extra={"metadata": {**meta, "ls_model_name": it.model, "ls_provider": "openai"}},
        )
        llm.post()
        usage = {"input_tokens": it.tokens - 50, "output_tokens": 50, "total_tokens": it.tokens, "total_cost": it.cost}
        llm.end(outputs={"usage_metadata": usage}, end_time=it.start + timedelta(seconds=it.latency_s * 0.9))
        llm.patch()
        root.end(
            outputs=None if it.error else {"answer": "a"},
            error="boom" if it.error else None,
            end_time=it.start + timedelta(seconds=it.latency_s),
        )
        root.patch()
        if it.rating is not None:
            rated.append((root.id, it.rating))
    project_id = str(client.read_project(project_name=settings.langsmith_project).id)
    for run_id, score in rated:
        value = f"{score:g}" if labels else None
        client.create_feedback(run_id, rating_key, score=score, value=value, session_id=project_id)
    return project_id

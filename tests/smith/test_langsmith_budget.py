"""The LangSmith client's budgets: documented per-endpoint limits within one overall cap, shared per process."""

from __future__ import annotations

import time

from notion_feedback.config import Settings
from notion_feedback.smith.client import make_langsmith_client, observe_rate_limit_waits, request_counts
from notion_feedback.smith.limits import EndpointLimiters, shared_limiters


def test_each_endpoint_has_its_documented_budget() -> None:
    limiters = EndpointLimiters(Settings(_env_file=None, langsmith_stats_per_10s=1))
    names = lambda method, path: [lim.name for lim in limiters.for_request(method, path)]  # noqa: E731
    assert names("POST", "/runs/stats") == ["runs_stats", "langsmith"]
    assert names("POST", "/api/v1/runs/query") == ["runs_query", "langsmith"]
    assert names("POST", "/feedback") == ["feedback", "langsmith"]
    assert names("PATCH", "/feedback/0b6b2c0e-8a0d-4a51-9a4e-6c3a9d1f2e11") == ["langsmith"]
    assert names("GET", "/runs/0b6b2c0e-8a0d-4a51-9a4e-6c3a9d1f2e11") == ["runs_read", "langsmith"]
    stats = limiters.limiters["runs_stats"]
    assert stats.try_acquire() and not stats.try_acquire()  # 1 per 10 s: the second call waits


def test_the_budget_is_shared_by_every_client_of_the_process() -> None:
    settings = Settings(_env_file=None, langsmith_api_key="lsv2_test_abcdefghijklmnop", langsmith_stats_per_10s=3)
    assert shared_limiters(settings) is shared_limiters(settings.model_copy())


def test_stats_calls_wait_for_their_window(sandbox, settings) -> None:
    slow = settings.model_copy(update={"langsmith_stats_per_10s": 20.0})  # 2/s, burst 20
    client = make_langsmith_client(slow)
    project = client.create_project("budget-test")
    limiter = shared_limiters(slow).limiters["runs_stats"]
    while limiter.try_acquire():  # spend the burst
        pass
    start = time.monotonic()
    client.get_run_stats(project_ids=[project.id])
    assert time.monotonic() - start >= 0.3  # waited for the next token (0.5 s at 2/s)
    assert request_counts(client)["POST"] >= 1


def test_a_wait_for_the_budget_is_told_to_the_observer_then_its_end(sandbox, settings) -> None:
    """What a progress line shows: "waiting N s" when a request waits for the budget, then that it went on."""
    slow = settings.model_copy(update={"langsmith_stats_per_10s": 8.0})  # 0.8/s: the next token in 1.25 s
    client = make_langsmith_client(slow)
    project = client.create_project("budget-wait-test")
    heard: list[float] = []
    observe_rate_limit_waits(client, heard.append)
    limiter = shared_limiters(slow).limiters["runs_stats"]
    while limiter.try_acquire():  # spend the burst
        pass
    client.get_run_stats(project_ids=[project.id])
    assert heard and 1.0 <= heard[0] <= 1.3 and heard[-1] == 0.0, heard
    observe_rate_limit_waits(client, None)
    while limiter.try_acquire():
        pass
    client.get_run_stats(project_ids=[project.id])
    assert heard[-1] == 0.0 and len([s for s in heard if s]) == 1, "no observer, nothing heard"

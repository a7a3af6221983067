"""The sync under failure: a crash between effects, 5xx/429/529 from both services, and the 10,000-row query cap."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from notion_feedback.sandbox.control import FaultPlan
from notion_feedback.smith import feedback as fb
from notion_feedback.sync.engine import run_sync
from notion_feedback.sync.retry import SyncIncompleteError
from notion_feedback.testing import World, make_world


@pytest.fixture()
def world(sandbox, settings) -> World:
    return make_world(sandbox, settings)


def bulk_rows(sandbox, world: World, runs: list[str], n: int, rng: random.Random) -> list[str]:
    rows = [world.row_properties(runs.pop(), rating=str(rng.randint(1, 5))) for _ in range(n)]
    return sandbox.notion.bulk_create_pages(world.ds_id, rows, as_person=True)


def test_crash_after_an_effect_then_rerun_is_exactly_once(world: World, sandbox, monkeypatch) -> None:
    runs = world.batch_runs(250)
    bulk_rows(sandbox, world, runs, 250, random.Random(1))
    real = fb.create_or_update
    calls = {"n": 0}

    def crashing(*args: Any, **kwargs: Any) -> str:
        result = real(*args, **kwargs)  # the feedback is written in LangSmith ...
        calls["n"] += 1
        if calls["n"] == 130:
            raise KeyboardInterrupt("killed")  # ... and the process dies before recording it
        return result

    monkeypatch.setattr(fb, "create_or_update", crashing)
    with pytest.raises(KeyboardInterrupt):
        run_sync(world.settings)
    monkeypatch.setattr(fb, "create_or_update", real)
    # The first page (rows 1-100) was recorded. The second page's writes run concurrently: the 130th and the
    # others in flight reached LangSmith, but none of that page was recorded before the crash.
    written = len(world.feedback())
    assert 130 <= written <= 200
    s = run_sync(world.settings)
    # The first page costs nothing. The second page's rows were written ahead as intents: each is read back from
    # LangSmith (one GET), those that reached it are found exact and left alone, the others are created.
    assert s.updated == 0
    assert s.created == 150 - (written - 100)
    assert s.unchanged == 100 + (written - 100)
    assert world.feedback() == world.expected_feedback()
    assert run_sync(world.settings).langsmith_requests == 0


def _sync_until_done(settings: Any, limit: int = 30) -> int:
    for attempt in range(1, limit + 1):
        try:
            run_sync(settings)
            return attempt
        except SyncIncompleteError:
            continue
    raise AssertionError("the sync never completed")


def test_faults_on_both_services_lose_and_duplicate_nothing(world: World, sandbox) -> None:
    rng = random.Random(7)
    runs = world.batch_runs(120)
    pages = bulk_rows(sandbox, world, runs, 120, rng)
    plan = {"status": {"500": 0.06, "502": 0.05, "503": 0.05, "529": 0.04}, "after_effect": 0.4, "seed": 3}
    sandbox.notion.control.faults = FaultPlan.from_json(plan)
    sandbox.langsmith.control.faults = FaultPlan.from_json(plan | {"seed": 4})
    _sync_until_done(world.settings)
    for page in rng.sample(pages, 40):  # people change and clear ratings while the services misbehave
        choice = rng.choice([None, "1", "2", "3", "4", "5"])
        world.edit(page, rating=choice, comment=rng.choice([None, "meh", "great"]))
    _sync_until_done(world.settings)
    sandbox.notion.control.faults = FaultPlan()
    sandbox.langsmith.control.faults = FaultPlan()
    assert sandbox.langsmith.control.count("", status=502) > 0  # faults really happened
    assert world.feedback() == world.expected_feedback()


def test_a_storm_of_429_is_waited_out(world: World, sandbox) -> None:
    runs = world.batch_runs(10)
    bulk_rows(sandbox, world, runs, 10, random.Random(2))
    sandbox.notion.control.faults = FaultPlan.from_json({"storm_seconds": 2})
    sandbox.langsmith.control.faults = FaultPlan.from_json({"storm_seconds": 2})
    s = run_sync(world.settings)
    assert s.created == 10 and sandbox.notion.control.count("", status=429) > 0
    assert world.feedback() == world.expected_feedback()


@pytest.mark.slow
def test_more_rows_than_one_query_returns(world: World, sandbox) -> None:
    """10,000 is Notion's per-query cap: the reader continues from the last timestamp, even in a crowded minute."""
    clock = sandbox.notion.control.clock
    clock.set(datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=2), frozen=True)
    runs = world.batch_runs(10_500)
    rng = random.Random(5)
    pages = bulk_rows(sandbox, world, runs, 6_000, rng)
    clock.advance(60)
    pages += bulk_rows(sandbox, world, runs, 4_500, rng)  # 10,500 rows in two minutes, 4,500 in the last one
    first = run_sync(world.settings)
    assert first.created == 10_500 and first.rows_seen == 10_500
    assert len(world.feedback()) == 10_500
    clock.set(None)


def test_a_lost_create_answer_then_a_cleared_rating_leaves_no_orphan(world: World, sandbox, monkeypatch) -> None:
    run = world.trace_runs(1)[0]
    monkeypatch.setattr("time.sleep", lambda _s: None)  # retries against a service that always fails: no waiting
    page = world.add_row(run, rating="5")
    # LangSmith creates the feedback but the answer is lost, every time: the pass gives up on this row.
    sandbox.langsmith.control.faults = FaultPlan.from_json({"status": {"502": 1.0}, "after_effect": 1.0})
    with pytest.raises(SyncIncompleteError):
        run_sync(world.settings)
    sandbox.langsmith.control.faults = FaultPlan()
    assert world.fid(page) in world.feedback()  # it exists, though the sync never heard so
    world.edit(page, rating=None)  # the person clears the rating before the next pass
    s = run_sync(world.settings)
    assert world.feedback() == {} and s.removed == 1


def test_an_unsent_create_then_a_cleared_rating_counts_nothing_removed(world: World, sandbox, monkeypatch) -> None:
    run = world.trace_runs(1)[0]
    monkeypatch.setattr("time.sleep", lambda _s: None)
    page = world.add_row(run, rating="5")
    sandbox.langsmith.control.faults = FaultPlan.from_json({"status": {"503": 1.0}})  # refused before any effect
    with pytest.raises(SyncIncompleteError):
        run_sync(world.settings)
    sandbox.langsmith.control.faults = FaultPlan()
    world.edit(page, rating=None)
    s = run_sync(world.settings)
    assert world.feedback() == {} and s.removed == 0
    assert run_sync(world.settings).langsmith_requests == 0  # settled: nothing more to check

"""Few-shot examples: the most similar high-rated past interactions, from memory, never waiting for LangSmith."""

from __future__ import annotations

import threading
import time

import pytest

from notion_feedback.learn import FewShotExamples, run_learn
from notion_feedback.learn.fewshot import ExampleIndex, Pair, pair_of
from notion_feedback.sync.engine import run_sync
from notion_feedback.testing import World, make_world

PAIRS = [
    Pair("How do I get a refund for order 1234?", "Refunds: Settings → Orders → Refund.", "5", "r1"),
    Pair("Refund for a damaged parcel", "We refund damaged parcels within 3 days.", "5", "r2"),
    Pair("Where is my order?", "Track it under Orders.", "5", "r3"),
    Pair("Can I change my order's delivery address?", "Yes, until it ships.", "5", "r4"),
    Pair("What are your opening hours?", "9 to 5, Monday to Friday.", "5", "r5"),
]


def test_rare_words_weigh_more_than_common_ones() -> None:
    index = ExampleIndex(PAIRS)
    found = index.search("refund my order please", k=3)
    assert found[0].run_id == "r1"  # both words
    assert found[0].similarity > found[1].similarity > found[2].similarity > 0
    assert found[0].answer.startswith("Refunds") and found[0].rating == "5"
    assert index.search("damaged order", k=1)[0].run_id == "r2"  # "damaged" is in one question, "order" in three


def test_fewer_than_k_when_fewer_match_and_none_for_nothing_in_common() -> None:
    index = ExampleIndex(PAIRS)
    assert [f.run_id for f in index.search("opening hours", k=3)] == ["r5"]
    assert index.search("zzz qqq", k=3) == [] and index.search("", k=3) == []
    assert ExampleIndex([]).search("refund", k=3) == []


def test_ties_are_broken_the_same_way_every_time() -> None:
    twins = [Pair("refund", "a", None, "x"), Pair("refund", "b", None, "y")]
    assert [f.run_id for f in ExampleIndex(twins).search("refund", k=2)] == ["x", "y"]


def test_a_huge_question_costs_what_a_long_one_does() -> None:
    index = ExampleIndex(PAIRS * 200)
    started = time.perf_counter()
    index.search("refund " * 1_000_000, k=3)
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(
    ("inputs", "outputs", "question"),
    [
        ({"question": "q?"}, {"answer": "a"}, "q?"),
        ({"messages": [{"role": "user", "content": "hi?"}]}, {"output": "hello"}, "hi?"),
        ({"other": 3}, {"answer": "a"}, None),
    ],
)
def test_question_and_answer_are_found_in_the_usual_shapes(inputs, outputs, question) -> None:
    pair = pair_of(inputs, outputs, {"rating": "5"}, "r")
    assert (pair.question if pair else None) == question


@pytest.fixture()
def world(sandbox, settings) -> World:
    return make_world(sandbox, settings)


def test_the_agent_gets_examples_from_the_high_rated_dataset(world: World) -> None:
    runs = world.trace_runs(6)  # inputs {"question": "q0"}…, outputs {"answer": "a0"}…
    for run, rating in zip(runs, ["5", "5", "5", "1", "3", "5"], strict=True):
        world.add_row(run, rating=rating)
    run_sync(world.settings)
    run_learn(world.settings)
    source = FewShotExamples(world.settings, refresh_seconds=3600)
    assert source.wait_ready(30) and source.last_error is None
    assert len(source.pairs) == 4
    found = source.examples("q2", k=3)
    assert found[0].question == "q2" and found[0].answer == "a2" and found[0].run_id == runs[2]
    source.close()


def test_the_agent_never_waits_for_langsmith(world: World, sandbox) -> None:
    run = world.trace_runs(1)[0]
    world.add_row(run, rating="5")
    run_sync(world.settings)
    run_learn(world.settings)
    control = sandbox.langsmith.control
    control.faults = type(control.faults).from_json({"latency_ms": 1500})
    source = FewShotExamples(world.settings, refresh_seconds=3600)
    started = time.perf_counter()
    assert source.examples("q0", k=3) == []  # the load has only begun
    assert time.perf_counter() - started < 0.05
    assert source.wait_ready(60)
    control.faults = type(control.faults).from_json({})
    assert [f.run_id for f in source.examples("q0", k=3)] == [run]
    source.close()


def test_an_unreachable_langsmith_leaves_the_copy_and_says_why(world: World, sandbox) -> None:
    run = world.trace_runs(1)[0]
    world.add_row(run, rating="5")
    run_sync(world.settings)
    run_learn(world.settings)
    source = FewShotExamples(world.settings, refresh_seconds=3600)
    assert source.wait_ready(30)
    control = sandbox.langsmith.control
    control.faults = type(control.faults).from_json({"status": {"401": 1.0}})
    with pytest.raises(Exception):  # noqa: B017 - whichever error the adapter raises, the copy must stay
        source.refresh()
    control.faults = type(control.faults).from_json({})
    assert [f.run_id for f in source.examples("q0")] == [run]
    searches = [threading.Thread(target=source.examples, args=("q0",)) for _ in range(8)]
    for t in searches:
        t.start()
    source.refresh()  # a swap while agents search
    for t in searches:
        t.join()
    source.close()


def _indexed_world(world: World) -> list[str]:
    runs = world.trace_runs(3)
    for run in runs:
        world.add_row(run, rating="5")
    run_sync(world.settings)
    run_learn(world.settings)
    high = world.langsmith.read_dataset(dataset_name=world.settings.dataset_name("high"))
    response = world.langsmith.request_with_retries("POST", f"/datasets/{high.id}/index", json={"tag": "latest"})
    response.raise_for_status()
    return runs


def test_langsmith_s_own_search_answers_when_offered_and_asked_to_wait(world: World, sandbox) -> None:
    runs = _indexed_world(world)
    source = FewShotExamples(world.settings, refresh_seconds=3600)
    assert source.wait_ready(30) and source.server_search
    before = sandbox.langsmith.control.count("POST /datasets/{id}/search")
    found = source.examples("q1", k=2, wait=5.0)
    assert sandbox.langsmith.control.count("POST /datasets/{id}/search") == before + 1
    assert found[0].run_id == runs[1] and found[0].answer == "a1"
    assert source.examples("q1", k=2) and sandbox.langsmith.control.count("POST /datasets/{id}/search") == before + 1
    source.close()


def test_a_slow_search_gives_way_to_the_copy_within_the_wait(world: World, sandbox) -> None:
    runs = _indexed_world(world)
    source = FewShotExamples(world.settings, refresh_seconds=3600)
    assert source.wait_ready(30)
    control = sandbox.langsmith.control
    control.faults = type(control.faults).from_json({"latency_ms": 2000})
    started = time.perf_counter()
    found = source.examples("q2", k=1, wait=0.2)
    assert time.perf_counter() - started < 0.6 and found[0].run_id == runs[2]  # the copy's answer
    control.faults = type(control.faults).from_json({})
    source.close()


def test_an_unindexed_dataset_is_never_searched_on_the_server(world: World) -> None:
    run = world.trace_runs(1)[0]
    world.add_row(run, rating="5")
    run_sync(world.settings)
    run_learn(world.settings)
    source = FewShotExamples(world.settings, refresh_seconds=3600)
    assert source.wait_ready(30) and source.server_search is None
    assert [f.run_id for f in source.examples("q0", wait=1.0)] == [run]
    source.close()

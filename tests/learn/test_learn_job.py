"""The datasets follow the ratings exactly: run for run, through re-rating, clearing, deletion, faults and kills.

Every check compares the datasets with the Feedback rows themselves (Notion is the truth): the low-rated dataset
holds exactly the runs rated low, the high-rated one exactly the runs rated high, one example each, with the
rating and comment the row shows.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter

import pytest
from cli_support import set_cli_env

from notion_feedback.learn import run_learn
from notion_feedback.learn.plan import HIGH, LOW, SOURCE
from notion_feedback.smith.datasets import example_id
from notion_feedback.sync.engine import run_sync
from notion_feedback.testing import World, make_world


@pytest.fixture()
def world(sandbox, settings) -> World:
    return make_world(sandbox, settings)


def _expected(world: World) -> dict[str, dict[str, tuple[float, str | None]]]:
    """What the rows call for: {kind: {run_id: (score, comment)}} on the default 1-5 thresholds."""
    out: dict[str, dict[str, tuple[float, str | None]]] = {LOW: {}, HIGH: {}}
    for want in world.expected_feedback().values():
        kind = LOW if want["score"] <= 2 else HIGH if want["score"] >= 5 else None
        if kind:
            out[kind][want["run_id"]] = (want["score"], want["comment"])
    return out


def _held(world: World) -> dict[str, dict[str, tuple[float, str | None]]]:
    """What the datasets hold, failing on a duplicate run or an example under a foreign id."""
    out: dict[str, dict[str, tuple[float, str | None]]] = {}
    for kind in (LOW, HIGH):
        client = world.langsmith
        name = world.settings.dataset_name(kind)
        if not client.has_dataset(dataset_name=name):
            out[kind] = {}
            continue
        dataset = client.read_dataset(dataset_name=name)
        examples = [e for e in client.list_examples(dataset_id=dataset.id) if (e.metadata or {}).get("source")]
        runs = Counter(str(e.source_run_id) for e in examples)
        assert [r for r, n in runs.items() if n > 1] == [], f"duplicated examples in {name}"
        for e in examples:
            assert str(e.id) == example_id(str(e.source_run_id), str(dataset.id))
        out[kind] = {str(e.source_run_id): (e.metadata["score"], e.metadata["comment"]) for e in examples}
    return out


def _converged(world: World) -> None:
    assert _held(world) == _expected(world)


def _rated_rows(world: World, ratings: list[str | None], comment: str | None = None) -> list[str]:
    runs = world.trace_runs(len(ratings))
    return [world.add_row(run, rating=r, comment=comment) for run, r in zip(runs, ratings, strict=True)]


def test_the_datasets_hold_exactly_the_runs_rated_that_way(world: World) -> None:
    pages = _rated_rows(world, ["1", "2", "3", "4", "5", "5", None], comment="too slow")
    run_sync(world.settings)
    result = run_learn(world.settings)
    assert (result.datasets[LOW].created, result.datasets[HIGH].created) == (2, 2)
    _converged(world)
    low = world.langsmith.read_dataset(dataset_name=world.settings.dataset_name(LOW))
    example = next(iter(world.langsmith.list_examples(dataset_id=low.id)))
    assert example.inputs == {"question": f"q{example.inputs['question'][1:]}"}  # the run's own inputs
    assert example.outputs and "answer" in example.outputs
    assert example.metadata["rating"] in ("1", "2") and example.metadata["source"] == SOURCE
    assert example.metadata["notion_url"].startswith("https://")
    again = run_learn(world.settings)
    assert sum(r.created + r.updated + r.deleted for r in again.datasets.values()) == 0
    assert len(pages) == 7


def test_re_rating_clearing_and_deleting_rows_move_and_remove_examples(world: World) -> None:
    pages = _rated_rows(world, ["1", "2", "5", "5", "1"])
    run_sync(world.settings)
    run_learn(world.settings)
    world.edit(pages[0], rating="5")  # low -> high
    world.edit(pages[2], rating="3")  # high -> neither
    world.edit(pages[1], comment="it never answered")  # the comment changes the example's metadata
    world.edit(pages[3], rating=None)  # cleared
    world.trash(pages[4])  # deleted: the verification pass removes its feedback
    run_sync(world.settings)
    run_sync(world.settings, full=True)
    result = run_learn(world.settings)
    assert result.datasets[LOW].updated == 1
    _converged(world)
    assert _held(world)[LOW][world.run_id_of(world.page(pages[1]))][1] == "it never answered"


def test_a_dry_run_writes_and_creates_nothing(world: World) -> None:
    _rated_rows(world, ["1", "5"], comment="wrong")
    run_sync(world.settings)
    result = run_learn(world.settings, dry_run=True)  # the datasets init made stay empty
    assert (result.datasets[LOW].created, result.review.added) == (1, 1)
    assert _held(world) == {LOW: {}, HIGH: {}}
    for kind in (LOW, HIGH):
        world.langsmith.delete_dataset(dataset_name=world.settings.dataset_name(kind))
    result = run_learn(world.settings, dry_run=True)
    assert result.datasets[LOW].created == 1 and result.datasets[LOW].dataset_id is None
    assert not world.langsmith.has_dataset(dataset_name=world.settings.dataset_name(LOW))


def test_a_teams_own_examples_are_left_alone(world: World) -> None:
    _rated_rows(world, ["1"])
    run_sync(world.settings)
    run_learn(world.settings)
    low = world.langsmith.read_dataset(dataset_name=world.settings.dataset_name(LOW))
    mine = str(uuid.uuid4())
    world.langsmith.create_examples(dataset_id=low.id, examples=[{"id": mine, "inputs": {"q": "added by hand"}}])
    run_learn(world.settings)
    assert mine in {str(e.id) for e in world.langsmith.list_examples(dataset_id=low.id)}


def test_what_the_recorder_redacts_never_reaches_a_dataset(world: World) -> None:
    from langsmith.run_trees import RunTree

    run = RunTree(
        name="agent",
        run_type="chain",
        inputs={"question": "my mail is ann@example.com, call +44 20 7946 0958"},
        project_name=world.settings.langsmith_project,
        ls_client=world.langsmith,
    )
    run.post()
    run.end(outputs={"answer": "sent to ann@example.com"})
    run.patch()
    world.add_row(str(run.id), rating="1")
    run_sync(world.settings)
    run_learn(world.settings)
    low = world.langsmith.read_dataset(dataset_name=world.settings.dataset_name(LOW))
    (example,) = list(world.langsmith.list_examples(dataset_id=low.id))
    assert "ann@example.com" not in str(example.inputs) + str(example.outputs)
    assert "[email]" in example.inputs["question"] and "[phone]" in example.inputs["question"]


def test_the_datasets_converge_under_faults(world: World, sandbox) -> None:
    rng = random.Random(7)
    pages = _rated_rows(world, [rng.choice(["1", "2", "3", "5"]) for _ in range(40)])
    run_sync(world.settings)
    control = sandbox.langsmith.control
    for _ in range(3):
        for page in rng.sample(pages, 10):
            world.edit(page, rating=rng.choice(["1", "2", "3", "4", "5", None]))
        run_sync(world.settings)
        plan = {"status": {"503": 0.15, "500": 0.05}, "after_effect": 0.5, "seed": 3}  # 20 %, half after the effect
        control.faults = type(control.faults).from_json(plan)
        failures = 0
        for _ in range(30):
            try:
                run_learn(world.settings)
                break
            except Exception:  # noqa: BLE001 - a pass that met a fault; the next one finishes it
                failures += 1
        control.faults = type(control.faults).from_json({})
        assert failures < 30
        run_learn(world.settings)
        _converged(world)


def _examples_state(sandbox) -> dict[str, str | None]:  # type: ignore[no-untyped-def]
    return {eid: doc.get("modified_at") for eid, doc in list(sandbox.langsmith.store.examples.items())}


def test_the_datasets_converge_after_sigkill(world: World, sandbox, tmp_path) -> None:
    """Passes SIGKILLed in another process just after one of their writes landed, then one that finishes:
    0 missing, 0 stale, 0 duplicated."""
    pages = _rated_rows(world, ["1", "5"] * 60)
    run_sync(world.settings)
    mp = pytest.MonkeyPatch()
    env = dict(os.environ) | set_cli_env(world.settings, sandbox, mp, world.ds_id, "")
    mp.undo()
    control = sandbox.langsmith.control
    rng = random.Random(11)
    cut_short = []
    for _ in range(3):
        for page in rng.sample(pages, 15):
            world.edit(page, rating=rng.choice(["1", "2", "5", None]))
        run_sync(world.settings)
        control.faults = type(control.faults).from_json({"latency_ms": 200})  # time to kill between two writes
        before = _examples_state(sandbox)
        cmd = [sys.executable, "-m", "notion_feedback.cli.app", "learn"]
        proc = subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while proc.poll() is None and _examples_state(sandbox) == before and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        control.faults = type(control.faults).from_json({})
        cut_short.append(_held(world) != _expected(world))
    assert any(cut_short), "every pass finished before it was killed: the test proves nothing"
    run_learn(world.settings)
    _converged(world)


def test_a_pass_that_lost_its_lease_writes_nothing_more(world: World, sandbox, monkeypatch) -> None:
    """A daemon whose lease moved (frozen, then resumed) stops before the next batch of examples."""
    from datetime import timedelta

    from notion_feedback.daemon.lease import Lease
    from notion_feedback.daemon.lease import LeaseFence as Fence
    from notion_feedback.errors import LeaseLostError
    from notion_feedback.fencing import fenced
    from notion_feedback.smith import datasets as ds
    from notion_feedback.state import open_state, utcnow

    _rated_rows(world, ["1", "5"] * 3)
    run_sync(world.settings)
    engine = open_state(world.settings.resolved_state_url)
    assert Lease(engine, 30, holder="frozen-leader").acquire()
    real = ds.create_examples

    def create_then_lease_moves(*args, **kwargs):  # type: ignore[no-untyped-def]
        real(*args, **kwargs)
        later = utcnow() + timedelta(seconds=60)
        assert Lease(engine, 30, holder="new-leader", clock=lambda: later).acquire()

    monkeypatch.setattr(ds, "create_examples", create_then_lease_moves)
    with fenced(Fence(engine, "frozen-leader")), pytest.raises(LeaseLostError):
        run_learn(world.settings)
    held = _held(world)
    assert (len(held[LOW]), len(held[HIGH])) == (3, 0), "the high-rated batch was never sent"

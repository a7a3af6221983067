"""Exactness through lost answers: an update or delete that took effect but whose answer never came back leaves
no stale feedback, even when the person then sets the row back to the value the store last confirmed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from notion_feedback.notion.schema import SYNC_ERROR
from notion_feedback.smith import feedback as fb
from notion_feedback.sync.engine import run_sync
from notion_feedback.testing import World, make_world


@pytest.fixture()
def world(sandbox, settings) -> World:
    return make_world(sandbox, settings)


def _lose_answer(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """The next ``fb.<name>`` reaches LangSmith, then the process dies before it hears back."""
    real = getattr(fb, name)

    def effect_then_die(*args: Any, **kwargs: Any) -> Any:
        real(*args, **kwargs)
        monkeypatch.setattr(fb, name, real)
        raise KeyboardInterrupt("killed after the effect")

    monkeypatch.setattr(fb, name, effect_then_die)


def test_lost_update_answer_then_revert_to_the_stored_value(world: World, monkeypatch) -> None:
    page = world.add_row(world.trace_runs(1)[0], rating="5")
    run_sync(world.settings)
    world.edit(page, rating="2")
    _lose_answer(monkeypatch, "update")
    with pytest.raises(KeyboardInterrupt):
        run_sync(world.settings)
    assert world.feedback()[world.fid(page)]["score"] == 2.0  # the effect happened; the store never heard
    world.edit(page, rating="5")  # back to what the store last confirmed
    run_sync(world.settings)
    assert world.feedback() == world.expected_feedback()
    assert world.feedback()[world.fid(page)]["score"] == 5.0


def test_lost_delete_answer_then_re_rate_with_the_old_value(world: World, monkeypatch) -> None:
    page = world.add_row(world.trace_runs(1)[0], rating="3", comment="fine")
    run_sync(world.settings)
    world.edit(page, rating=None)
    _lose_answer(monkeypatch, "remove")
    with pytest.raises(KeyboardInterrupt):
        run_sync(world.settings)
    assert world.feedback() == {}
    world.edit(page, rating="3")
    run_sync(world.settings)
    assert (
        world.feedback()
        == world.expected_feedback()
        == {world.fid(page): {"run_id": world.feedback()[world.fid(page)]["run_id"], "score": 3.0, "comment": "fine"}}
    )


def test_an_unknown_outcome_is_read_back_once_then_nothing_is_sent(world: World, monkeypatch) -> None:
    page = world.add_row(world.trace_runs(1)[0], rating="4")
    run_sync(world.settings)
    world.edit(page, rating="1")
    _lose_answer(monkeypatch, "update")
    with pytest.raises(KeyboardInterrupt):
        run_sync(world.settings)
    s = run_sync(world.settings)
    assert (s.created, s.updated, s.unchanged) == (0, 0, 1)
    assert s.langsmith_requests == 1  # one GET settles it: LangSmith already holds 1
    assert run_sync(world.settings).langsmith_requests == 0


def test_two_rows_on_one_run_make_one_feedback_and_the_second_row_says_why(world: World, monkeypatch) -> None:
    monkeypatch.setattr("notion_feedback.sync.engine.MAX_RETRY_DELAY", timedelta(0))  # retries fall due at once
    run = world.trace_runs(1)[0]
    first = world.add_row(run, rating="5")
    run_sync(world.settings)
    second = world.add_row(run, rating="1")
    s = run_sync(world.settings)
    assert s.errors == 1 and list(world.feedback()) == [world.fid(first)]
    status, error = world.shown(second)
    assert status == SYNC_ERROR and "Another row already rates" in error and first.replace("-", "") in error
    world.edit(first, rating=None)  # the person clears the first row: the second one goes through by itself
    run_sync(world.settings)
    assert world.feedback() == {world.fid(second): {"run_id": run, "score": 1.0, "comment": None}}


def test_a_malformed_run_id_is_never_sent_and_the_full_pass_goes_on(world: World, sandbox) -> None:
    healthy = world.add_row(world.trace_runs(1)[0], rating="4")
    bad = world.add_row("run 42 <b>x</b>", rating="2")
    run_sync(world.settings)
    before = sandbox.langsmith.control.count("", status=422)
    s = run_sync(world.settings, full=True)
    assert s.errors == 1 and sandbox.langsmith.control.count("", status=422) == before
    assert "is not a LangSmith run id" in world.shown(bad)[1]
    assert list(world.feedback()) == [world.fid(healthy)]


def test_the_scheduled_verification_removes_feedback_of_trashed_rows(world: World, monkeypatch) -> None:
    import notion_feedback.jobs.verify_ratings as verify_ratings

    kept, trashed = (world.add_row(run, rating="4") for run in world.trace_runs(2))
    run_sync(world.settings)
    world.trash(trashed)
    run_sync(world.settings)
    assert world.fid(trashed) in world.feedback()  # an incremental read never sees a trashed row again
    monkeypatch.setattr(verify_ratings, "load_settings", lambda: world.settings)
    result = verify_ratings.run()
    assert result["removed"] == 1 and result["full"] is True
    assert world.feedback() == world.expected_feedback() and list(world.feedback()) == [world.fid(kept)]
    assert verify_ratings.run()["removed"] == 0  # the next verification finds nothing to repair

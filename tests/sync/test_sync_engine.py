"""The rating sync on the sandbox: effects, idempotency, row errors, rounding, schema drift, dry run, --full."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from notion_feedback.errors import SchemaDriftError
from notion_feedback.notion.schema import SYNC_ERROR, SYNC_SYNCED
from notion_feedback.sync import engine as sync_mod
from notion_feedback.sync.engine import run_sync
from notion_feedback.testing import World, make_world


@pytest.fixture()
def world(sandbox, settings) -> World:
    return make_world(sandbox, settings)


def counts(sb) -> tuple[int, int]:
    return sb.notion.control.count(""), sb.langsmith.control.count("")


def test_create_update_clear_rerate_and_comment(world: World, sandbox) -> None:
    run = world.trace_runs(1)[0]
    page = world.add_row(run, rating="4", comment="helpful")
    s = run_sync(world.settings)
    assert (s.created, s.updated, s.removed, s.errors) == (1, 0, 0, 0)
    fid = world.fid(page)
    assert world.feedback() == {fid: {"run_id": run, "score": 4.0, "comment": "helpful"}}
    stored = world.langsmith.read_feedback(fid)
    assert stored.feedback_source.metadata["notion_page_id"] == page  # type: ignore[union-attr]
    assert stored.feedback_source.metadata["rater"] == sandbox.notion.person_user_id  # type: ignore[union-attr]
    assert stored.feedback_source.metadata["notion_url"].startswith("http")  # type: ignore[union-attr]

    world.edit(page, rating="2", comment=None)  # new score, comment cleared
    s = run_sync(world.settings)
    assert (s.created, s.updated) == (0, 1)
    assert world.feedback() == {fid: {"run_id": run, "score": 2.0, "comment": None}}

    world.edit(page, rating=None)
    s = run_sync(world.settings)
    assert s.removed == 1 and world.feedback() == {}

    world.edit(page, rating="5")
    s = run_sync(world.settings)
    assert s.created == 1 and world.feedback() == {fid: {"run_id": run, "score": 5.0, "comment": None}}
    # A healthy row displays nothing in the default write-back mode: no Notion write was spent on it.
    assert world.shown(page) == (None, "")


def test_second_pass_does_nothing(world: World, sandbox) -> None:
    runs = world.trace_runs(3)
    for i, run in enumerate(runs):
        world.add_row(run, rating=str(i + 2))
    world.add_row(runs[0])  # unrated
    world.add_row("not-a-run", rating="3")  # an error, written back on the row
    first = run_sync(world.settings)
    assert (first.created, first.errors, first.status_writes) == (3, 1, 1)
    before = counts(sandbox)
    second = run_sync(world.settings)
    notion, smith = (a - b for a, b in zip(counts(sandbox), before, strict=True))
    assert smith == 0 and second.langsmith_requests == 0
    # One data source check and one query page; the row we wrote back to is read again but costs nothing.
    assert notion == second.notion_requests == 2
    assert (second.created, second.updated, second.removed, second.status_writes) == (0, 0, 0, 0)
    assert second.unchanged == 4 and second.errors == 1
    assert len(world.feedback()) == 3


def test_row_errors_go_on_the_row_and_clear_when_fixed(world: World, sandbox) -> None:
    runs = world.batch_runs(5)
    missing = world.add_row(None, rating="3")
    malformed = world.add_row("abc-123", rating="3")
    unknown = world.add_row(str(uuid.uuid4()), rating="3")
    off_scale = world.add_row(runs[0], rating="4")
    world.edit(off_scale, rating="7")  # a person added an option that is not on the 1-5 scale
    healthy = world.add_row(runs[1], rating="5")

    s = run_sync(world.settings)
    assert (s.errors, s.created) == (4, 1)
    status, error = world.shown(missing)
    assert status == SYNC_ERROR and "no Run ID" in error
    assert "is not a LangSmith run id" in world.shown(malformed)[1]
    assert "was not found in project" in world.shown(unknown)[1]
    assert 'The rating "7" is not on the 1-5 scale' in world.shown(off_scale)[1]
    assert world.shown(healthy) == (None, "")
    assert {p.page_id for p in s.problems} == {missing, malformed, unknown, off_scale}

    for page, run in zip((missing, malformed, unknown), runs[2:], strict=True):
        world.edit(page, run_id=run)
    world.edit(off_scale, rating="1")
    s = run_sync(world.settings)
    assert (s.errors, s.created) == (0, 4)
    for page in (missing, malformed, unknown, off_scale):
        assert world.shown(page) == (SYNC_SYNCED, "")  # the error is cleared; the row says it went through
    assert len(world.feedback()) == 5
    assert run_sync(world.settings).langsmith_requests == 0


def test_unknown_run_is_retried_when_it_appears(world: World, sandbox, monkeypatch) -> None:
    from langsmith.run_trees import RunTree

    clock = sandbox.notion.control.clock
    clock.set(datetime.now(UTC) + timedelta(hours=1), frozen=True)
    late = RunTree(
        name="late",
        run_type="chain",
        inputs={},
        project_name=world.settings.langsmith_project,
        ls_client=world.langsmith,
    )
    page = world.add_row(str(late.id), rating="4")
    assert run_sync(world.settings).errors == 1
    clock.advance(10 * 60)
    world.add_row(world.trace_runs(1)[0], rating="5")  # later edits move the cursor past the errored row
    assert run_sync(world.settings).langsmith_requests == 1  # the new row only: the errored one is not due yet
    late.post()  # the run is ingested after its row was rated
    later = datetime.now(UTC) + timedelta(minutes=5)
    monkeypatch.setattr(sync_mod, "_now_iso", lambda delta=timedelta(0): sync_mod.notion_time(later + delta))
    s = run_sync(world.settings)  # the row is not read again: the retry comes from the store
    assert (s.rows_seen, s.retried, s.created, s.errors) == (1, 1, 1, 0)
    assert world.shown(page) == (SYNC_SYNCED, "")
    assert world.fid(page) in world.feedback()
    clock.set(None)


def test_same_minute_edits_and_lookback(world: World, sandbox) -> None:
    clock = sandbox.notion.control.clock
    minute = datetime.now(UTC).replace(second=5, microsecond=0) + timedelta(hours=1)
    clock.set(minute, frozen=True)
    run, second_run = world.trace_runs(2)
    page = world.add_row(run, rating="3")
    assert run_sync(world.settings).created == 1
    clock.advance(40)  # same minute: last_edited_time does not move
    world.edit(page, rating="4")
    s = run_sync(world.settings)
    assert s.updated == 1 and world.feedback()[world.fid(page)]["score"] == 4.0
    clock.advance(10 * 60)
    other = world.add_row(second_run, rating="2")  # edited ten minutes later: the first row falls out of the lookback
    assert run_sync(world.settings).created == 1
    s = run_sync(world.settings)
    assert (s.rows_seen, s.unchanged, s.notion_requests, s.langsmith_requests) == (1, 1, 2, 0)
    assert s.cursor_before == s.cursor_after == world.page(other)["last_edited_time"]
    clock.set(None)


def test_schema_drift_stops_before_writing(world: World, sandbox) -> None:
    run = world.trace_runs(1)[0]
    world.add_row(run, rating="4")
    world.request(  # a person renames the Rating column
        "PATCH", f"/v1/data_sources/{world.ds_id}", {"properties": {"Rating": {"name": "Score"}}}
    )
    before = counts(sandbox)
    patches = sandbox.notion.control.count("PATCH")
    with pytest.raises(SchemaDriftError) as info:
        run_sync(world.settings)
    assert "Rating was renamed to Score" in str(info.value)
    assert """NOTION_FEEDBACK_PROPERTY_MAP='{"Rating": "Score"}'""" in info.value.fix
    after = counts(sandbox)
    assert after[1] == before[1]  # nothing sent to LangSmith
    assert sandbox.notion.control.count("PATCH") == patches and world.feedback() == {}
    fixed = world.settings.model_copy(update={"property_map": {"Rating": "Score"}})
    assert run_sync(fixed).created == 1


def test_dry_run_writes_nothing(world: World, sandbox) -> None:
    run = world.trace_runs(1)[0]
    world.add_row(run, rating="4")
    world.add_row("bad", rating="4")
    s = run_sync(world.settings, dry_run=True)
    assert (s.created, s.errors) == (1, 1) and s.planned
    assert world.feedback() == {} and sandbox.notion.control.count("PATCH") == 0
    assert run_sync(world.settings).created == 1  # the cursor did not move either


def test_full_pass_repairs_drift(world: World, sandbox) -> None:
    runs = world.trace_runs(3)
    pages = [world.add_row(r, rating="4") for r in runs]
    run_sync(world.settings)
    world.langsmith.delete_feedback(world.fid(pages[0]))  # behind our back
    world.langsmith.update_feedback(world.fid(pages[1]), score=1, comment="edited in LangSmith")
    assert run_sync(world.settings).langsmith_requests == 0  # incremental trusts the store
    s = run_sync(world.settings, full=True)
    assert (s.created, s.updated, s.unchanged) == (1, 1, 1)
    want = {world.fid(p): {"run_id": r, "score": 4.0, "comment": None} for p, r in zip(pages, runs, strict=True)}
    assert world.feedback() == want
    world.trash(pages[2])  # the row is deleted in Notion
    s = run_sync(world.settings, full=True)
    assert s.removed == 1 and world.fid(pages[2]) not in world.feedback()


def test_status_writeback_all_marks_synced_rows_once(sandbox, settings) -> None:
    world = make_world(sandbox, settings, sync_status_writeback="all")
    run = world.trace_runs(1)[0]
    page = world.add_row(run, rating="4")
    s = run_sync(world.settings)
    assert s.status_writes == 1 and world.shown(page) == (SYNC_SYNCED, "")
    assert run_sync(world.settings).status_writes == 0
    world.edit(page, rating=None)
    run_sync(world.settings)
    assert world.shown(page)[0] == "Removed"


def test_feedback_carries_the_option_as_its_value(world: World) -> None:
    run = world.trace_runs(1)[0]
    page = world.add_row(run, rating="4")
    run_sync(world.settings)
    assert world.langsmith.read_feedback(world.fid(page)).value == "4"
    world.edit(page, rating="2")
    run_sync(world.settings)
    stored = world.langsmith.read_feedback(world.fid(page))
    assert (stored.score, stored.value) == (2, "2")

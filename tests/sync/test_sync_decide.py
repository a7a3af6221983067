"""The sync's decisions, from values alone: no sandbox, no state store, no clock."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, replace
from datetime import timedelta

from notion_feedback.notion.schema import SCALES, SYNC_ERROR, SYNC_REMOVED, SYNC_SYNCED
from notion_feedback.sync import decide
from notion_feedback.sync.decide import Desired, Owner
from notion_feedback.sync.rows import RatedRow
from notion_feedback.sync.writeback import BLANK, SYNCED, Shown

RUN = "1f0e4a52-7c3b-4d7e-9a1b-2c3d4e5f6a7b"
OTHER_RUN = "2a0e4a52-7c3b-4d7e-9a1b-2c3d4e5f6a7c"
PROJECT = "3b0e4a52-7c3b-4d7e-9a1b-2c3d4e5f6a7d"
FIVE = SCALES["1-5"]
THUMBS = SCALES["thumbs"]


@dataclass
class Entry:
    """What a store would say about a row, without a store."""

    page_id: str = "page-1"
    status: str = decide.REMOVED_ENTRY
    run_id: str | None = None
    project_id: str | None = None
    option: str | None = None
    score: float | None = None
    comment: str | None = None
    error: str | None = None
    error_kind: str | None = None
    written_status: str | None = None
    pending_status: str | None = None
    attempts: int | None = None
    retry_at: str | None = None


@dataclass(frozen=True)
class Held:
    run_id: str
    score: float | None
    comment: str | None


def row(**changes: object) -> RatedRow:
    base = RatedRow(
        page_id="page-1",
        url="https://notion.so/page-1",
        last_edited_time="2026-01-01T10:00:00.000Z",
        rating="4",
        comment=None,
        run_id=RUN,
        project_id=PROJECT,
        run_start=None,
        sync_status=None,
        sync_error=None,
        rater=None,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def sent(r: RatedRow, **changes: object) -> Entry:
    """The entry of a row whose current content was synced and whose display was last seen blank."""
    entry = Entry(
        status=decide.SYNCED_ENTRY,
        run_id=r.run_id,
        project_id=r.project_id,
        option=r.rating,
        score=4.0,
        comment=r.comment,
        written_status=BLANK.encode(),
    )
    return replace(entry, **changes)  # type: ignore[arg-type]


# -- what LangSmith should hold ------------------------------------------------------------------------------------
def test_a_rating_on_the_scale_becomes_its_score_with_canonical_ids() -> None:
    d = decide.desired_feedback(row(run_id=RUN.upper(), comment="good"), FIVE)
    assert d == Desired("valid", run_id=RUN, project_id=PROJECT, score=4.0, comment="good")


def test_a_cleared_rating_wants_no_feedback() -> None:
    assert decide.desired_feedback(row(rating=None), FIVE).kind == "none"


def test_a_rating_not_on_the_scale_is_a_row_error_listing_the_options() -> None:
    d = decide.desired_feedback(row(rating="7"), FIVE)
    assert (d.kind, d.error_kind) == ("error", "off_scale")
    assert '"7"' in (d.message or "") and "1, 2, 3, 4, 5" in (d.message or "")


def test_thumbs_scale_scores_up_and_down_and_refuses_numbers() -> None:
    assert decide.desired_feedback(row(rating="👍"), THUMBS).score == 1.0
    down = decide.desired_feedback(row(rating="👎"), THUMBS)
    assert (down.kind, down.score) == ("valid", 0.0)
    assert decide.desired_feedback(row(rating="4"), THUMBS).error_kind == "off_scale"


def test_missing_or_malformed_run_id_is_a_row_error() -> None:
    assert decide.desired_feedback(row(run_id=None), FIVE).error_kind == "no_run_id"
    bad = decide.desired_feedback(row(run_id="run-42"), FIVE)
    assert bad.error_kind == "bad_run_id" and "run-42" in (bad.message or "")


def test_project_id_falls_back_to_the_default_only_when_missing() -> None:
    no_project = row(project_id=None)
    assert decide.needs_default_project(no_project, FIVE)
    assert not decide.needs_default_project(row(), FIVE)
    assert not decide.needs_default_project(row(project_id=None, rating="9"), FIVE)  # fails earlier: no lookup
    assert decide.desired_feedback(no_project, FIVE, PROJECT).project_id == PROJECT
    assert decide.desired_feedback(no_project, FIVE).error_kind == "bad_project_id"
    assert decide.desired_feedback(row(project_id="proj"), FIVE, PROJECT).error_kind == "bad_project_id"


def test_a_comment_only_row_wants_nothing_and_a_comment_rides_along_a_rating() -> None:
    assert decide.desired_feedback(row(rating=None, comment="meh"), FIVE).kind == "none"
    assert decide.desired_feedback(row(comment="meh"), FIVE).comment == "meh"


# -- whether a row changed -----------------------------------------------------------------------------------------
def test_unchanged_content_with_a_newer_last_edited_time_costs_nothing() -> None:
    r = row()
    moved = replace(r, last_edited_time="2026-01-01T11:00:00.000Z")
    assert decide.triage(moved, sent(r), BLANK, checking_remote=False, due=False) == decide.UNCHANGED


def test_a_changed_rating_or_comment_or_run_is_handled() -> None:
    r = row()
    for changed in (row(rating="2"), row(comment="new"), row(run_id=OTHER_RUN), row(project_id=RUN)):
        assert decide.triage(changed, sent(r), BLANK, checking_remote=False, due=False) == decide.HANDLE


def test_a_rating_changed_back_to_what_was_sent_is_unchanged() -> None:
    r = row(rating="4")
    entry = sent(r)
    assert not decide.same_content(row(rating="2"), entry)
    assert decide.triage(row(rating="4"), entry, BLANK, checking_remote=False, due=False) == decide.UNCHANGED


def test_whitespace_only_and_missing_comments_are_the_same_content() -> None:
    # The reader strips text, so a whitespace-only comment arrives as None; the store may hold "" for none.
    assert decide.same_content(row(comment=None), sent(row(), comment=""))
    assert not decide.same_content(row(comment="x"), sent(row(), comment=""))


def test_a_row_without_project_id_matches_the_project_sent_for_it() -> None:
    assert decide.same_content(row(project_id=None), sent(row(), project_id=PROJECT))


def test_unknown_outcome_pending_write_changed_display_remote_check_or_due_retry_are_handled() -> None:
    r = row()
    cases = [
        (sent(r, status=decide.MAYBE_ENTRY), BLANK, False, False),
        (sent(r, pending_status=SYNCED.encode()), BLANK, False, False),
        (sent(r), SYNCED, False, False),  # someone edited the Sync status by hand
        (sent(r), BLANK, True, False),
        (sent(r), BLANK, False, True),
    ]
    for entry, shown, remote, due in cases:
        assert decide.triage(r, entry, shown, checking_remote=remote, due=due) == decide.HANDLE


def test_errors_from_langsmith_are_counted_again_and_local_ones_rechecked() -> None:
    r = row()
    for kind in ("run_not_found", "duplicate_run", "rejected"):
        entry = sent(r, status=decide.ERROR_ENTRY, error_kind=kind)
        assert decide.triage(r, entry, BLANK, checking_remote=False, due=False) == decide.KNOWN_PROBLEM
    local = sent(r, status=decide.ERROR_ENTRY, error_kind="off_scale")
    assert decide.triage(r, local, BLANK, checking_remote=False, due=False) == decide.RECHECK


def test_a_local_problem_is_the_same_only_with_the_same_message() -> None:
    d = decide.desired_feedback(row(rating="9"), FIVE)
    assert decide.same_problem(d, Entry(error=d.message))
    assert not decide.same_problem(d, Entry(error="another problem"))
    assert not decide.same_problem(decide.desired_feedback(row(), FIVE), Entry(error=d.message))


def test_an_untracked_row_is_only_a_row_never_rated_and_not_in_langsmith() -> None:
    assert decide.untracked(row(rating=None), None, held_remotely=False)
    assert not decide.untracked(row(rating=None), None, held_remotely=True)
    assert not decide.untracked(row(), None, held_remotely=False)
    assert not decide.untracked(row(rating=None), Entry(), held_remotely=False)


def test_settled_needs_a_confirmed_display_and_the_same_content() -> None:
    r = row()
    assert decide.settled(r, sent(r))
    assert not decide.settled(r, None)
    assert not decide.settled(r, sent(r, pending_status=SYNCED.encode()))
    assert not decide.settled(row(rating="1"), sent(r))


# -- what to send ----------------------------------------------------------------------------------------------------
def test_plan_chooses_create_update_move_delete_or_nothing() -> None:
    want = decide.desired_feedback(row(comment="ok"), FIVE)
    assert decide.plan(want, None) == decide.CREATE
    assert decide.plan(want, Held(RUN, 4.0, "ok")) == decide.NOTHING
    assert decide.plan(want, Held(RUN, 2.0, "ok")) == decide.UPDATE
    assert decide.plan(want, Held(RUN, 4.0, None)) == decide.UPDATE
    assert decide.plan(want, Held(OTHER_RUN, 4.0, "ok")) == decide.MOVE
    cleared = Desired("none")
    assert decide.plan(cleared, Held(RUN, 4.0, None)) == decide.DELETE
    assert decide.plan(cleared, None) == decide.NOTHING
    assert decide.plan(decide.desired_feedback(row(rating="9"), FIVE), Held(RUN, 4.0, None)) == decide.DELETE


def test_sends_is_true_exactly_when_plan_writes() -> None:
    want = decide.desired_feedback(row(), FIVE)
    for held in (None, Held(RUN, 4.0, None), Held(RUN, 1.0, None), Held(OTHER_RUN, 4.0, None), Held(RUN, 4.0, "")):
        for desired in (want, Desired("none")):
            assert decide.sends(desired, held) == (decide.plan(desired, held) != decide.NOTHING)


def test_an_intent_is_unknown_and_stays_on_the_old_run_during_a_move() -> None:
    want = decide.desired_feedback(row(), FIVE)
    base = sent(row(), run_id=OTHER_RUN, project_id=None)
    moving = decide.intent(base, want, Held(OTHER_RUN, 4.0, None))
    assert (moving.status, moving.run_id, moving.project_id) == (decide.MAYBE_ENTRY, OTHER_RUN, PROJECT)
    assert decide.intent(Entry(), want, None).run_id == RUN


# -- what to record --------------------------------------------------------------------------------------------------
def test_after_send_records_the_confirmed_feedback_and_clears_a_problem() -> None:
    base = Entry(status=decide.ERROR_ENTRY, error="old", error_kind="run_not_found", attempts=3, retry_at="x")
    r = row(comment="fine")
    new = decide.after_send(base, r, decide.desired_feedback(r, FIVE))
    assert (new.status, new.score, new.comment, new.option, new.run_id) == (
        decide.SYNCED_ENTRY,
        4.0,
        "fine",
        "4",
        RUN,
    )
    assert (new.error, new.error_kind, new.attempts, new.retry_at) == (None, None, None, None)
    assert base.status == decide.ERROR_ENTRY  # the base is not changed


def test_a_cleared_rating_is_removed_only_when_feedback_was_deleted() -> None:
    r = row(rating=None, run_id=RUN.upper())
    new, action = decide.after_effect(sent(row()), r, Desired("none"), removed=True)
    assert (new.status, new.score, new.option, new.run_id, action) == (decide.REMOVED_ENTRY, None, None, RUN, "removed")
    assert decide.after_effect(sent(row()), r, Desired("none"), removed=False)[1] == "unchanged"


def test_a_row_error_is_recorded_with_its_message() -> None:
    r = row(rating="9")
    d = decide.desired_feedback(r, FIVE)
    new, action = decide.after_effect(sent(row()), r, d, removed=True)
    assert (action, new.status, new.error_kind, new.error, new.score) == (
        "error",
        decide.ERROR_ENTRY,
        "off_scale",
        d.message,
        None,
    )


def test_a_refusal_records_the_problem_on_the_new_run() -> None:
    r = row(run_id=OTHER_RUN)
    new = decide.after_refusal(sent(row()), r, decide.desired_feedback(r, FIVE), "run_not_found", "not found")
    assert (new.status, new.error_kind, new.error, new.score, new.run_id) == (
        decide.ERROR_ENTRY,
        "run_not_found",
        "not found",
        None,
        OTHER_RUN,
    )


# -- retry or park -------------------------------------------------------------------------------------------------
def test_backoff_doubles_for_the_same_problem_and_is_capped() -> None:
    cap = timedelta(hours=6)
    assert decide.backoff(Entry(), "run_not_found", cap) == (1, timedelta(minutes=1))
    third = Entry(error_kind="run_not_found", attempts=2)
    assert decide.backoff(third, "run_not_found", cap) == (3, timedelta(minutes=4))
    assert decide.backoff(third, "duplicate_run", cap) == (1, timedelta(minutes=1))  # a new problem starts over
    assert decide.backoff(Entry(error_kind="run_not_found", attempts=20), "run_not_found", cap)[1] == cap


def test_retry_now_only_for_retryable_problems_that_are_due() -> None:
    waiting = Entry(status=decide.ERROR_ENTRY, error_kind="run_not_found", retry_at="2026-01-01T10:05:00.000Z")
    assert not decide.retry_now(waiting, full=False, now="2026-01-01T10:00:00.000Z")
    assert decide.retry_now(waiting, full=False, now="2026-01-01T10:05:00.000Z")
    assert decide.retry_now(waiting, full=True, now="2026-01-01T10:00:00.000Z")
    parked = replace(waiting, error_kind="off_scale")
    assert not decide.retry_now(parked, full=True, now="2030-01-01T00:00:00.000Z")
    assert not decide.retry_now(replace(waiting, status=decide.SYNCED_ENTRY), full=True, now="2030")


# -- what the row shows --------------------------------------------------------------------------------------------
def test_target_shows_problems_always_and_success_only_when_asked_or_already_shown() -> None:
    problem = decide.target(Entry(status=decide.ERROR_ENTRY, error="bad"), BLANK, had_feedback=False, every=False)
    assert problem == Shown(SYNC_ERROR, "bad")
    synced = Entry(status=decide.SYNCED_ENTRY)
    assert decide.target(synced, BLANK, had_feedback=True, every=False) == BLANK
    assert decide.target(synced, BLANK, had_feedback=True, every=True) == Shown(SYNC_SYNCED)
    assert decide.target(synced, problem, had_feedback=True, every=False) == Shown(SYNC_SYNCED)  # clears a problem
    removed = Entry(status=decide.REMOVED_ENTRY)
    assert decide.target(removed, SYNCED, had_feedback=True, every=False) == Shown(SYNC_REMOVED)
    assert decide.target(removed, BLANK, had_feedback=True, every=False) == BLANK
    assert decide.target(removed, SYNCED, had_feedback=False, every=True) == BLANK  # never had any: nothing shown


# -- one feedback per run --------------------------------------------------------------------------------------------
def test_a_second_row_on_a_run_is_refused_and_names_the_first() -> None:
    first = decide.desired_feedback(row(page_id="a"), FIVE)
    second = decide.desired_feedback(row(page_id="b"), FIVE)
    refused = decide.refuse_second_claims([("a", "url-a", first), ("b", "url-b", second)], {})
    assert list(refused) == ["b"]
    assert refused["b"].error_kind == "duplicate_run" and "url-a" in (refused["b"].message or "")


def test_the_stored_owner_keeps_its_run_unless_it_leaves_it_in_this_page() -> None:
    want = decide.desired_feedback(row(page_id="b"), FIVE)
    owners = {RUN: Owner("a", "")}
    assert "a" in (decide.refuse_second_claims([("b", "url-b", want)], owners)["b"].message or "")
    leaving = decide.desired_feedback(row(page_id="a", run_id=OTHER_RUN), FIVE)
    assert decide.refuse_second_claims([("a", "url-a", leaving), ("b", "url-b", want)], owners) == {}
    assert decide.refuse_second_claims([("a", "url-a", Desired("none")), ("b", "url-b", want)], owners) == {}
    assert owners == {RUN: Owner("a", "")}  # the caller's map is not changed


def test_source_info_names_the_row_and_the_rater_when_known() -> None:
    assert decide.source_info(row())["notion_page_id"] == "page-1"
    assert "rater" not in decide.source_info(row())
    assert decide.source_info(row(rater="user-1"))["rater"] == "user-1"


def test_decide_imports_no_client_store_or_settings() -> None:
    code = (
        # What the package itself loads (its settings and errors) is not decide's doing: count only what
        # importing decide adds.
        "import sys, notion_feedback.sync\n"
        "before = set(sys.modules)\n"
        "import notion_feedback.sync.decide\n"
        "bad = ('notion_client', 'langsmith', 'httpx', 'requests', 'sqlalchemy', 'notion_feedback.state',"
        " 'notion_feedback.sync.store', 'notion_feedback.config')\n"
        "print(','.join(m for m in bad if m in sys.modules and m not in before))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""


def test_a_row_missing_from_a_full_read_is_gone_and_its_entry_holds_nothing() -> None:
    kept, trashed = sent(row(), page_id="a"), sent(row(), page_id="b", pending_status=SYNCED.encode())
    assert decide.gone([kept, trashed], {"a"}) == [trashed]
    after = decide.after_row_gone(trashed)
    assert (after.score, after.status, after.pending_status) == (None, decide.REMOVED_ENTRY, None)
    assert after.option == trashed.option  # what it last said is kept: a restored row compares with it


def test_the_owner_row_read_again_keeps_its_run() -> None:
    mine = decide.desired_feedback(row(page_id="a", rating="2"), FIVE)
    assert decide.refuse_second_claims([("a", "url-a", mine)], {RUN: Owner("a", "url-a")}) == {}
    twice = decide.refuse_second_claims([("a", "url-a", mine), ("a", "url-a", mine)], {})
    assert twice == {}  # a row re-read in the same page does not refuse itself

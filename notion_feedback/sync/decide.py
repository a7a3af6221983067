"""The sync's decisions about one Feedback row, made from values alone: no request, no store, no clock, no thread.

Given a row as read, what the store says was last sent for it and what LangSmith holds, these functions say what
LangSmith should hold (``desired_feedback``), whether the row needs any work at all (``triage``), which effect
makes LangSmith match (``plan``), what the store should record afterwards (``after_effect``), when a row whose
problem may go away by itself is tried again (``backoff``), and what the row should display (``target``). The
engine (``engine.py``) does the reading and writing around them; keeping the decisions here lets every rule be
tested without either service.

Timestamps never decide whether a row changed: only its content (rating, comment, run id, project id) does, so the
daemon's own Sync status write-back, which bumps ``last_edited_time``, never causes work.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Protocol, TypeVar

from notion_feedback.notion.schema import RatingScale
from notion_feedback.sync.rows import RatedRow
from notion_feedback.sync.writeback import BLANK, REMOVED, SYNCED, Shown, error_shown

# Store entry statuses (what the store says LangSmith holds; what the row displays is decided by ``target``).
SYNCED_ENTRY = "synced"
ERROR_ENTRY = "error"
REMOVED_ENTRY = "removed"
# An effect was sent and its outcome is not known yet: the feedback is read back from LangSmith before deciding.
MAYBE_ENTRY = "maybe"
# Row problems whose cause may go away without the row changing: tried again on a back-off schedule.
RETRYABLE_KINDS = ("run_not_found", "duplicate_run")

# What ``triage`` says about a row.
UNCHANGED = "unchanged"  # nothing to do and nothing to count but "unchanged"
KNOWN_PROBLEM = "known_problem"  # its problem is still the one it shows: count it, send nothing
RECHECK = "recheck"  # a local problem that may have gone (e.g. the scale setting changed): decide it again
HANDLE = "handle"  # decide what LangSmith should hold and make it so

# What ``plan`` says to send to LangSmith.
CREATE = "create"
UPDATE = "update"
DELETE = "delete"
MOVE = "move"  # feedback cannot change its run: delete it, then create it on the new run
NOTHING = "nothing"

E = TypeVar("E", bound="Entry")


class Entry(Protocol):
    """What the store says about a row (``store.Stored`` is one); a dataclass, so ``replace`` works on it."""

    page_id: str
    status: str
    run_id: str | None
    project_id: str | None
    option: str | None
    score: float | None
    comment: str | None
    error: str | None
    error_kind: str | None
    written_status: str | None
    pending_status: str | None
    attempts: int | None
    retry_at: str | None


class Held(Protocol):
    """What LangSmith holds for a row's feedback id (``smith.feedback.RemoteFeedback`` is one)."""

    run_id: str
    score: float | None
    comment: str | None


@dataclass(frozen=True)
class Desired:
    """What LangSmith should hold for a row, decided from the row alone (no request)."""

    kind: str  # none | valid | error
    run_id: str | None = None
    project_id: str | None = None
    score: float | None = None
    comment: str | None = None
    error_kind: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class Owner:
    """The row that holds a run's feedback (one feedback per run and key)."""

    page_id: str
    url: str


def parse_uuid(text: str | None) -> str | None:
    """The canonical form of a UUID typed into a row, or None when it is not one."""
    if not text:
        return None
    try:
        return str(uuid.UUID(text.strip()))
    except ValueError:
        return None


def needs_default_project(row: RatedRow, scale: RatingScale) -> bool:
    """Whether ``desired_feedback`` would use LANGSMITH_PROJECT's id: a valid rating on a row without Project ID.

    The engine looks that id up (a request) only when this says so."""
    return bool(row.rating and parse_uuid(row.run_id) and scale.score(row.rating) is not None and not row.project_id)


def desired_feedback(row: RatedRow, scale: RatingScale, default_project: str | None = None) -> Desired:
    """What LangSmith should hold for ``row``; ``default_project`` is LANGSMITH_PROJECT's id, if known."""
    if not row.rating:
        return Desired("none")
    if not row.run_id:
        return _row_error(
            "no_run_id",
            "This row has no Run ID, so its rating cannot reach LangSmith. Fill in Run ID with the id of the "
            "LangSmith run (trace) it rates.",
        )
    run_id = parse_uuid(row.run_id)
    if run_id is None:
        return _row_error(
            "bad_run_id",
            f'The Run ID "{row.run_id[:80]}" is not a LangSmith run id (expected a UUID such as '
            "1f0e4a52-7c3b-4d7e-9a1b-2c3d4e5f6a7b). Correct it to the id of the run this row rates.",
        )
    score = scale.score(row.rating)
    if score is None:
        options = ", ".join(name for name, _, _ in scale.options)
        return _row_error(
            "off_scale",
            f'The rating "{row.rating}" is not on the {scale.name} scale ({options}). Pick one of those, or '
            "change NOTION_FEEDBACK_RATING_SCALE.",
        )
    project_id = parse_uuid(row.project_id) if row.project_id else default_project
    if project_id is None:
        shown = f'"{row.project_id[:80]}" is not' if row.project_id else "is missing and"
        return _row_error(
            "bad_project_id",
            f"The Project ID {shown} no LangSmith project id could be used. Fill in the UUID of the project the "
            "run belongs to (or set LANGSMITH_PROJECT to its name).",
        )
    return Desired("valid", run_id=run_id, project_id=project_id, score=score, comment=row.comment)


def _row_error(kind: str, message: str) -> Desired:
    return Desired("error", error_kind=kind, message=message)


def duplicate_run(run_id: str, owner: Owner) -> Desired:
    """The problem of a row rating a run another row already rates."""
    return _row_error(
        "duplicate_run",
        f"Another row already rates LangSmith run {run_id}: {owner.url or owner.page_id}. A run takes one rating: "
        "clear the Run ID or the rating on one of the two rows.",
    )


def not_found_message(run_id: str, project_id: str) -> str:
    return (
        f"The LangSmith run {run_id} was not found in project {project_id}. Check the Run ID; if the run is new it "
        "may not be ingested yet (this is tried again automatically), or it may have expired (base retention is "
        "14 days)."
    )


def same_content(row: RatedRow, entry: Entry) -> bool:
    """Whether the row says what the store last sent: rating, comment, run id and (when given) project id."""
    return (
        entry.option == row.rating
        and (entry.comment or None) == row.comment
        and entry.run_id == (parse_uuid(row.run_id) or row.run_id)
        and (row.project_id is None or entry.project_id == (parse_uuid(row.project_id) or row.project_id))
    )


def settled(row: RatedRow, entry: Entry | None) -> bool:
    """Whether a row read again in the same pass (our write-back moved it) is already done."""
    return entry is not None and entry.pending_status is None and same_content(row, entry)


def retry_now(entry: Entry, *, full: bool, now: str) -> bool:
    """Whether a row waiting on a problem that may go away by itself is due (``now``: an ISO timestamp)."""
    if entry.status != ERROR_ENTRY or entry.error_kind not in RETRYABLE_KINDS:
        return False
    return full or not entry.retry_at or entry.retry_at <= now


def untracked(row: RatedRow, entry: Entry | None, *, held_remotely: bool) -> bool:
    """A row the store has never synced, without a rating, and nothing of it in LangSmith (as far as is known)."""
    return entry is None and not row.rating and not held_remotely


def triage(row: RatedRow, entry: Entry, shown_now: Shown, *, checking_remote: bool, due: bool) -> str:
    """What a known row needs before anything is asked of LangSmith: the fast path costs nothing.

    A row whose content and display are as last handled, with nothing to retry (``due``) and no remote check asked
    (``checking_remote``), is unchanged whatever its ``last_edited_time`` says; if it held a problem, that problem is
    counted again without a request when it depends on LangSmith, and re-checked when it was found locally."""
    if (
        checking_remote
        or entry.pending_status is not None
        or entry.status == MAYBE_ENTRY
        or Shown.decode(entry.written_status) != shown_now
        or not same_content(row, entry)
        or due
    ):
        return HANDLE
    if entry.status != ERROR_ENTRY:
        return UNCHANGED
    if entry.error_kind in RETRYABLE_KINDS or entry.error_kind == "rejected":
        return KNOWN_PROBLEM
    return RECHECK


def same_problem(desired: Desired, entry: Entry) -> bool:
    """Whether a row's local problem, decided again, is still the one the store recorded."""
    return desired.kind == "error" and desired.message == entry.error


def sends(desired: Desired, held: Held | None) -> bool:
    """Whether making LangSmith hold ``desired`` writes to it (create, update or delete).

    Every such effect is written ahead as an intent (``intent``): if its answer is lost (a timeout, a 500 after the
    effect, a kill), the store must not go on claiming the old value, or a later edit back to that value would look
    unchanged and LangSmith would keep the lost write for ever."""
    if desired.kind != "valid":
        return held is not None
    return (
        held is None
        or held.run_id != desired.run_id
        or held.score != desired.score
        or (held.comment or None) != (desired.comment or None)
    )


def plan(desired: Desired, held: Held | None) -> str:
    """Which effect makes LangSmith match ``desired``: CREATE, UPDATE, DELETE, MOVE or NOTHING."""
    if desired.kind != "valid":
        return DELETE if held is not None else NOTHING
    if held is None:
        return CREATE
    if held.run_id != desired.run_id:
        return MOVE
    if held.score == desired.score and (held.comment or None) == desired.comment:
        return NOTHING
    return UPDATE


def intent(base: E, desired: Desired, held: Held | None) -> E:
    """The entry saved before an effect: its outcome is unknown until confirmed (the next pass reads it back), and
    the feedback is on the old run while a move to another run is not known to be done."""
    run_id = held.run_id if held is not None else desired.run_id
    project_id = desired.project_id or base.project_id
    return replace(base, status=MAYBE_ENTRY, run_id=run_id, project_id=project_id)  # type: ignore[type-var]


def after_effect(base: E, row: RatedRow, desired: Desired, *, removed: bool) -> tuple[E, str]:
    """The entry once the effect of a row without a valid rating is done, and the outcome to count.

    ``removed``: whether a feedback was really deleted. A problem that may go away by itself keeps its previous
    attempts here; the engine adds the back-off (``backoff``)."""
    new = _content(base, row)
    new.run_id = parse_uuid(row.run_id) or row.run_id
    new.project_id = parse_uuid(row.project_id) or row.project_id
    new.score = None
    if desired.kind == "error":
        new.status, new.error, new.error_kind = ERROR_ENTRY, desired.message, desired.error_kind
        return new, "error"
    new.status = REMOVED_ENTRY
    return new, "removed" if removed else "unchanged"


def after_send(base: E, row: RatedRow, desired: Desired) -> E:
    """The entry once LangSmith confirmed it holds ``desired`` (a valid rating)."""
    new = _content(base, row)
    new.run_id, new.project_id = desired.run_id, desired.project_id
    new.status, new.score, new.comment = SYNCED_ENTRY, desired.score or 0.0, desired.comment
    return new


def after_refusal(base: E, row: RatedRow, desired: Desired, kind: str, message: str) -> E:
    """The entry of a valid rating LangSmith refused (``run_not_found`` or ``rejected``)."""
    new = _content(base, row)
    new.run_id, new.project_id = desired.run_id, desired.project_id
    new.score = None
    new.status, new.error_kind, new.error = ERROR_ENTRY, kind, message
    return new


def _content(base: E, row: RatedRow) -> E:
    return replace(  # type: ignore[type-var]
        base, option=row.rating, comment=row.comment, error=None, error_kind=None, attempts=None, retry_at=None
    )


def backoff(base: Entry, kind: str, max_delay: timedelta) -> tuple[int, timedelta]:
    """Attempts so far, and how long to wait before trying again a row whose problem may go away by itself
    (doubling from one minute, capped at ``max_delay``)."""
    attempts = (base.attempts or 0) + 1 if base.error_kind == kind else 1
    return attempts, min(max_delay, timedelta(minutes=2 ** (attempts - 1)))


def target(entry: Entry, shown_now: Shown, *, had_feedback: bool, every: bool) -> Shown:
    """What the row should display after the entry was decided. Writes cost Notion requests, so unless ``every``
    row is marked ("all" write-back), a row that displays nothing keeps displaying nothing unless there is a problem
    to show."""
    if entry.status == ERROR_ENTRY:
        return error_shown(entry.error or "")
    if entry.status == SYNCED_ENTRY:
        return SYNCED if (every or not shown_now.blank) else BLANK
    if not had_feedback:
        return BLANK
    return REMOVED if (every or not shown_now.blank) else BLANK


def refuse_second_claims(claims: list[tuple[str, str, Desired]], owners: dict[str, Owner]) -> dict[str, Desired]:
    """One feedback per run and key. ``claims`` are a page's (page id, url, desired) in read order, ``owners`` the
    rows the store says hold each run; returns the rows refused, with their problem.

    A row that already holds its feedback on the run keeps it; only a new claim is refused. An owner row in this
    page that no longer rates its run gives the run up; within a page the row read first wins."""
    owners = dict(owners)
    in_page = {page_id: desired for page_id, _, desired in claims}
    for run_id, owner in list(owners.items()):
        leaving = in_page.get(owner.page_id)
        if leaving is not None and (leaving.kind != "valid" or leaving.run_id != run_id):
            del owners[run_id]
    refused: dict[str, Desired] = {}
    for page_id, url, desired in claims:
        if desired.kind != "valid":
            continue
        run_id = desired.run_id or ""
        owner = owners.get(run_id)
        if owner is None or owner.page_id == page_id:
            owners[run_id] = Owner(page_id, url)
            continue
        refused[page_id] = duplicate_run(run_id, owner)
    return refused


def gone(entries: Iterable[E], seen: set[str]) -> list[E]:
    """Entries holding feedback whose row a full read did not return: the row was trashed or deleted in Notion,
    the source of truth, so its feedback goes too."""
    return [entry for entry in entries if entry.page_id not in seen]


def after_row_gone(entry: E) -> E:
    """The entry once a gone row's feedback was deleted: nothing held, nothing left to show."""
    return replace(entry, score=None, status=REMOVED_ENTRY, pending_status=None)  # type: ignore[type-var]


def source_info(row: RatedRow) -> dict[str, Any]:
    """Where a feedback came from, stored with it in LangSmith."""
    info = {"source": "notion-feedback", "notion_page_id": row.page_id, "notion_url": row.url}
    if row.rater:
        info["rater"] = row.rater
    return info

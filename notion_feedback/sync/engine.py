"""The rating sync: Notion ratings become LangSmith feedback, incrementally, idempotently, never lost.

This module does the reading, writing, batching, threads and checkpoints; every decision about a row (what
LangSmith should hold, whether anything changed, which effect, what to record and show) is made in ``decide.py``.

One pass (``run_sync``), following the rules of docs/architecture.md §4:

1. Check the Feedback data source still has the properties the sync reads (nothing is written otherwise).
2. Read rows edited on or after (cursor − lookback), oldest first, 100 per request, only the needed properties.
3. For each row compare its content (rating, comment, run id, project id) with what the store says was last sent;
   only a difference costs a LangSmith request. Timestamps never decide: the daemon's own Sync status write-back
   bumps ``last_edited_time`` and must not cause work, so a re-read row whose content and displayed status are
   already right is "unchanged" and costs nothing.
4. Effect in LangSmith (deterministic feedback id: create, 409 → update, changed → update, cleared → delete),
   then the store entry, then the write-back on the row (or it is recorded as pending), then, once the whole page
   of 100 is done, the cursor. A crash at any instant re-does at most that page, and re-doing is harmless.
5. Afterwards: rows whose run was not found are tried again on a schedule (the run may not have been ingested yet);
   unconfirmed write-backs are sent again.

``full=True`` reads every row and compares with LangSmith itself (one list request per 100 rows), repairing
feedback changed or deleted behind our back, and removes the feedback of rows deleted from Notion.

Write-back policy (``sync_status_writeback``): "errors" (default) writes only to show a problem and to clear it,
so a healthy rating costs no Notion write at all; "all" marks every synced row, one more write per rating.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import langsmith
import notion_client
from langsmith.schemas import LangSmithInfo

from notion_feedback.config import Settings, require
from notion_feedback.errors import SchemaDriftError
from notion_feedback.fencing import check_fence
from notion_feedback.notion import client as notion_factory
from notion_feedback.notion.access import checked, data_source_of
from notion_feedback.notion.schema import SCALES, RatingScale
from notion_feedback.smith import client as smith_factory
from notion_feedback.smith import feedback as smith_feedback
from notion_feedback.smith import projects
from notion_feedback.state import open_state
from notion_feedback.sync import decide, store
from notion_feedback.sync.decide import RETRYABLE_KINDS, Desired
from notion_feedback.sync.retry import (
    SyncIncompleteError,
    is_transient,
    notion_status,
    with_retries,
)
from notion_feedback.sync.rows import (
    FeedbackColumns,
    RatedRow,
    iter_row_pages,
    notion_time,
    resolve_columns,
)
from notion_feedback.sync.writeback import BLANK, Shown, write_status
from notion_feedback.timeutil import parse_iso, parse_iso_or_none

log = logging.getLogger(__name__)
ProgressFn = Callable[["SyncSummary"], None]
RETRIES_PER_PASS = 50
PENDING_PER_PASS = 100
MAX_LISTED_PROBLEMS = 50
# LangSmith writes in flight at once: far below its feedback limit (2000 per 10 s), enough to hide round trips.
LANGSMITH_CONCURRENCY = 8
MAX_RETRY_DELAY = timedelta(hours=6)


@dataclass
class RowProblem:
    page_id: str
    url: str
    message: str


@dataclass
class SyncSummary:
    """What one pass did. Counts are rows; requests are HTTP requests sent (retries included)."""

    created: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    errors: int = 0
    rows_seen: int = 0
    status_writes: int = 0
    retried: int = 0
    notion_requests: int = 0
    langsmith_requests: int = 0
    cursor_before: str | None = None
    cursor_after: str | None = None
    duration: float = 0.0
    full: bool = False
    dry_run: bool = False
    problems: list[RowProblem] = field(default_factory=list)
    planned: list[str] = field(default_factory=list)  # dry run: what would have been done

    @property
    def changed(self) -> int:
        return self.created + self.updated + self.removed

    def counts(self) -> dict[str, Any]:
        """The pass as a job's result: its counts, and the number of row problems (their text is on the rows)."""
        scalars = {k: v for k, v in asdict(self).items() if not isinstance(v, list)}
        return scalars | {"problems": len(self.problems)}


@dataclass
class _Work:
    """A row whose LangSmith feedback must change, with what was decided about it before any request."""

    row: RatedRow
    desired: Desired
    base: store.Stored
    had: smith_feedback.RemoteFeedback | None
    fid: str
    shown_now: Shown


class SyncPass:
    """One pass. Holds the clients, the store and the running summary; ``run`` does the work."""

    def __init__(
        self,
        settings: Settings,
        notion: notion_client.Client,
        smith: langsmith.Client,
        *,
        full: bool,
        dry_run: bool,
        progress: ProgressFn | None,
    ) -> None:
        self.settings = settings
        self.notion = notion
        self.smith = smith
        self.full = full
        self.dry_run = dry_run
        self.progress = progress
        self.engine = open_state(settings.resolved_state_url)
        self.ds_id: str = settings.feedback_data_source_id  # type: ignore[assignment]
        self.key = settings.rating_key
        self.scale: RatingScale = SCALES[settings.rating_scale]
        self.summary = SyncSummary(full=full, dry_run=dry_run)
        self.handled: set[str] = set()
        self.cols: FeedbackColumns | None = None
        self._default_project: str | None | bool = False  # False: not looked up yet
        self._notion_base = sum(notion_factory.request_counts(notion).values())
        self._smith_base = sum(smith_factory.request_counts(smith).values())

    # -- the pass -------------------------------------------------------------------------------------------
    def run(self) -> SyncSummary:
        started = time.monotonic()
        s = self.summary
        try:
            self.cols = self._columns()  # first: a wrong token or id costs one request and says so
            s.cursor_before = store.get_cursor(self.engine, self.ds_id, self.key)
            s.cursor_after = s.cursor_before
            since = None
            if s.cursor_before and not self.full:
                lookback = timedelta(minutes=self.settings.sync_lookback_minutes)
                since = notion_time(parse_iso(s.cursor_before) - lookback)
            query = self._notion_call(self.notion.data_sources.query, "read the Feedback rows")
            for rows in iter_row_pages(query, self.ds_id, self.cols, since):
                self._page(rows)
            self._retry_due()
            self._flush_pending()
            if self.full:
                self._sweep_deleted_rows()
        except Exception as exc:
            self._finish(started)
            if isinstance(exc, SyncIncompleteError):
                exc.summary = s
            if not is_transient(exc):
                raise
            cause = getattr(exc, "message", str(exc))[:200]
            error = SyncIncompleteError(
                f"the sync stopped early: {exc.__class__.__name__}: {cause} (after repeated retries); "
                f"{s.rows_seen} rows were handled and saved",
                "nothing is lost: the next pass resumes from the saved cursor. If it persists, check the service's "
                "status page or lower NOTION_FEEDBACK_NOTION_REQUESTS_PER_SECOND",
            )
            error.summary = s
            raise error from None
        self._finish(started)
        return s

    def _finish(self, started: float) -> None:
        s = self.summary
        s.duration = time.monotonic() - started
        s.notion_requests = sum(notion_factory.request_counts(self.notion).values()) - self._notion_base
        s.langsmith_requests = sum(smith_factory.request_counts(self.smith).values()) - self._smith_base
        if self.progress:
            self.progress(s)

    def _notion_call(self, fn: Callable[..., Any], what: str) -> Callable[..., Any]:
        call = checked(fn, what, self.settings)
        return lambda **kwargs: with_retries(call, **kwargs)

    def _columns(self) -> FeedbackColumns:
        self.ds_id, ds = with_retries(data_source_of, self.notion, self.settings, "feedback_data_source_id")
        return resolve_columns(ds, self.settings)

    def _page(self, rows: list[RatedRow]) -> None:
        entries = store.load(self.engine, [r.page_id for r in rows], self.key)
        remote = self._remote(rows, entries) if self.full else None
        work: list[_Work] = []
        for row in rows:
            if row.page_id in self.handled and self._settled(row, entries.get(row.page_id)):
                continue  # our own write-back moved it later in this same query
            self.summary.rows_seen += 1
            job = self._prepare(row, entries.get(row.page_id), remote)
            if job is not None:
                work.append(job)
            self.handled.add(row.page_id)
        self._effects(work)
        if self.progress:
            self.progress(self.summary)
        last = rows[-1].last_edited_time
        s = self.summary
        if not self.dry_run and (s.cursor_after is None or parse_iso(last) > parse_iso(s.cursor_after)):
            store.set_cursor(self.engine, self.ds_id, self.key, last)
            s.cursor_after = last

    def _settled(self, row: RatedRow, entry: store.Stored | None) -> bool:
        fresh = store.load(self.engine, [row.page_id], self.key).get(row.page_id) or entry
        return decide.settled(row, fresh)

    def _remote(
        self, rows: list[RatedRow], entries: dict[str, store.Stored]
    ) -> dict[str, smith_feedback.RemoteFeedback]:
        # Only well-formed ids go to LangSmith: a malformed Run ID stays a row error, never a refused request.
        run_ids = {decide.parse_uuid(r.run_id) for r in rows if r.rating}
        run_ids |= {decide.parse_uuid(e.run_id) for e in entries.values()}
        wanted = sorted(r for r in run_ids if r)
        return with_retries(smith_feedback.read_many, self.smith, wanted, self.key) if wanted else {}

    # -- one row --------------------------------------------------------------------------------------------
    def _desired(self, row: RatedRow) -> Desired:
        fallback = self._project_fallback() if decide.needs_default_project(row, self.scale) else None
        return decide.desired_feedback(row, self.scale, fallback)

    def _project_fallback(self) -> str | None:
        """The id of LANGSMITH_PROJECT, looked up once per pass, for rows written without a Project ID."""
        if self._default_project is False:
            try:
                self._default_project = with_retries(projects.project_id, self.smith, self.settings.langsmith_project)
            except Exception as exc:  # noqa: BLE001 - an unknown project is a row problem, not a crash
                if is_transient(exc):
                    raise
                self._default_project = None
        return self._default_project  # type: ignore[return-value]

    def _row(
        self, row: RatedRow, entry: store.Stored | None, remote: dict[str, smith_feedback.RemoteFeedback] | None
    ) -> None:
        job = self._prepare(row, entry, remote)
        if job is not None:
            self._effects([job])

    def _effects(self, work: list[_Work]) -> None:
        """Send a page's LangSmith writes concurrently, then record each outcome in order.

        LangSmith answers each write in one round trip (~100 ms over the internet); sent one by one, a page of 100
        changed rows would take far longer than the Notion read that fetched it. Each row's effect is independent
        (its own deterministic feedback id), and the store and the row are only updated after the effect, so a
        crash still re-does at most this page, harmlessly.
        """
        self._one_row_per_run(work)
        if not self.dry_run and work:
            check_fence()  # a daemon that lost its lease (frozen, then resumed) stops before this page's writes
            intents = [
                decide.intent(job.base, job.desired, job.had) for job in work if decide.sends(job.desired, job.had)
            ]
            store.save_many(self.engine, intents)
        if len(work) <= 1 or self.dry_run:
            outcomes = [self._attempt(job) for job in work]
        else:
            with ThreadPoolExecutor(max_workers=min(LANGSMITH_CONCURRENCY, len(work))) as pool:
                outcomes = list(pool.map(self._attempt, work))
        failure: BaseException | None = None
        settled: list[store.Stored] = []  # saved together: one transaction per page instead of one per row
        try:
            for job, outcome in zip(work, outcomes, strict=True):
                if isinstance(outcome, BaseException):
                    failure = failure or outcome
                    continue
                self._complete(job, *outcome, settled=settled)
        finally:
            if not self.dry_run:
                store.save_many(self.engine, settled)
        if failure is not None:
            raise failure

    def _one_row_per_run(self, work: list[_Work]) -> None:
        """One feedback per run and key: a row rating a run another row already rates gets a row error naming it.

        A row that already holds its feedback on the run keeps it; only a new claim is refused. Within a page the
        row read first (edited first) wins. The refused row is tried again on a schedule, so clearing the other
        row's rating or Run ID lets it through without the person touching it again.
        """
        claims = [job.desired.run_id or "" for job in work if job.desired.kind == "valid"]
        owners = {
            run_id: decide.Owner(owner.page_id, owner.row_url or "")
            for run_id, owner in store.run_owners(self.engine, self.key, claims).items()
        }
        page = [(job.row.page_id, job.row.url, job.desired) for job in work]
        refused = decide.refuse_second_claims(page, owners)
        for job in work:
            job.desired = refused.get(job.row.page_id, job.desired)

    def _attempt(self, job: _Work) -> tuple[store.Stored, str] | BaseException:
        try:
            return self._apply(job.row, job.desired, job.base, job.had, job.fid)
        except Exception as exc:  # noqa: BLE001 - handed back, re-raised after the page's other outcomes are saved
            return exc

    def _prepare(
        self, row: RatedRow, entry: store.Stored | None, remote: dict[str, smith_feedback.RemoteFeedback] | None
    ) -> _Work | None:
        """Decide what a row needs without any request; None when it needs nothing."""
        s = self.summary
        fid = smith_feedback.feedback_id(row.page_id, self.key)
        shown_now = Shown.of(row.sync_status, row.sync_error)
        if decide.untracked(row, entry, held_remotely=remote is not None and fid in remote):
            if shown_now.blank or self.dry_run:
                s.unchanged += 1
                return None
            entry = store.Stored(row.page_id, self.key, fid)  # a stale status from a lost store: clear it
        desired: Desired | None = None
        if entry is not None:
            due = decide.retry_now(entry, full=self.full, now=_now_iso())
            verdict = decide.triage(row, entry, shown_now, checking_remote=remote is not None, due=due)
            if verdict == decide.RECHECK:
                desired = self._desired(row)
                verdict = decide.KNOWN_PROBLEM if decide.same_problem(desired, entry) else decide.HANDLE
            if verdict == decide.UNCHANGED:
                s.unchanged += 1
                return None
            if verdict == decide.KNOWN_PROBLEM:
                s.errors += 1
                self._problem(row, entry.error or "")
                return None
        if desired is None:
            desired = self._desired(row)
        base = entry or store.Stored(row.page_id, self.key, fid)
        had = self._has_feedback(base, fid, remote)
        return _Work(row, desired, base, had, fid, shown_now)

    def _complete(self, job: _Work, new: store.Stored, action: str, *, settled: list[store.Stored]) -> None:
        """Count the outcome, save it, and show it on the row when the display must change.

        An entry with nothing to show goes to ``settled`` (saved with the page's others); one whose row must change
        is saved at once, as pending, before the write-back, so a crash in between is finished by a later pass."""
        s = self.summary
        row, base, had, shown_now = job.row, job.base, job.had, job.shown_now
        if action in ("created", "updated", "removed"):
            setattr(s, action, getattr(s, action) + 1)
        elif action == "error":
            s.errors += 1
            self._problem(row, new.error or "")
        elif action == "unchanged":
            s.unchanged += 1
        every = self.settings.sync_status_writeback == "all"
        target = decide.target(new, shown_now, had_feedback=had is not None or base.score is not None, every=every)
        new.written_status = shown_now.encode()
        new.pending_status = target.encode() if target != shown_now else None
        new.row_edited_at = row.last_edited_time
        new.row_url, new.rater, new.run_start = row.url, row.rater or base.rater, row.run_start
        if self.dry_run:
            if new.pending_status is not None:
                s.planned.append(f"show {target.status or 'nothing'!r} on {row.url or row.page_id}")
            return
        if new.pending_status is None:
            settled.append(new)
            return
        store.save(self.engine, new)
        self._write_back(new, target)

    def _has_feedback(
        self, entry: store.Stored, fid: str, remote: dict[str, smith_feedback.RemoteFeedback] | None
    ) -> smith_feedback.RemoteFeedback | None:
        """What LangSmith holds for this row: asked of LangSmith in a full pass, else taken from the store."""
        if remote is not None:
            return remote.get(fid)
        if entry.status == store.MAYBE:  # an effect whose outcome was lost: ask LangSmith what it holds
            return with_retries(smith_feedback.read_one, self.smith, fid)
        if entry.score is None:
            return None
        return smith_feedback.RemoteFeedback(entry.run_id or "", entry.score, entry.comment)

    def _apply(
        self, row: RatedRow, desired: Desired, base: store.Stored, had: smith_feedback.RemoteFeedback | None, fid: str
    ) -> tuple[store.Stored, str]:
        """Make LangSmith match ``desired``; return the new store entry and what was done."""
        effect = decide.plan(desired, had)
        if desired.kind != "valid":
            removed = effect == decide.DELETE and self._delete(fid, row)
            new, action = decide.after_effect(base, row, desired, removed=removed)
            if desired.error_kind in RETRYABLE_KINDS:
                new.attempts, new.retry_at = _backoff(base, desired.error_kind)
            return new, action
        value = smith_feedback.FeedbackValue(
            run_id=desired.run_id or "",
            project_id=desired.project_id or "",
            score=desired.score or 0.0,
            comment=desired.comment,
            source_info=decide.source_info(row),
            run_start=parse_iso_or_none(row.run_start),
            label=row.rating,
        )
        try:
            action = self._send(effect, fid, value, row)
        except smith_feedback.RunNotFoundError:
            message = decide.not_found_message(value.run_id, value.project_id)
            new = decide.after_refusal(base, row, desired, "run_not_found", message)
            new.attempts, new.retry_at = _backoff(base, "run_not_found")
            return new, "error"
        except smith_feedback.FeedbackRejectedError as exc:
            message = f"LangSmith did not accept this rating: {exc.message}"
            return decide.after_refusal(base, row, desired, "rejected", message), "error"
        return decide.after_send(base, row, desired), action

    def _send(self, effect: str, fid: str, value: smith_feedback.FeedbackValue, row: RatedRow) -> str:
        """Carry out a valid rating's effect; returns what was done (created, updated, unchanged)."""
        if effect == decide.NOTHING:
            return "unchanged"
        if effect == decide.UPDATE:
            return self._update(fid, value, row)
        if effect == decide.MOVE:
            self._delete(fid, row)
        return self._create(fid, value, row)

    def _create(self, fid: str, value: smith_feedback.FeedbackValue, row: RatedRow) -> str:
        if self.dry_run:
            self.summary.planned.append(f"create feedback {value.score:g} on run {value.run_id} ({row.url})")
            return "created"
        ext = self.settings.extend_trace_retention
        return with_retries(
            smith_feedback.create_or_update, self.smith, fid, self.key, value, extend_trace_retention=ext
        )

    def _update(self, fid: str, value: smith_feedback.FeedbackValue, row: RatedRow) -> str:
        if self.dry_run:
            self.summary.planned.append(f"update feedback to {value.score:g} on run {value.run_id} ({row.url})")
            return "updated"
        if with_retries(smith_feedback.update, self.smith, fid, value.score, value.comment, value.label):
            return "updated"
        return self._create(fid, value, row)  # deleted behind our back

    def _delete(self, fid: str, row: RatedRow) -> bool:
        if self.dry_run:
            self.summary.planned.append(f"remove feedback {fid} ({row.url or row.page_id})")
            return True
        return bool(with_retries(smith_feedback.remove, self.smith, fid))  # False: it was not there (an unsent create)

    def _write_back(self, entry: store.Stored, target: Shown) -> None:
        assert self.cols is not None
        check_fence()
        try:
            with_retries(write_status, self.notion.pages.update, self.cols, entry.page_id, target)
        except notion_client.errors.HTTPResponseError as exc:
            status = notion_status(exc)
            if status == 404:
                log.info("row %s is gone; its Sync status is not written", entry.page_id)
            elif status == 400:
                raise SchemaDriftError(
                    f"Notion refused to write Sync status on a Feedback row: {str(exc)[:200]}",
                    f"make {self.cols.sync_status.name!r} a select and {self.cols.sync_error.name!r} a text "
                    "property again (`notion-feedback doctor` explains the drift)",
                ) from None
            else:
                raise
        self.summary.status_writes += 1
        entry.written_status, entry.pending_status = target.encode(), None
        store.save(self.engine, entry)

    def _problem(self, row: RatedRow, message: str) -> None:
        if len(self.summary.problems) < MAX_LISTED_PROBLEMS:
            self.summary.problems.append(RowProblem(row.page_id, row.url, message))

    # -- after the read -------------------------------------------------------------------------------------
    def _retry_due(self) -> None:
        """Rows waiting for their run to appear, tried again from the store (no Notion read needed)."""
        due = store.due_retries(self.engine, self.key, _now_iso(), RETRYABLE_KINDS, RETRIES_PER_PASS)
        for entry in due:
            if entry.page_id in self.handled:
                continue
            self.summary.retried += 1
            self._row(_row_from_store(entry), entry, None)
            self.handled.add(entry.page_id)

    def _flush_pending(self) -> None:
        if self.dry_run:
            return
        for entry in store.pending_writes(self.engine, self.key, PENDING_PER_PASS):
            target = Shown.decode(entry.pending_status)
            if target is not None:
                self._write_back(entry, target)

    def _sweep_deleted_rows(self) -> None:
        """Rows gone from Notion (trashed, deleted) take their feedback with them: Notion is the source of truth."""
        gone = decide.gone(store.with_feedback(self.engine, self.key), self.handled)
        for n, entry in enumerate(gone):
            if n % 100 == 0 and not self.dry_run:
                check_fence()
            row = _row_from_store(entry)
            if self._delete(entry.feedback_id, row):
                self.summary.removed += 1
            if not self.dry_run:
                store.save(self.engine, decide.after_row_gone(entry))


def _row_from_store(entry: store.Stored) -> RatedRow:
    shown = Shown.decode(entry.written_status) or BLANK
    return RatedRow(
        page_id=entry.page_id,
        url=entry.row_url or "",
        last_edited_time=entry.row_edited_at or "",
        rating=entry.option,
        comment=entry.comment,
        run_id=entry.run_id,
        project_id=entry.project_id,
        run_start=entry.run_start,
        sync_status=shown.status or None,
        sync_error=shown.error or None,
        rater=entry.rater,
    )


def _backoff(base: store.Stored, kind: str) -> tuple[int, str]:
    """Attempts so far and when (on this clock) to try again a row whose problem may go away by itself."""
    attempts, delay = decide.backoff(base, kind, MAX_RETRY_DELAY)
    return attempts, _now_iso(delay)


def _now_iso(delta: timedelta = timedelta(0)) -> str:
    return notion_time(datetime.now(UTC) + delta)


_ONE_PASS_AT_A_TIME = threading.Lock()


def run_sync(
    settings: Settings,
    *,
    full: bool = False,
    dry_run: bool = False,
    progress: ProgressFn | None = None,
    notion: notion_client.Client | None = None,
    smith: langsmith.Client | None = None,
) -> SyncSummary:
    """One sync pass; see the module docstring. Raises ``SchemaDriftError`` before writing anything when the
    Feedback data source lost a property, access errors with their fix, and ``SyncIncompleteError`` (carrying the
    summary so far) when a service kept failing: progress up to there is saved."""
    require(settings, "notion_token", "langsmith_api_key", "feedback_data_source_id")
    notion = notion or notion_factory.make_notion_client(settings)
    # Feedback never rides the batch queue here, so the server's /info is not needed: skip its request.
    smith = smith or smith_factory.make_langsmith_client(settings, info=LangSmithInfo())
    with _ONE_PASS_AT_A_TIME:  # the daemon's incremental and verification jobs share one process
        return SyncPass(settings, notion, smith, full=full, dry_run=dry_run, progress=progress).run()

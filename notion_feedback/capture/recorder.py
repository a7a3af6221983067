"""Write each recorded interaction as a rateable row in the Feedback data source, without ever slowing the agent.

``record()`` only appends to an in-memory queue (bounded; when it is full, the row goes straight to the spool).
An intake thread redacts each row and commits it to the spool on disk; a sender thread delivers the spool to
Notion on its own request budget, inside the process-wide Notion budget, oldest first. Delivery is exactly-once
in effect: a row whose request may have reached Notion (timeout, 5xx, a crash between send and acknowledgement)
is looked up by Run ID before it is sent again. An outage, a 429 storm or a restart only delays rows.
"""

from __future__ import annotations

import atexit
import collections
import logging
import threading
import time
import zlib
from dataclasses import dataclass
from typing import Any

import httpx
import langsmith
from langsmith import utils as ls_utils
from notion_client import APIErrorCode, APIResponseError
from notion_client.errors import HTTPResponseError, RequestTimeoutError

from notion_feedback.capture.redaction import Hook, Redactor
from notion_feedback.capture.spool import SENDING, Spool, SpooledRow
from notion_feedback.capture.tracing import Interaction, ProjectRef, cached_project, resolve_project, trace_url
from notion_feedback.config import Settings, require
from notion_feedback.notion.client import make_notion_client
from notion_feedback.notion.rows import RowValues, feedback_properties, run_id_filter
from notion_feedback.ratelimit import RateLimiter

log = logging.getLogger(__name__)

SPOOL_FILE = "spool.sqlite3"
_INTAKE_BATCH = 500
_SEND_BATCH = 50
_LOCK_RETRY_SECONDS = 2.0


def sampled(run_id: str, rate: float) -> bool:
    """Whether this run becomes a row: a pure function of the run id, so every retry and process agrees."""
    if rate >= 1.0:
        return True
    if rate <= 0.0:
        return False
    return zlib.crc32(run_id.encode()) < rate * 4294967296.0


@dataclass
class RecorderStats:
    """Counters for a summary line, a benchmark or a test."""

    recorded: int = 0
    sampled_out: int = 0
    overflowed: int = 0
    delivered: int = 0
    found_existing: int = 0
    retries: int = 0
    failed: int = 0


class _Outcome:
    DONE, RETRY, SKIP = "done", "retry", "skip"


class Recorder:
    """``Recorder(settings).record(it, question=..., answer=...)``; ``flush()``/``close()`` before exit (or atexit)."""

    def __init__(
        self,
        settings: Settings,
        *,
        redact_hook: Hook | None = None,
        langsmith_client: langsmith.Client | None = None,
        start: bool = True,
    ) -> None:
        require(settings, "notion_token", "feedback_data_source_id")
        self.settings = settings
        self.data_source_id: str = settings.feedback_data_source_id  # type: ignore[assignment]
        self.redactor = Redactor.from_settings(settings, redact_hook)
        self.spool = Spool(settings.home / SPOOL_FILE)
        self.stats = RecorderStats()
        self._queue: collections.deque[tuple[Any, ...]] = collections.deque()
        self._max = settings.recorder_queue_size
        self._sample_rate = settings.sample_rate
        self._intake_wake = threading.Event()
        self._sender_wake = threading.Event()
        self._stop = threading.Event()
        self._closed = False
        self._intake_busy = False
        self._langsmith = langsmith_client
        self._notion: Any = None
        self._budget = RateLimiter(settings.recorder_requests_per_second, burst=1.0, name="recorder")
        self._backoff = 0.0
        self._threads: list[threading.Thread] = []
        if start:
            self.start()

    # -- the agent's side: cheap, never raises -------------------------------------------------------------------------

    def record(
        self,
        interaction: Interaction,
        *,
        question: str | None = None,
        answer: str | None = None,
        user_id: str | None = None,
    ) -> None:
        """Queue one row and return at once. Inside the ``with`` block, the row waits for the interaction's end."""
        try:
            if not interaction.ended:
                interaction._on_end.append(lambda it: self._accept(it, question, answer, user_id))
                return
            self._accept(interaction, question, answer, user_id)
        except Exception:  # noqa: BLE001 - the agent must never break because of us
            log.exception("could not record an interaction")

    def _accept(self, it: Interaction, question: str | None, answer: str | None, user_id: str | None) -> None:
        run_id = str(it.run.id)  # type: ignore[union-attr]
        if self._sample_rate < 1.0 and not sampled(run_id, self._sample_rate):
            self.stats.sampled_out += 1
            return
        self.stats.recorded += 1
        item = (it, question, answer, user_id)
        if len(self._queue) >= self._max or self._closed:
            self.stats.overflowed += 1
            self.spool.add_many([self._spool_item(item)])  # the slow path: memory is full
            self._sender_wake.set()
            return
        self._queue.append(item)
        if not self._intake_wake.is_set():
            self._intake_wake.set()

    # -- intake: memory -> redacted rows on disk -----------------------------------------------------------------

    def _spool_item(self, item: tuple[Any, ...]) -> tuple[str, dict[str, Any]]:
        it, question, answer, user_id = item
        run_id = str(it.run.id)
        redact = self.redactor
        start = it.start_time
        project: ProjectRef | None = None
        if it.enabled:
            api_url = it.client.api_url if it.client is not None else self.settings.langsmith_endpoint
            project = cached_project(api_url, it.project_name)
        values = RowValues(
            run_id=run_id,
            question=redact(question),
            answer=redact(answer),
            project_id=project.id if project else None,
            run_start=start.isoformat() if start else None,
            trace_url=trace_url(project, run_id, start) if project and start else None,
            variant=it.variant,
            model=it.model,
            latency_ms=it.latency_ms,
            tokens=it.tokens,
            cost_usd=it.cost_usd,
            user=redact(user_id if user_id is not None else it.user_id) or None,
        )
        payload = values.to_json()
        if it.enabled and project is None:
            payload["_project_name"] = it.project_name  # resolved by the sender, off the agent's threads
        return run_id, payload

    def _intake_loop(self) -> None:
        while True:
            self._intake_wake.wait(timeout=0.5)
            self._intake_wake.clear()
            self._intake_busy = True
            try:
                while self._queue:
                    batch = []
                    while self._queue and len(batch) < _INTAKE_BATCH:
                        batch.append(self._spool_item(self._queue.popleft()))
                    self.spool.add_many(batch)
                    self._sender_wake.set()
            except Exception:  # noqa: BLE001 - keep the thread alive; the item stays lost only if the disk fails
                log.exception("the recorder could not spool rows")
            finally:
                self._intake_busy = False
            if self._stop.is_set() and not self._queue:
                return

    # -- sender: disk -> Notion --------------------------------------------------------------------------------

    def _client(self) -> Any:
        if self._notion is None:
            self._notion = make_notion_client(self.settings, extra_limiters=[self._budget])
        return self._notion

    def _smith(self) -> langsmith.Client | None:
        if self._langsmith is None and self.settings.langsmith_api_key is not None:
            from notion_feedback.smith.client import make_langsmith_client

            self._langsmith = make_langsmith_client(self.settings)
        return self._langsmith

    def _sender_loop(self) -> None:
        while not self.spool.try_lock_drain():
            if self._stop.wait(_LOCK_RETRY_SECONDS):
                return
        while not self._stop.is_set():
            rows = self.spool.next_rows(_SEND_BATCH)
            if not rows:
                self._sender_wake.wait(timeout=0.5)
                self._sender_wake.clear()
                continue
            for row in rows:
                if self._stop.is_set():
                    return
                outcome = self._deliver(row)
                if outcome == _Outcome.RETRY:
                    self.stats.retries += 1
                    base = self.settings.recorder_backoff_seconds
                    self._backoff = min(base * 64, self._backoff * 2 if self._backoff else base)
                    self._stop.wait(self._backoff)
                    break
                self._backoff = 0.0

    def _resolve(self, row: SpooledRow) -> dict[str, Any] | None:
        """The row's values with the project id filled in; None when LangSmith cannot be reached right now."""
        payload = dict(row.payload)
        name = payload.pop("_project_name", None)
        if name and not payload.get("project_id"):
            client = self._smith()
            if client is not None:
                try:
                    project = resolve_project(client, name)
                except (ls_utils.LangSmithConnectionError, ls_utils.LangSmithRateLimitError) as exc:
                    log.warning("LangSmith unreachable while resolving project %r: %s", name, type(exc).__name__)
                    return None
                except ls_utils.LangSmithAPIError as exc:
                    if str(getattr(exc, "status_code", "5"))[:1] == "5":
                        return None
                    log.warning("project %r not resolved (%s): the row is written without its project id", name, exc)
                    project = None
                except ls_utils.LangSmithError as exc:
                    log.warning("project %r not resolved (%s): the row is written without its project id", name, exc)
                    project = None
                if project is not None:
                    payload["project_id"] = project.id
                    start = payload.get("run_start")
                    if start and project.url:
                        payload["trace_url"] = f"{project.url}/r/{row.run_id}?trace_id={row.run_id}&start_time={start}"
        return payload

    def _exists(self, run_id: str) -> bool:
        found = self._client().data_sources.query(
            self.data_source_id, filter=run_id_filter(run_id, self.settings.property_map), page_size=1
        )
        return bool(found.get("results"))

    def _deliver(self, row: SpooledRow) -> str:
        payload = self._resolve(row)
        if payload is None:
            return _Outcome.RETRY
        client = self._client()
        try:
            if row.state == SENDING and self._exists(row.run_id):
                self.spool.done(row.seq)
                self.stats.found_existing += 1
                return _Outcome.DONE
        except Exception as exc:  # noqa: BLE001 - the check itself failed: try later, still unknown
            log.warning("could not check whether run %s already has a row: %s", row.run_id, _describe(exc))
            return _Outcome.RETRY
        properties = feedback_properties(RowValues.from_json(payload), self.settings.property_map)
        self.spool.mark_sending(row.seq)
        try:
            client.pages.create(
                parent={"type": "data_source_id", "data_source_id": self.data_source_id}, properties=properties
            )
        except httpx.ConnectError as exc:
            self.spool.mark_pending(row.seq, _describe(exc))  # nothing reached Notion
            log.warning("Notion unreachable; rows wait in the spool: %s", _describe(exc))
            return _Outcome.RETRY
        except (RequestTimeoutError, httpx.TransportError) as exc:
            log.warning("row for run %s: outcome unknown (%s); will check before resending", row.run_id, _describe(exc))
            return _Outcome.RETRY
        except APIResponseError as exc:
            return self._refused(row, exc)
        except HTTPResponseError as exc:  # 529 and other codes the SDK does not know
            if exc.status >= 500:
                log.warning("Notion answered %s; rows wait in the spool", exc.status)
                return _Outcome.RETRY
            self.spool.mark_pending(row.seq, _describe(exc))
            return _Outcome.RETRY
        self.spool.done(row.seq)
        self.stats.delivered += 1
        return _Outcome.DONE

    def _refused(self, row: SpooledRow, exc: APIResponseError) -> str:
        message = _describe(exc)
        if exc.status >= 500:
            log.warning("Notion answered %s for run %s; will check before resending", exc.status, row.run_id)
            return _Outcome.RETRY  # stays "sending": it may have been created
        if exc.code == APIErrorCode.RateLimited:
            self.spool.mark_pending(row.seq, message)
            return _Outcome.RETRY
        if exc.code in (APIErrorCode.Unauthorized, APIErrorCode.RestrictedResource, APIErrorCode.ObjectNotFound):
            self.spool.mark_pending(row.seq, message)
            log.error(
                "Notion refused the Feedback data source (%s); rows wait in the spool. "
                "Run `notion-feedback doctor` to see what to fix.",
                message,
            )
            self._backoff = self.settings.recorder_backoff_seconds * 32
            return _Outcome.RETRY
        # validation_error and the like: this row (or the schema) is wrong; keep it, go on with the others.
        self.spool.mark_failed(row.seq, message)
        self.stats.failed += 1
        log.error(
            "Notion refused the row for run %s: %s. It stays in the spool and is retried when a recorder next "
            "starts; `notion-feedback doctor` checks the schema.",
            row.run_id,
            message,
        )
        return _Outcome.SKIP

    # -- life cycle ----------------------------------------------------------------------------------------------

    def start(self) -> None:
        if self._threads:
            return
        # Rows Notion refused before get another chance (their cause, a changed schema say, may be fixed now).
        if revived := self.spool.retry_failed():
            log.info("retrying %d rows Notion refused before", revived)
        for name, target in (("intake", self._intake_loop), ("sender", self._sender_loop)):
            thread = threading.Thread(target=target, name=f"notion-feedback-recorder-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        atexit.register(self._at_exit)

    def pending(self) -> int:
        """Rows recorded and not yet in Notion (memory and spool; rows Notion refused are not counted)."""
        return len(self._queue) + (1 if self._intake_busy else 0) + self.spool.undelivered()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every recorded row is in Notion, at most ``timeout`` seconds. True when nothing is left."""
        deadline = time.monotonic() + (self.settings.recorder_flush_seconds if timeout is None else timeout)
        self._intake_wake.set()
        self._sender_wake.set()
        while self.pending():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True

    def close(self, timeout: float | None = None) -> bool:
        """Flush within ``timeout``, then stop. Rows not delivered by then stay in the spool for the next start."""
        if self._closed:
            return self.pending() == 0
        delivered = self.flush(timeout)
        self._closed = True
        self._stop.set()
        self._intake_wake.set()
        self._sender_wake.set()
        for thread in self._threads:
            thread.join(timeout=2.0)
        atexit.unregister(self._at_exit)
        left = self.spool.undelivered()
        if left:
            log.warning("%d rows not yet in Notion stay in %s and are sent at the next start", left, self.spool.path)
        self.spool.close()
        return delivered

    def _at_exit(self) -> None:
        self.close()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _describe(exc: BaseException) -> str:
    """An error in a few words: status and code, never a header or a token."""
    status = getattr(exc, "status", None)
    code = getattr(exc, "code", None)
    text = str(exc).splitlines()[0][:200] if str(exc) else ""
    parts = [p for p in (type(exc).__name__, str(status) if status else None, str(code) if code else None, text) if p]
    return " ".join(parts)

"""Write each recorded interaction as a rateable row in the Feedback data source, without ever slowing the agent.

``record()`` only appends to an in-memory queue (bounded; when it is full, the row goes straight to the spool).
One intake thread redacts each row and commits it to the spool on disk. A sender delivers the spool to Notion on
its own request budget, oldest first: by default a child process (``capture/sender.py``), started when rows wait
and restarted if it dies, so none of its Python work competes for the GIL with the agent; with
``NOTION_FEEDBACK_RECORDER_SENDER=thread``, a thread of this process. Delivery is exactly-once in effect: a row
whose request may have reached Notion (timeout, 5xx, a crash between send and acknowledgement) is looked up by
Run ID before it is sent again. An outage, a 429 storm, a killed sender or a restart only delays rows.

The durability window, the time from ``record()`` returning to the row being committed on disk (where a SIGKILL of
the agent cannot lose it), is one intake tick (20 ms) plus the time to write the rows queued before it. It is
bounded by ``NOTION_FEEDBACK_RECORDER_MAX_UNSAVED_SECONDS`` (1 s): the memory queue holds only as many rows as the
intake thread has been writing in half that time, and no row older than the bound; beyond either, ``record()``
writes the row itself. Measured by ``bench/bench_record.py`` and stated in ``docs/performance.md``. When the spool
cannot be written (a full disk), rows stay in memory and the write is retried; only rows beyond the memory bound are
dropped, and those are counted (``RecorderStats.dropped``, and in the spool once it can be written again, for
``status`` and ``doctor``) and logged once per incident with the cause.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import logging
import subprocess
import threading
import time
import zlib
from dataclasses import dataclass
from typing import Any

import langsmith

from notion_feedback.capture.rows import RowValues
from notion_feedback.capture.sender import SpoolSender, start_sender_process
from notion_feedback.capture.spool import DELIVERED, FAILED, FOUND_EXISTING, REFUSED, RETRIES, SPOOL_FILE, Spool
from notion_feedback.capture.tracing import (
    Interaction,
    configure_tracing,
    reset_tracing,
    trace_url,
)
from notion_feedback.config import Settings, require
from notion_feedback.errors import SpoolWriteError
from notion_feedback.redaction import Hook, Redactor
from notion_feedback.smith.projects import ProjectRef, cached_project

log = logging.getLogger(__name__)

__all__ = ["SPOOL_FILE", "Recorder", "RecorderStats", "sampled"]

_INTAKE_BATCH = 500
_INTAKE_TICK_SECONDS = 0.02
"""While rows come, the intake thread looks for them this often: record() then makes no system call (waking a
thread costs the agent ~6 µs a call)."""
_INTAKE_NAP_TICKS = 50
"""After this many empty ticks (1 s) the intake thread sleeps until record() wakes it."""
_MIN_UNSAVED_ROWS = 20
"""Memory holds at least this many rows, however slowly the intake writes (a slow redaction hook, say)."""
_FIRST_WRITE_RATE = 2000.0
"""Rows per second the intake is assumed to write until it has measured itself (a slow, loaded machine's figure)."""
_RESPAWN_SECONDS = 1.0
"""At most one sender process start per this many seconds (a sender that cannot start must not spin)."""
_STOP_SECONDS = 2.0


def sampled(run_id: str, rate: float) -> bool:
    """Whether this run becomes a row: a pure function of the run id, so every retry and process agrees."""
    if rate >= 1.0:
        return True
    if rate <= 0.0:
        return False
    return zlib.crc32(run_id.encode()) < rate * 4294967296.0


@dataclass
class RecorderStats:
    """Counters for a summary line, a benchmark or a test.

    ``recorded``, ``sampled_out``, ``overflowed`` (written to the spool by ``record()`` itself: memory was full)
    and ``dropped`` (lost: memory was full and the spool could not be written) are this recorder's; the delivery
    counters are what the spool's sender did while this recorder ran (read from the spool, so they hold in either
    sender mode).
    """

    recorded: int = 0
    sampled_out: int = 0
    overflowed: int = 0
    dropped: int = 0
    delivered: int = 0
    found_existing: int = 0
    retries: int = 0
    failed: int = 0


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """What a row needs of an ended interaction: a few values, so the queue does not keep run trees alive."""

    run_id: str
    start_time: Any
    enabled: bool
    api_url: str
    project_name: str
    variant: str | None
    model: str | None
    latency_ms: float | None
    tokens: int | None
    cost_usd: float | None
    user_id: str | None

    @classmethod
    def of(cls, it: Interaction, run_id: str, default_api_url: str) -> _Snapshot:
        enabled = it.enabled
        api_url = it.client.api_url if (enabled and it.client is not None) else default_api_url
        return cls(
            run_id,
            it.start_time,
            enabled,
            api_url,
            it.project_name if enabled else "",
            it.variant,
            it.model,
            it.latency_ms,
            it.tokens,
            it.cost_usd,
            it.user_id,
        )


_ROW_OVERHEAD_CHARS = 300  # a queued row's numbers and ids, in characters of memory, roughly


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
        self.tracer = configure_tracing(settings)  # traces go where the rows say they are: the same settings
        self.data_source_id: str = settings.feedback_data_source_id  # type: ignore[assignment]
        self.redactor = Redactor.from_settings(settings, redact_hook)
        self.spool = Spool(settings.home / SPOOL_FILE)
        self.mode = settings.recorder_sender
        self._counts = RecorderStats()
        self._baseline = self.spool.counters()
        self._final: RecorderStats | None = None
        self._queue: collections.deque[tuple[Any, ...]] = collections.deque()
        self._max = settings.recorder_queue_size
        self._max_chars = int(settings.recorder_queue_mb * 1_000_000)
        self._queued_chars = 0  # text of the rows in memory: queued, or held by the intake until written
        self._held: list[tuple[str, dict[str, Any]]] = []  # a batch the intake could not write yet
        self._held_queued_ns: list[int] = []
        self._held_chars = 0
        self._unsaved_drops = 0  # dropped rows not yet counted in the spool file
        self._incident: str | None = None  # why the spool cannot be written, while it cannot
        self._incident_dropped = 0
        self._unsaved_ns = int(settings.recorder_max_unsaved_seconds * 1e9)
        self._write_rate = _FIRST_WRITE_RATE  # rows per second the intake writes, measured per batch
        self._unsaved_limit = self._rows_in_half_the_bound()
        self.window_samples: list[tuple[int, int]] | None = None
        """Set to a list to collect, per row, (when record() queued it, ns from record() returning to its commit),
        both in ``perf_counter_ns`` (the benchmark does)."""
        self._chars_lock = threading.Lock()
        self._sample_rate = settings.sample_rate
        self._intake_wake = threading.Event()
        self._intake_asleep = True
        self._wake_at = max(1, min(_INTAKE_BATCH, self._max // 2))
        self._sender_wake = threading.Event()
        self._stop = threading.Event()
        self._closed = False
        self._intake_busy = False
        self._langsmith = langsmith_client
        self._threads: list[threading.Thread] = []
        self._sender: SpoolSender | None = None  # thread mode
        self._process: subprocess.Popen[bytes] | None = None  # process mode
        self._process_lock = threading.Lock()
        self._next_spawn = 0.0
        self.spool_left = 0
        """Rows still undelivered when close() returned."""
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
            self._counts.sampled_out += 1
            return
        self._counts.recorded += 1
        size = len(question or "") + len(answer or "") + _ROW_OVERHEAD_CHARS
        snapshot = _Snapshot.of(it, run_id, self.settings.langsmith_endpoint)
        item = (snapshot, question, answer, user_id, size, time.perf_counter_ns())
        in_memory = len(self._queue) + len(self._held)
        if in_memory >= self._max or self._queued_chars + size > self._max_chars or self._closed:
            self._overflow(item)
            return
        if self._incident is None and (in_memory >= self._unsaved_limit or self._oldest_unsaved(item[5])):
            self._overflow(item)  # memory holds what the disk can take in the durability window, no more
            return
        with self._chars_lock:
            self._queued_chars += size
        self._queue.append(item)
        if self._intake_asleep or len(self._queue) >= self._wake_at:
            self._intake_wake.set()

    def _oldest_unsaved(self, now_ns: int) -> bool:
        """Whether the oldest row in memory has waited longer than the durability bound (the intake is behind)."""
        try:
            return now_ns - self._queue[0][5] > self._unsaved_ns
        except IndexError:  # empty, or emptied by the intake meanwhile
            return False

    def _rows_in_half_the_bound(self) -> int:
        """Rows the intake writes in half the durability bound at its measured rate (at least a few): the other
        half is room for the rate to fall further."""
        return min(self._max, max(_MIN_UNSAVED_ROWS, int(self._write_rate * self._unsaved_ns / 2e9)))

    def _overflow(self, item: tuple[Any, ...]) -> None:
        """Memory is full: the agent's thread writes the row itself (the slow path), or, while the spool cannot be
        written, the row is dropped and counted."""
        if self._incident is None:
            try:
                self.spool.add_many([self._spool_item(item)])
            except SpoolWriteError as exc:
                self._incident_begins(exc)
            else:
                self._counts.overflowed += 1
                if self.window_samples is not None:
                    self.window_samples.append((item[5], 0))  # on disk before record() returned
                self._sender_wake.set()
                if not self._intake_wake.is_set():
                    self._intake_wake.set()  # the intake thread makes sure a sender runs
                return
        self._drop(1)

    def _drop(self, n: int) -> None:
        self._counts.dropped += n
        self._unsaved_drops += n
        self._incident_dropped += n
        if self._incident_dropped == n:  # the first loss of this incident: say it once, with the cause
            log.error(
                "the recorder is dropping rows: memory holds %d rows and the spool cannot be written (%s). "
                "Free space on the disk that holds %s; dropped rows are counted (status, doctor).",
                self._max,
                self._incident,
                self.spool.path.parent,
            )

    def _incident_begins(self, exc: SpoolWriteError) -> None:
        if self._incident is None:
            self._incident = str(exc.__cause__ or exc.message)
            self._incident_dropped = 0
            log.warning(
                "the recorder cannot write its spool (%s); rows wait in memory (up to %d) and the write is retried",
                self._incident,
                self._max,
            )

    def _incident_ends(self) -> None:
        if self._incident is not None:
            log.warning(
                "the recorder's spool can be written again; %d rows were dropped meanwhile", self._incident_dropped
            )
            self._incident = None

    # -- intake: memory -> redacted rows on disk -----------------------------------------------------------------

    def _spool_item(self, item: tuple[Any, ...]) -> tuple[str, dict[str, Any]]:
        it, question, answer, user_id = item[:4]
        run_id = it.run_id
        redact = self.redactor
        start = it.start_time
        project: ProjectRef | None = None
        if it.enabled:
            project = cached_project(it.api_url, it.project_name)
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

    def _write_queued(self) -> None:
        """Move queued rows to disk, a batch per transaction. A batch that cannot be written stays held (it counts
        against the memory bound) and is tried again on the next tick; nothing is taken off the queue meanwhile."""
        while self._held or self._queue:
            started = time.perf_counter()
            if not self._held:
                while self._queue and len(self._held) < _INTAKE_BATCH:
                    item = self._queue.popleft()
                    self._held_chars += item[4]
                    self._held_queued_ns.append(item[5])
                    self._held.append(self._spool_item(item))
            dropped = self._unsaved_drops
            try:
                self.spool.add_many(self._held, dropped=dropped)
            except SpoolWriteError as exc:
                self._incident_begins(exc)
                return
            if self.window_samples is not None:
                now = time.perf_counter_ns()
                self.window_samples.extend((queued, now - queued) for queued in self._held_queued_ns)
            self._unsaved_drops -= dropped
            self._measure(len(self._held), time.perf_counter() - started)
            with self._chars_lock:
                self._queued_chars -= self._held_chars
            self._held, self._held_queued_ns, self._held_chars = [], [], 0
            self._incident_ends()
            self._sender_wake.set()

    def _measure(self, rows: int, seconds: float) -> None:
        """Follow the intake's write rate (rows per second, smoothed), which sets how many rows memory may hold."""
        if rows >= _MIN_UNSAVED_ROWS and seconds > 0:
            # Wall time, so a batch slowed by the agent's own threads (the GIL) or a busy machine counts as slow;
            # a fall is followed at once, a rise slowly.
            rate = rows / seconds
            self._write_rate = min(rate, 0.8 * self._write_rate + 0.2 * rate)
            self._unsaved_limit = self._rows_in_half_the_bound()

    def _intake_loop(self) -> None:
        idle_ticks = 0
        while True:
            if self._incident is not None:
                self._intake_wake.wait(timeout=self.settings.recorder_backoff_seconds)
            elif self._intake_asleep:
                self._intake_wake.wait(timeout=0.5)
            else:
                self._intake_wake.wait(timeout=_INTAKE_TICK_SECONDS)
            self._intake_wake.clear()
            self._intake_busy = True
            wrote = bool(self._queue or self._held)
            try:
                self._write_queued()
            except Exception:  # noqa: BLE001 - keep the thread alive; unwritten rows stay queued or held
                log.exception("the recorder could not spool rows")
            finally:
                self._intake_busy = False
            idle_ticks = 0 if wrote else idle_ticks + 1
            self._intake_asleep = idle_ticks >= _INTAKE_NAP_TICKS  # record() wakes a sleeping intake
            if self.mode == "process" and (wrote or self._intake_asleep or idle_ticks % 25 == 0):
                self._ensure_sender_process()
            if self._stop.is_set() and (self._incident is not None or not (self._queue or self._held)):
                return

    # -- the sender process ------------------------------------------------------------------------------------

    def _ensure_sender_process(self) -> None:
        """Start a sender process when rows wait and none runs (never ours twice; none while another drains)."""
        with self._process_lock:
            process = self._process
            if process is not None:
                if process.poll() is None:
                    return
                if process.returncode not in (0, -15):
                    log.warning("the recorder's sender exited with %s; starting another", process.returncode)
                self._process = None
            if self._stop.is_set() or time.monotonic() < self._next_spawn:
                return
            try:
                if not self.spool.undelivered() or self.spool.drain_locked_elsewhere():
                    return
                self._next_spawn = time.monotonic() + _RESPAWN_SECONDS
                self._process = start_sender_process(self.settings, self.spool.path)
            except Exception as exc:  # noqa: BLE001 - rows stay in the spool; say how to get them sent
                log.error(
                    "could not start the recorder's sender process (%s): rows wait in %s. Set "
                    "NOTION_FEEDBACK_RECORDER_SENDER=thread where processes cannot be started.",
                    type(exc).__name__,
                    self.spool.path,
                )

    def _stop_sender_process(self) -> None:
        with self._process_lock:
            process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()  # it stops after the request in flight; a row cut short is checked by Run ID later
        try:
            process.wait(_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(_STOP_SECONDS)

    @property
    def sender_pid(self) -> int | None:
        """The running sender process's id (process mode), for a supervisor or a test."""
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    # -- life cycle ----------------------------------------------------------------------------------------------

    def start(self) -> None:
        if self._threads:
            return
        # Rows Notion refused for good stay parked: the same request would be refused again. `notion-feedback spool
        # --retry` sends them once their cause is fixed; `doctor` and `status` say they are there.
        if parked := self.spool.counts()[FAILED]:
            log.warning("%d rows Notion refused are parked in the spool: see `notion-feedback spool`", parked)
        targets: list[tuple[str, Any]] = [("intake", self._intake_loop)]
        if self.mode == "thread":
            self._sender = SpoolSender(self.settings, self.spool, langsmith_client=self._langsmith, stop=self._stop)
            targets.append(("sender", lambda: self._sender.run_in_thread(self._sender_wake)))  # type: ignore[union-attr]
        for name, target in targets:
            thread = threading.Thread(target=target, name=f"notion-feedback-recorder-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        self._intake_wake.set()  # rows left by an earlier run get a sender at once
        atexit.register(self._at_exit)

    @property
    def stats(self) -> RecorderStats:
        if self._final is not None:
            return self._final
        counters = self.spool.counters()
        counts = self._counts
        return RecorderStats(
            recorded=counts.recorded,
            sampled_out=counts.sampled_out,
            overflowed=counts.overflowed,
            dropped=counts.dropped,
            **{
                field: counters[name] - self._baseline[name]
                for field, name in (
                    ("delivered", DELIVERED),
                    ("found_existing", FOUND_EXISTING),
                    ("retries", RETRIES),
                    ("failed", REFUSED),
                )
            },
        )

    def pending(self) -> int:
        """Rows recorded and not yet in Notion (memory and spool; rows Notion refused are not counted)."""
        return len(self._queue) + len(self._held) + (1 if self._intake_busy else 0) + self.spool.undelivered()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every recorded row is in Notion, at most ``timeout`` seconds. True when nothing is left."""
        deadline = time.monotonic() + (self.settings.recorder_flush_seconds if timeout is None else timeout)
        self._intake_wake.set()
        self._sender_wake.set()
        while self.pending():
            if time.monotonic() >= deadline:
                return False
            if self._incident is not None and self._intake_wake.is_set() is False:
                self._intake_wake.set()  # retry the spool's write now rather than at the next back-off
            if self.mode == "process" and not self._closed and not self._queue and not self._intake_busy:
                self._ensure_sender_process()  # one died, or went idle just before the last rows came
            time.sleep(0.01)
        return True

    def close(self, timeout: float | None = None) -> bool:
        """Flush within ``timeout``, then stop (our sender too). Rows not in Notion by then wait in the spool
        for the next start, or for ``notion-feedback run``."""
        if self._closed:
            return self.spool_left == 0
        delivered = self.flush(timeout)
        self._closed = True
        self._stop.set()
        self._intake_wake.set()
        self._sender_wake.set()
        for thread in self._threads:
            thread.join(timeout=_STOP_SECONDS)
        self._stop_sender_process()
        atexit.unregister(self._at_exit)
        self._drop_what_memory_holds()
        self.spool_left = self.spool.undelivered()
        if self.spool_left:
            log.warning(
                "%d rows not yet in Notion stay in %s; they are sent at the next start or by `notion-feedback run`",
                self.spool_left,
                self.spool.path,
            )
        self._final = self.stats
        self.spool.close()
        reset_tracing(self.tracer)  # sends the runs the SDK still queues
        return delivered

    def _drop_what_memory_holds(self) -> None:
        """At close, rows the spool never took are lost with the process: count them, and save the count if the
        spool can be written now."""
        left = len(self._queue) + len(self._held)
        if left and not any(thread.is_alive() for thread in self._threads):
            self._incident = self._incident or "the recorder closed before it could write them"
            self._drop(left)
            self._queue.clear()
            self._held.clear()
        if self._unsaved_drops:
            with contextlib.suppress(SpoolWriteError):
                self.spool.add_many([], dropped=self._unsaved_drops)
                self._unsaved_drops = 0

    def _at_exit(self) -> None:
        self.close()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

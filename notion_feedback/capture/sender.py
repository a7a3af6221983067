"""Deliver the recorder's spool to Notion: from a process of its own (the default), a thread, or the daemon.

The sending is Python work (JSON, httpx, the notion-client SDK); in the agent's process it competes for the GIL
with the agent's threads and makes ``record()`` wait. So by default the recorder only appends to the spool, and
``python -m notion_feedback.capture.sender_main --spool <path>`` drains it. Its settings come through the environment
(they hold the token: never on a command line). Only the holder of the spool's drain lock sends; a killed sender
loses nothing (the rows are on disk) and duplicates nothing (a row whose outcome is unknown is looked up by Run
ID before it is sent again). A sender process exits when the spool is empty and its parent has gone, or after
``IDLE_EXIT_SECONDS`` without work; the recorder starts another when rows wait.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import langsmith
from langsmith import utils as ls_utils
from notion_client import APIErrorCode, APIResponseError
from notion_client.errors import HTTPResponseError, RequestTimeoutError
from pydantic import SecretStr

from notion_feedback.capture.rows import RowValues, feedback_children, feedback_properties, run_id_filter
from notion_feedback.capture.spool import FOUND_EXISTING, RETRIES, SENDING, SPOOL_FILE, Spool, SpooledRow
from notion_feedback.capture.tracing import trace_url
from notion_feedback.config import Settings, env_name, require
from notion_feedback.masking import mask_secrets
from notion_feedback.notion.blocks import batches, encoded_bytes
from notion_feedback.notion.client import make_notion_client
from notion_feedback.notion.limits import REQUEST_BUDGET_BYTES
from notion_feedback.notion.text import plain_text
from notion_feedback.ratelimit import RateLimiter
from notion_feedback.smith import projects

log = logging.getLogger(__name__)

SEND_BATCH = 50
LOCK_RETRY_SECONDS = 2.0
POLL_SECONDS = 0.05
"""How often an idle sender process looks for new rows (it cannot be woken across processes)."""
IDLE_EXIT_SECONDS = 30.0
"""A sender process with nothing to send for this long exits; the recorder starts a new one when rows wait."""
ORPHAN_GRACE_SECONDS = 60.0
"""A sender whose agent died keeps sending at most this long; what is left waits for the next start or the daemon."""


class _Outcome:
    DONE, RETRY, SKIP = "done", "retry", "skip"


class SpoolSender:
    """Sends the oldest spooled rows on the recorder's own budget; the caller holds the spool's drain lock."""

    def __init__(
        self,
        settings: Settings,
        spool: Spool,
        *,
        langsmith_client: langsmith.Client | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        require(settings, "notion_token", "feedback_data_source_id")
        self.settings = settings
        self.spool = spool
        self.data_source_id: str = settings.feedback_data_source_id  # type: ignore[assignment]
        self.stop = stop or threading.Event()
        self.budget = RateLimiter(settings.recorder_requests_per_second, burst=1.0, name="recorder")
        self.delivered = 0
        """Rows now in Notion thanks to this sender (written, or found there after an unknown outcome)."""
        self._langsmith = langsmith_client
        self._notion: Any = None
        self._backoff = 0.0

    # -- loops -------------------------------------------------------------------------------------------------

    def send_batch(self, deadline: float | None = None) -> int | None:
        """Try the oldest rows once each, stopping at the first that must wait. None when the spool has none."""
        rows = self.spool.next_rows(SEND_BATCH)
        if not rows:
            return None
        handled = 0
        for row in rows:
            if self.stop.is_set() or _past(deadline):
                break
            outcome = self._deliver(row)
            if outcome == _Outcome.RETRY:
                self.spool.bump(RETRIES)
                base = self.settings.recorder_backoff_seconds
                self._backoff = min(base * 64, self._backoff * 2 if self._backoff else base)
                self.stop.wait(self._backoff if deadline is None else max(0.0, min(self._backoff, _left(deadline))))
                break
            self._backoff = 0.0
            handled += 1
        return handled

    def run_in_thread(self, wake: threading.Event) -> None:
        """The in-process mode: send until stopped; ``wake`` is set when rows are added."""
        while not self.spool.try_lock_drain():
            if self.stop.wait(LOCK_RETRY_SECONDS):
                return
        while not self.stop.is_set():
            if self.send_batch() is None:
                wake.wait(timeout=0.5)
                wake.clear()

    def drain(self, deadline: float | None = None) -> int:
        """Send until the spool is empty, ``deadline`` (a ``time.monotonic()`` value) passes, or stop is set."""
        while not self.stop.is_set() and not _past(deadline):
            if self.send_batch(deadline) is None:
                break
        return self.delivered

    def run_as_process(self, parent_pid: int | None) -> None:
        """The sender process: send while there is work; exit when idle, or when the agent is gone and done."""

        def orphaned() -> bool:
            return parent_pid is not None and os.getppid() != parent_pid

        started = time.monotonic()
        while not self.spool.try_lock_drain():
            if orphaned() or time.monotonic() - started > IDLE_EXIT_SECONDS or self.stop.wait(LOCK_RETRY_SECONDS):
                return
        idle_since = time.monotonic()
        orphan_deadline: float | None = None
        while not self.stop.is_set():
            if orphan_deadline is None and orphaned():
                orphan_deadline = time.monotonic() + ORPHAN_GRACE_SECONDS
            if _past(orphan_deadline):
                left = self.spool.undelivered()
                log.warning(
                    "the agent is gone; %d rows wait in %s for its next start or the daemon", left, self.spool.path
                )
                return
            handled = self.send_batch(orphan_deadline)
            if handled is None:
                if orphan_deadline is not None or time.monotonic() - idle_since > IDLE_EXIT_SECONDS:
                    return
                self.stop.wait(POLL_SECONDS)
            else:
                idle_since = time.monotonic()

    # -- one row -----------------------------------------------------------------------------------------------

    def _client(self) -> Any:
        if self._notion is None:
            self._notion = make_notion_client(self.settings, extra_limiters=[self.budget])
        return self._notion

    def _smith(self) -> langsmith.Client | None:
        if self._langsmith is None and self.settings.langsmith_api_key is not None:
            from notion_feedback.smith.client import make_langsmith_client

            self._langsmith = make_langsmith_client(self.settings)
        return self._langsmith

    def _resolve(self, row: SpooledRow) -> dict[str, Any] | None:
        """The row's values with the project id filled in; None when LangSmith cannot be reached right now."""
        payload = dict(row.payload)
        name = payload.pop("_project_name", None)
        if name and not payload.get("project_id"):
            client = self._smith()
            if client is not None:
                try:
                    project = projects.project(client, name, create=True)
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
                        payload["trace_url"] = trace_url(project, row.run_id, start)
        return payload

    def _existing_page(self, run_id: str) -> str | None:
        """The id of the run's row when Notion already has it (a create whose answer was lost), else None."""
        found = self._client().data_sources.query(
            self.data_source_id, filter=run_id_filter(run_id, self.settings.property_map), page_size=1
        )
        results = found.get("results") or []
        return results[0]["id"] if results else None

    def _missing_body(self, page_id: str, blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The blocks of ``blocks`` the row's body still lacks: what follows the prefix earlier appends put there.

        A body that is not a prefix of ``blocks`` (a person edited it, or an older version laid it out otherwise)
        is left alone: appending to it could write text twice.
        """
        if not blocks:
            return []
        client, present, cursor = self._client(), [], None
        while True:
            page = client.blocks.children.list(page_id, page_size=100, **({"start_cursor": cursor} if cursor else {}))
            present += [_block_text(b) for b in page.get("results") or []]
            if not page.get("has_more"):
                break
            cursor = page.get("next_cursor")
        if present != [_block_text(b) for b in blocks[: len(present)]]:
            log.warning("row %s: its body is not the one this delivery writes; left as it is", page_id)
            return []
        return blocks[len(present) :]

    def _append_body(self, page_id: str, blocks: list[dict[str, Any]]) -> None:
        """Append the rest of a long row's body, one request per batch that fits Notion's limits.

        Each append is all or nothing, so after a crash or a lost answer the blocks already on the page are a
        prefix of ``blocks``: the next attempt counts them and appends only what is missing (none twice).
        """
        for batch in batches(blocks):
            self._client().blocks.children.append(page_id, children=batch)

    def _deliver(self, row: SpooledRow) -> str:
        payload = self._resolve(row)
        if payload is None:
            return _Outcome.RETRY
        values = RowValues.from_json(payload)
        properties = feedback_properties(values, self.settings.property_map)
        children = feedback_children(values)
        try:
            if row.state == SENDING and (page_id := self._existing_page(row.run_id)):
                self._append_body(page_id, self._missing_body(page_id, children))
                self.spool.done(row.seq, FOUND_EXISTING)
                self.delivered += 1
                return _Outcome.DONE
        except Exception as exc:  # noqa: BLE001 - the check itself failed: try later, still unknown
            log.warning("could not check whether run %s already has a row: %s", row.run_id, describe(exc))
            return _Outcome.RETRY
        # Only a long row has a body: a short one is not measured (the sender's per-row cost stays as it was).
        room = REQUEST_BUDGET_BYTES - encoded_bytes(properties) if children else REQUEST_BUDGET_BYTES
        groups = list(batches(children, first_bytes=room))
        first, rest = (groups[0] if groups else []), [block for group in groups[1:] for block in group]
        self.spool.mark_sending(row.seq)
        try:
            page = self._client().pages.create(
                parent={"type": "data_source_id", "data_source_id": self.data_source_id},
                properties=properties,
                **({"children": first} if first else {}),
            )
        except httpx.ConnectError as exc:
            self.spool.mark_pending(row.seq, describe(exc))  # nothing reached Notion
            log.warning("Notion unreachable; rows wait in the spool: %s", describe(exc))
            return _Outcome.RETRY
        except (RequestTimeoutError, httpx.TransportError) as exc:
            log.warning("row for run %s: outcome unknown (%s); will check before resending", row.run_id, describe(exc))
            return _Outcome.RETRY
        except APIResponseError as exc:
            return self._refused(row, exc)
        except HTTPResponseError as exc:  # 529 and other codes the SDK does not know
            if exc.status >= 500:
                log.warning("Notion answered %s; rows wait in the spool", exc.status)
                return _Outcome.RETRY
            self.spool.mark_pending(row.seq, describe(exc))
            return _Outcome.RETRY
        if rest:
            try:
                self._append_body(page["id"], rest)
            except Exception as exc:  # noqa: BLE001 - the row exists; whatever stopped the body, it resumes
                return self._body_unfinished(row, exc)
        self.spool.done(row.seq)
        self.delivered += 1
        return _Outcome.DONE

    def _body_unfinished(self, row: SpooledRow, exc: BaseException) -> str:
        """The row exists but its body is not complete: it stays "sending", and the next attempt finds the page and
        appends what is missing."""
        log.warning("row for run %s: the rest of its body waits (%s)", row.run_id, describe(exc))
        return _Outcome.RETRY

    def _refused(self, row: SpooledRow, exc: APIResponseError) -> str:
        message = describe(exc)
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
        # validation_error and the like: the same request would be refused again. Park the row, whole, with its
        # reason, and go on with the others; it is sent again when someone fixes the cause and asks.
        self.spool.mark_failed(row.seq, message)
        log.error(
            "Notion refused the row for run %s: %s. It is parked in the spool: fix the cause (`notion-feedback "
            "doctor` checks the schema), then `notion-feedback spool --retry`.",
            row.run_id,
            message,
        )
        return _Outcome.SKIP


def _block_text(block: dict[str, Any]) -> tuple[str, str]:
    kind = block.get("type", "")
    return kind, plain_text((block.get(kind) or {}).get("rich_text"))


def describe(exc: BaseException) -> str:
    """An error in a few words: status and code, never a header or a token."""
    status = getattr(exc, "status", None)
    code = getattr(exc, "code", None)
    text = str(exc).splitlines()[0][:200] if str(exc) else ""
    parts = [p for p in (type(exc).__name__, str(status) if status else None, str(code) if code else None, text) if p]
    return mask_secrets(" ".join(parts))


def _past(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline


def _left(deadline: float) -> float:
    return deadline - time.monotonic()


# -- the daemon's entry point -------------------------------------------------------------------------------------


def drain_spool(settings: Settings, deadline: float | None = None) -> int:
    """Send the rows a recorder left in the spool under ``settings.home`` (an agent that died, say).

    ``deadline`` is a ``time.monotonic()`` value (``time.monotonic() + 30``: at most about 30 s, one request
    may overrun it). Returns the rows now in Notion; 0 when there is no spool, nothing waits, or another process
    (an agent's sender) holds the drain lock and is sending them already. Rows Notion refused stay parked
    (``notion-feedback spool --retry`` sends them again).
    Needs NOTION_TOKEN and NOTION_FEEDBACK_FEEDBACK_DATA_SOURCE_ID; sends on the recorder's budget.
    """
    path = settings.home / SPOOL_FILE
    if not path.exists():
        return 0
    spool = Spool(path)
    try:
        if not spool.undelivered() or not spool.try_lock_drain():
            return 0
        return SpoolSender(settings, spool).drain(deadline)
    finally:
        spool.close()


# -- the sender process -------------------------------------------------------------------------------------------


def settings_environment(settings: Settings, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment that recreates ``settings`` in a child process (secrets included: keep it off argv)."""
    env = dict(os.environ if base is None else base)
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        for candidate in (*getattr(alias, "choices", ()), env_name(name)):
            if isinstance(candidate, str):
                env.pop(candidate, None)
                env.pop(candidate.upper(), None)
        value = getattr(settings, name)
        if value is None:
            continue
        if isinstance(value, SecretStr):
            text = value.get_secret_value()
        elif isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, dict | list):
            text = json.dumps(value)
        elif isinstance(value, Path):
            text = str(value.resolve())
        else:
            text = str(value)
        env[env_name(name)] = text
    return env


def start_sender_process(settings: Settings, spool_path: Path) -> subprocess.Popen[bytes]:
    """Start ``python -m notion_feedback.capture.sender_main`` for this spool, its settings in its environment."""
    command = [sys.executable, "-m", "notion_feedback.capture.sender_main"]
    return subprocess.Popen(
        [*command, "--spool", str(spool_path), "--parent", str(os.getpid())],
        env=settings_environment(settings),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl-C meant for the agent does not kill a request half-way; close() stops it
        close_fds=True,
    )

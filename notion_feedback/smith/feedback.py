"""The rating's feedback in LangSmith: one per (Notion row, key), with an id derived from both.

Why a deterministic id: a create whose response was lost (timeout, crash, 5xx after the effect) is simply sent
again; LangSmith answers 409 and the write becomes an update. No search, no duplicate, and a rebuild of the
state store finds the same feedback again. It also makes langsmith-sdk#2525 (deleted feedback re-appearing after
a delete-then-create on the same run and key) harmless: whatever re-appears is the same id and is overwritten.

Every call is synchronous and single-attempt at the SDK level (``stop_after_attempt=1``): the SDK would otherwise
retry a 404 for ~8 minutes, and the engine has its own bounded retry policy for transient failures.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import langsmith
import requests
from langsmith import utils as ls_utils

from notion_feedback.errors import (
    FeedbackRejectedError,
    LangSmithAccessError,
    RunNotFoundError,
    TransientLangSmithError,
    is_permanent_status,
)

# Fixed forever: changing it would orphan every feedback already written.
FEEDBACK_NAMESPACE = uuid.UUID("6f0b7c2e-3d51-5b8e-9a57-4e1c0f2d9b11")


_quiet = threading.local()


class _OwnErrorsFilter(logging.Filter):
    """The SDK logs every failed create with a traceback at ERROR; ours are handled (409, 404), so drop those."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (getattr(_quiet, "on", False) and record.getMessage() == "Error creating feedback")


logging.getLogger("langsmith.client").addFilter(_OwnErrorsFilter())


def feedback_id(page_id: str, key: str) -> str:
    """The feedback id of a row and key: the same on every machine and after any crash."""
    return str(uuid.uuid5(FEEDBACK_NAMESPACE, f"{uuid.UUID(page_id)}:{key}"))


def http_status(exc: BaseException) -> int | None:
    """The HTTP status behind an SDK error (the SDK raises a generic error for 502/503/529 with it as context)."""
    for link in (exc, exc.__cause__, exc.__context__):
        response = getattr(link, "response", None)
        if response is not None and getattr(response, "status_code", None):
            return int(response.status_code)
    mapping = (
        (ls_utils.LangSmithNotFoundError, 404),
        (ls_utils.LangSmithConflictError, 409),
        (ls_utils.LangSmithAuthError, 401),
        (ls_utils.LangSmithRateLimitError, 429),
        (ls_utils.LangSmithRequestTimeout, 408),
        (ls_utils.LangSmithAPIError, 500),
    )
    for cls, status in mapping:
        if isinstance(exc, cls):
            return status
    return None


def _translate(exc: Exception, what: str) -> Exception:
    """SDK error -> what the engine acts on. Secrets never appear: the SDK masks the key in its messages."""
    if isinstance(exc, (ls_utils.LangSmithConnectionError, requests.RequestException)):
        return TransientLangSmithError(f"{what}: connection failed ({exc.__class__.__name__})")
    status = http_status(exc)
    if status is not None and status >= 400 and not is_permanent_status(status):
        return TransientLangSmithError(f"{what}: HTTP {status}")
    if status in (401, 403) or isinstance(exc, ls_utils.LangSmithUserError):
        return LangSmithAccessError(
            f"LangSmith refused the API key while trying to {what} (HTTP {status or 403})",
            "check LANGSMITH_API_KEY (a key of the workspace that holds the project) and LANGSMITH_ENDPOINT",
        )
    if status is None and not isinstance(exc, ls_utils.LangSmithError):
        return exc
    return FeedbackRejectedError(f"LangSmith refused to {what} (HTTP {status}): {str(exc)[:300]}")


@dataclass(frozen=True)
class FeedbackValue:
    run_id: str
    project_id: str
    score: float
    comment: str | None
    source_info: dict[str, Any]
    run_start: datetime | None = None
    label: str | None = None  # the rating option as chosen ("4", "👍"): LangSmith counts values per label


def create_or_update(
    client: langsmith.Client, fid: str, key: str, value: FeedbackValue, *, extend_trace_retention: bool
) -> str:
    """Create the feedback; if it already exists (409), set its score and comment. Returns created|updated."""
    _quiet.on = True
    try:
        client.create_feedback(
            value.run_id,
            key,
            score=value.score,
            value=value.label,
            comment=value.comment,
            feedback_id=fid,
            session_id=value.project_id,
            source_info=value.source_info,
            feedback_source_type="api",
            start_time=value.run_start,
            extend_trace_retention=extend_trace_retention,
            stop_after_attempt=1,
        )
        return "created"
    except ls_utils.LangSmithConflictError:
        pass
    except Exception as exc:  # noqa: BLE001 - translated below
        if http_status(exc) == 404:
            raise RunNotFoundError(value.run_id) from None
        if http_status(exc) != 409:
            raise _translate(exc, "create feedback") from None
    finally:
        _quiet.on = False
    if not update(client, fid, value.score, value.comment, value.label):
        raise TransientLangSmithError("feedback answered 409 on create but 404 on update; will try again")
    return "updated"


def update(client: langsmith.Client, fid: str, score: float, comment: str | None, label: str | None = None) -> bool:
    """Set score, label and comment. An empty string clears a comment (the SDK drops None, so None cannot).

    False when the feedback does not exist (deleted behind our back): the caller creates it again.
    """
    try:
        client.update_feedback(fid, score=score, value=label, comment=comment or "")
        return True
    except Exception as exc:  # noqa: BLE001 - translated below
        if http_status(exc) == 404:
            return False
        raise _translate(exc, "update feedback") from None


def remove(client: langsmith.Client, fid: str) -> bool:
    """Delete the feedback. False when it was already gone (a crash after the delete, or someone else)."""
    try:
        client.delete_feedback(fid)
        return True
    except Exception as exc:  # noqa: BLE001 - translated below
        if http_status(exc) == 404:
            return False
        raise _translate(exc, "delete feedback") from None


@dataclass(frozen=True)
class RemoteFeedback:
    run_id: str
    score: float | None
    comment: str | None


def read_one(client: langsmith.Client, fid: str) -> RemoteFeedback | None:
    """The feedback with this id, or None: how the sync settles a write whose answer was lost (one request)."""
    try:
        found = client.read_feedback(fid)
    except Exception as exc:  # noqa: BLE001 - translated below
        if http_status(exc) == 404:
            return None
        raise _translate(exc, "read feedback") from None
    return RemoteFeedback(str(found.run_id), found.score, found.comment or None)  # type: ignore[arg-type]


def read_many(client: langsmith.Client, run_ids: list[str], key: str) -> dict[str, RemoteFeedback]:
    """Feedback with ``key`` on these runs, by feedback id: one request per 100 runs (for the full pass)."""
    out: dict[str, RemoteFeedback] = {}
    for start in range(0, len(run_ids), 100):
        chunk = run_ids[start : start + 100]
        try:
            for fb in client.list_feedback(run_ids=chunk, feedback_key=[key]):
                out[str(fb.id)] = RemoteFeedback(str(fb.run_id), fb.score, fb.comment or None)  # type: ignore[arg-type]
        except Exception as exc:  # noqa: BLE001 - translated below
            raise _translate(exc, "list feedback") from None
    return out

"""What a Notion failure means to the user, said once: a refused token, a data source that is not shared (or is
really a database's id), a host that does not answer. Every command reaches the data sources through here first,
so a wrong setting costs one request and one line, never a traceback after minutes of other work."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx
import notion_client

from notion_feedback.config import Settings, env_name
from notion_feedback.errors import NotionAccessError, NotionFeedbackError, ServiceUnreachableError

log = logging.getLogger(__name__)

TOKEN_FIX = (
    f"set {env_name('notion_token')} to your integration's secret: https://www.notion.so/profile/integrations → "
    "your integration (or New integration) → Internal Integration Secret"
)


def unreachable(settings: Settings, exc: BaseException) -> ServiceUnreachableError:
    return ServiceUnreachableError(
        f"Notion is unreachable at {settings.notion_base_url} ({type(exc).__name__}: {str(exc)[:120] or 'no answer'})",
        f"check {env_name('notion_base_url')} (default https://api.notion.com) and this machine's network; "
        "a rate limit looks different (Notion answers 429)",
    )


SHARE_FIX = "open it in Notion → ••• (top right) → Connections → add your integration, then run this again"


def access_error(exc: BaseException, what: str, subject: str, fix: str = SHARE_FIX) -> NotionAccessError | None:
    """The one reading of a Notion refusal, for every caller: a 401 is the token, a 403/404 (or a 400 that says
    the object is not found) means ``subject`` is not shared with the integration or is gone; anything else (a
    429, a 5xx, a validation error) is not an access problem and gives None. The error is permanent: the same
    request fails until the user changes something."""
    status = getattr(exc, "status", None)
    if not isinstance(exc, notion_client.errors.HTTPResponseError) or not isinstance(status, int):
        return None
    code = getattr(exc, "code", "") or ""
    if status == 401:
        return NotionAccessError(f"Notion refused the token while trying to {what} (401 unauthorized)", TOKEN_FIX)
    if status in (403, 404) or (status == 400 and code in ("object_not_found", "restricted_resource", "")):
        shown = f"{status} {code}".strip()
        return NotionAccessError(
            f"Notion could not {what}: {subject} is not shared with the integration, or is gone ({shown})", fix
        )
    return None


def translate(exc: BaseException, what: str, settings: Settings, field: str = "feedback_data_source_id") -> Any:
    """The user-facing error for ``exc`` while trying to ``what``, or None when it is not a settings problem."""
    if isinstance(exc, httpx.ConnectError | httpx.UnsupportedProtocol):
        return unreachable(settings, exc)
    return access_error(
        exc,
        what,
        f"{getattr(settings, field)} ({env_name(field)})",
        "open the database in Notion → ••• → Connections → add your integration; or run `notion-feedback "
        f"init` again and update {env_name(field)}",
    )


def data_source_of(notion: notion_client.Client, settings: Settings, field: str) -> tuple[str, dict[str, Any]]:
    """The data source named by ``field`` and its object. A *database* id there (the one in a database's URL) is
    resolved to its data source, with a warning that says which id to set; anything else gets its fix."""
    ds_id: str = getattr(settings, field)
    try:
        return ds_id, notion.data_sources.retrieve(data_source_id=ds_id)  # type: ignore[return-value]
    except Exception as exc:
        problem = translate(exc, "read the data source", settings, field)
        if problem is None:
            raise
        if getattr(exc, "status", None) not in (400, 404):
            raise problem from None
        database = _database(notion, ds_id)
        if database is None:
            raise problem from None
    sources = database.get("data_sources") or []
    if len(sources) != 1:
        listed = ", ".join(f"{s.get('name') or '?'} = {s['id']}" for s in sources) or "none"
        raise NotionAccessError(
            f"{env_name(field)} is the id of a database with {len(sources)} data sources ({listed})",
            f"set {env_name(field)} to the id of the data source to use",
        )
    resolved = sources[0]["id"]
    log.warning(
        "%s is a database id; using its data source %s (set %s=%s to save a request)",
        env_name(field),
        resolved,
        env_name(field),
        resolved,
    )
    return resolved, notion.data_sources.retrieve(data_source_id=resolved)  # type: ignore[return-value]


def _database(notion: notion_client.Client, some_id: str) -> dict[str, Any] | None:
    try:
        return notion.databases.retrieve(database_id=some_id)  # type: ignore[return-value]
    except notion_client.errors.HTTPResponseError:
        return None


def checked(fn: Callable[..., Any], what: str, settings: Settings) -> Callable[..., Any]:
    """``fn`` whose settings problems surface as the product's errors (see ``translate``)."""

    def call(**kwargs: Any) -> Any:
        try:
            return fn(**kwargs)
        except NotionFeedbackError:
            raise
        except Exception as exc:
            problem = translate(exc, what, settings)
            if problem is None:
                raise
            raise problem from None

    return call


def with_data_sources(notion: notion_client.Client, settings: Settings, *fields: str) -> Settings:
    """``settings`` with each data source id in ``fields`` checked first (one request each) and, where it was a
    database's id, replaced by its data source's."""
    resolved = {field: data_source_of(notion, settings, field)[0] for field in fields if getattr(settings, field)}
    changed = {field: ds for field, ds in resolved.items() if ds != getattr(settings, field)}
    return settings.model_copy(update=changed) if changed else settings

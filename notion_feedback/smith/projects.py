"""A LangSmith project's id from its name: one function and one cache for the whole process.

Feedback needs the project's UUID (the API's ``session_id``); traces, rows, the sync and the reports know only its
name. A project's id does not change while it exists, so the answer is remembered per (endpoint, name) for the
life of the process: one ``GET /sessions`` however many interactions, passes and reports ask. A project that is
missing is not remembered (it may be created a moment later); ``fresh=True`` reads again and replaces the entry.
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass

import langsmith
from langsmith import utils as ls_utils

from notion_feedback.errors import LangSmithAccessError


@dataclass(frozen=True)
class ProjectRef:
    id: str
    url: str | None  # the project's page in the LangSmith app


_cache: dict[tuple[str, str], ProjectRef] = {}
_lock = threading.Lock()


def _key(api_url: str, name: str) -> tuple[str, str]:
    return api_url.rstrip("/"), name


def cached_project(api_url: str, name: str) -> ProjectRef | None:
    """The project if this process already knows it; never a request."""
    return _cache.get(_key(api_url, name))


def project(client: langsmith.Client, name: str, *, create: bool = False, fresh: bool = False) -> ProjectRef:
    """The project named ``name``, read once per process (``fresh`` reads again).

    Missing: created when ``create`` (what the first trace would do anyway), else ``LangSmithAccessError`` naming
    the project. Other SDK errors (authentication, connection, 5xx) propagate as the SDK raised them.
    """
    key = _key(client.api_url, name)
    if not fresh and (ref := _cache.get(key)) is not None:
        return ref
    with _lock:
        if not fresh and (ref := _cache.get(key)) is not None:
            return ref
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            try:
                found = client.read_project(project_name=name)
            except ls_utils.LangSmithNotFoundError as exc:
                if not create:
                    raise LangSmithAccessError(
                        f"LangSmith has no project named {name!r}",
                        "set LANGSMITH_PROJECT to the project your agent traces into (it exists after the first "
                        "trace), or run `notion-feedback init` to create it",
                    ) from exc
                try:
                    found = client.create_project(name)
                except ls_utils.LangSmithConflictError:
                    found = client.read_project(project_name=name)
        ref = _cache[key] = ProjectRef(str(found.id), found.url)
        return ref


def project_id(client: langsmith.Client, name: str, *, create: bool = False) -> str:
    """The project's UUID; see ``project``."""
    return project(client, name, create=create).id


def forget() -> None:
    """Drop every remembered project (after the projects themselves were deleted, as a test's reset does)."""
    with _lock:
        _cache.clear()

"""Typed errors. Each carries the fix, because the person reading it is usually not the one who wrote the code.

Every error the product raises on purpose is defined here, once, under one base::

    NotionFeedbackError            exit 1 unless said; ``fix``: what to do; ``permanent``: retrying cannot help
    ├── ConfigError                exit 2: a setting is missing or invalid
    ├── NotionAccessError          exit 2: the token, or a page / data source not shared
    ├── LangSmithAccessError       exit 2: the key, endpoint or project
    ├── ServiceUnreachableError    a host did not answer at all
    ├── SchemaDriftError           a data source lost a property the product expects
    ├── QueryCapError              too many rows in one minute for one Notion query
    ├── UploadTooLargeError        a file over the workspace's upload limit
    ├── TransientLangSmithError    rate limited, overloaded, a 5xx, a timeout (not permanent)
    ├── RunNotFoundError           no such run in the project
    ├── FeedbackRejectedError      LangSmith refused the feedback itself (a 4xx)
    ├── SeriesUnavailable          no dashboard endpoint on this server
    ├── SyncIncompleteError        a sync pass stopped early, its progress saved
    ├── StateStoreError            the state store cannot be opened or upgraded
    │   └── SpoolWriteError        the recorder's spool cannot be written
    ├── LeaseLostError             this daemon no longer holds the lease
    ├── DaemonError                the daemon cannot start
    ├── DemoError                  the demo could not run
    └── SandboxRequestError        a test's own request to the emulated Notion failed (notion_feedback.testing)

``permanent`` is what retry code asks (never a list of classes): True when sending the same request again cannot
succeed (a 4xx, a wrong setting), False when waiting may help (a 429, a 5xx, a timeout). A class sets its
default; an instance may say otherwise (``permanent=``).
"""

from __future__ import annotations

from typing import Any


def is_permanent_status(status: int | None) -> bool:
    """Whether an HTTP answer means "do not send this again": a 4xx other than timeout/too-early/rate limit.
    A 5xx, a 429, a 408 and no answer at all (``None``) may succeed later."""
    return status is not None and 400 <= status < 500 and status not in (408, 425, 429)


class NotionFeedbackError(Exception):
    """Base of every error the product raises on purpose. ``fix`` tells the user what to do next.

    ``exit_code`` is what a command exits with: 2 when a setting is wrong (the user edits .env), 1 when a check
    or a service failed (the user looks at the service, the network or the data). ``permanent`` is False when
    trying again later may succeed. A class's ``default_fix`` is used when the raiser gives none.
    """

    exit_code = 1
    permanent = True
    default_fix = ""

    def __init__(self, message: str, fix: str = "", *, permanent: bool | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix or self.default_fix
        if permanent is not None:
            self.permanent = permanent

    def __str__(self) -> str:
        return f"{self.message}\n  fix: {self.fix}" if self.fix else self.message


class ConfigError(NotionFeedbackError):
    """A setting is missing or invalid."""

    exit_code = 2


class NotionAccessError(NotionFeedbackError):
    """Notion refused us: wrong token, or a page/data source not shared with the integration. Built from an API
    answer by ``notion.access.access_error``."""

    exit_code = 2
    default_fix = "open the page or database in Notion → ••• → Connections → add your integration"


class LangSmithAccessError(NotionFeedbackError):
    """LangSmith refused us: wrong key, endpoint or project."""

    exit_code = 2
    default_fix = "check LANGSMITH_API_KEY, LANGSMITH_ENDPOINT and LANGSMITH_PROJECT (`notion-feedback doctor`)"


class ServiceUnreachableError(NotionFeedbackError):
    """A service's host did not answer at all (refused, unknown host): a network or base-URL problem, not a rate
    limit, so it is not retried for long."""

    default_fix = "check the service's base URL setting and this machine's network"


class SchemaDriftError(NotionFeedbackError):
    """The Feedback or Reports data source no longer has the properties the product expects."""

    default_fix = "run `notion-feedback doctor` to see which property, then restore it or map it"


class QueryCapError(NotionFeedbackError):
    """More rows share one minute than one Notion query can return, even split by creation time."""

    default_fix = "run `notion-feedback sync --full`, which does not read by minute"


class UploadTooLargeError(NotionFeedbackError):
    """A file is over the workspace's upload limit."""

    default_fix = "upgrade the Notion plan or make the file smaller"


class TransientLangSmithError(NotionFeedbackError):
    """Worth sending again later: rate limited, overloaded, a 5xx, a timeout or a dropped connection."""

    permanent = False
    default_fix = "nothing to do: it is sent again later; if it persists, see https://status.smith.langchain.com"


class RunNotFoundError(NotionFeedbackError):
    """LangSmith has no such run in that project (mistyped id, not ingested yet, or expired)."""

    default_fix = (
        "check the row's Run ID and Project ID; a run traced a moment ago may not be ingested yet and is tried "
        "again later"
    )


class FeedbackRejectedError(NotionFeedbackError):
    """LangSmith refused the feedback itself (a 4xx other than 404/409): retried only when the row changes."""

    default_fix = "change the row's Rating or Comment to a value LangSmith accepts; the row is sent again then"


class SeriesUnavailable(NotionFeedbackError):
    """The server has no dashboard endpoint (older or self-hosted): callers fall back to per-day stats."""

    default_fix = "nothing to do: reports read per-day stats instead (slower)"


class SyncIncompleteError(NotionFeedbackError):
    """The pass stopped early (a service kept failing); everything before the stop is saved. ``summary`` tells."""

    summary: Any = None
    default_fix = "nothing is lost: the next pass resumes from the saved cursor"


class StateStoreError(NotionFeedbackError):
    """The local state store cannot be opened or upgraded."""


class SpoolWriteError(StateStoreError):
    """The recorder's spool on disk cannot be written (a full disk, a read-only folder)."""


class LeaseLostError(NotionFeedbackError):
    """This daemon no longer holds the single-active lease: its job stops before its next write."""

    default_fix = "nothing to do: the daemon holding the lease runs the jobs"


class DaemonError(NotionFeedbackError):
    """The daemon cannot start (a job reference does not resolve, the job store cannot be opened)."""


class DemoError(NotionFeedbackError):
    """The demo could not run (ports taken, a data directory from another configuration, ...)."""


class SandboxRequestError(NotionFeedbackError):
    """A request a test made as a person (``notion_feedback.testing``) failed: not one of the product's own."""

    default_fix = "check the page or data source id the test passed, and that the sandbox is still running"

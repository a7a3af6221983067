"""Typed errors. Each carries the fix, because the person reading it is usually not the one who wrote the code."""

from __future__ import annotations


class NotionFeedbackError(Exception):
    """Base of every error the product raises on purpose. ``fix`` tells the user what to do next.

    ``exit_code`` is what a command exits with: 2 when a setting is wrong (the user edits .env), 1 when a check
    or a service failed (the user looks at the service, the network or the data).
    """

    exit_code = 1

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message}\n  fix: {self.fix}" if self.fix else self.message


class ConfigError(NotionFeedbackError):
    """A setting is missing or invalid."""

    exit_code = 2


class NotionAccessError(NotionFeedbackError):
    """Notion refused us: wrong token, or a page/data source not shared with the integration."""

    exit_code = 2


class ServiceUnreachableError(NotionFeedbackError):
    """A service's host did not answer at all (refused, unknown host): a network or base-URL problem, not a rate
    limit, so it is not retried for long."""


class SchemaDriftError(NotionFeedbackError):
    """The Feedback or Reports data source no longer has the properties the product expects."""


class LangSmithAccessError(NotionFeedbackError):
    """LangSmith refused us: wrong key, endpoint or project."""

    exit_code = 2


class StateStoreError(NotionFeedbackError):
    """The local state store cannot be opened or upgraded."""


class SpoolWriteError(StateStoreError):
    """The recorder's spool on disk cannot be written (a full disk, a read-only folder)."""


class LeaseLostError(NotionFeedbackError):
    """This daemon no longer holds the single-active lease: its job stops before its next write."""

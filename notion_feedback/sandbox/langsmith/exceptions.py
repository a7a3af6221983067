"""The errors the LangSmith emulator answers with: both become FastAPI's ``{"detail": ...}``."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An HTTP error in LangSmith's FastAPI shape ``{"detail": ...}``."""

    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class PayloadError(ValueError):
    """A run or feedback payload the real API would reject with 422."""

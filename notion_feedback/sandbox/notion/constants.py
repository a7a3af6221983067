"""Facts of the Notion API the emulator holds to: versions, size limits, colours."""

from __future__ import annotations

from typing import Any

SUPPORTED_VERSIONS = ("2025-09-03", "2026-03-11")
NEW_VERSION = "2026-03-11"
MAX_TEXT = 2000
MAX_ARRAY = 100
COLORS = ("default", "gray", "brown", "orange", "yellow", "green", "blue", "purple", "pink", "red")
ANNOTATION_DEFAULTS: dict[str, Any] = {
    "bold": False,
    "italic": False,
    "strikethrough": False,
    "underline": False,
    "code": False,
    "color": "default",
}

MAX_NESTING = 3
"""Levels of blocks in one request, as the SDK's request types allow: a block, its children and theirs."""

MAX_BODY = 500 * 1024
"""Bytes in one request body; Notion refuses a longer one whole with 400 validation_error."""

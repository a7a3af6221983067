"""Images into Notion with the file-upload API: create, then send (two requests); attach by id within an hour.

The workspace's size limit (5 MiB on Free, 5 GiB on paid plans) is read once from ``users.me`` and remembered in
the state store for a day, so a report does not spend a request on it every time.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import notion_client
from sqlalchemy import Engine

from notion_feedback.errors import UploadTooLargeError
from notion_feedback.state import get_value, set_value, utcnow

SINGLE_PART_MAX = 20 * 1024 * 1024  # single-part uploads: 20 MB whatever the plan
FREE_PLAN_MAX = 5 * 1024 * 1024
_LIMIT_KEY = "notion_upload_limit"
_LIMIT_TTL = timedelta(days=1)


def upload_limit(client: notion_client.Client, engine: Engine | None = None) -> int:
    """Bytes one file may have here: ``users.me`` → ``bot.workspace_limits.max_file_upload_size_in_bytes``."""
    if engine is not None:
        with engine.connect() as conn:
            cached = get_value(conn, _LIMIT_KEY)
        if cached:
            data = json.loads(cached)
            if utcnow().timestamp() - data["at"] < _LIMIT_TTL.total_seconds():
                return int(data["bytes"])
    me: dict[str, Any] = client.users.me()  # type: ignore[assignment]
    limits = (me.get("bot") or {}).get("workspace_limits") or {}
    limit = int(limits.get("max_file_upload_size_in_bytes") or FREE_PLAN_MAX)
    limit = min(limit, SINGLE_PART_MAX)
    if engine is not None:
        with engine.begin() as conn:
            set_value(conn, _LIMIT_KEY, json.dumps({"bytes": limit, "at": utcnow().timestamp()}))
    return limit


def upload_png(client: notion_client.Client, filename: str, data: bytes, limit: int) -> str:
    """Upload a PNG and return the ``file_upload`` id an image block takes."""
    if len(data) > limit:
        raise UploadTooLargeError(
            f"{filename} is {len(data):,} bytes, over this workspace's upload limit of {limit:,} bytes",
            "lower the chart size (charts.DPI) or upgrade the Notion plan (Free workspaces allow 5 MiB per file)",
        )
    created: dict[str, Any] = client.file_uploads.create(  # type: ignore[assignment]
        mode="single_part", filename=filename, content_type="image/png"
    )
    client.file_uploads.send(created["id"], file=(filename, data, "image/png"))
    return str(created["id"])

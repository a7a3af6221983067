"""Small pieces every part of the Notion emulator shares: ids, timestamps, rich text, paging and ``Ctx``.

Notion's wire formats are strict and a client is written against their exact shapes, so the formatting of
ids, timestamps and rich text lives in one place instead of being re-derived by each endpoint.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from notion_feedback.sandbox.notion.constants import ANNOTATION_DEFAULTS, MAX_ARRAY, MAX_TEXT
from notion_feedback.sandbox.notion.exceptions import body_error, validation

_HEX32 = re.compile(r"^[0-9a-fA-F]{32}$")
_DASHED = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def new_id() -> str:
    return str(uuid.uuid4())


def as_uuid(raw: Any) -> str | None:
    """Notion accepts ids with or without dashes and answers with the dashed lower-case form."""
    if not isinstance(raw, str):
        return None
    raw = raw.strip()
    if _HEX32.match(raw):
        raw = f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"
    return raw.lower() if _DASHED.match(raw) else None


def path_id(raw: str, name: str) -> str:
    """A path parameter id, or the 400 Notion returns for a malformed one."""
    got = as_uuid(raw)
    if got is None:
        raise validation(f'path failed validation: path.{name} should be a valid uuid, instead was `"{raw}"`.')
    return got


def body_id(raw: Any, path: str) -> str:
    got = as_uuid(raw)
    if got is None:
        raise body_error(path, "should be a valid uuid", raw)
    return got


def hex_id(object_id: str) -> str:
    return object_id.replace("-", "")


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat()


def parse_iso(raw: str) -> datetime:
    return datetime.fromisoformat(raw.replace("Z", "+00:00"))


def floor_minute(dt: datetime) -> datetime:
    return dt.astimezone(UTC).replace(second=0, microsecond=0)


def fmt_minute(raw: str | datetime) -> str:
    """Pages, blocks, data sources, comments and uploads: rounded down to the minute (``…:MM:00.000Z``)."""
    dt = parse_iso(raw) if isinstance(raw, str) else raw
    return floor_minute(dt).strftime("%Y-%m-%dT%H:%M:00.000Z")


def fmt_millis(raw: str | datetime) -> str:
    """Databases keep milliseconds, in a different format (``2026-07-04T09:09:45.607+00:00``)."""
    dt = (parse_iso(raw) if isinstance(raw, str) else raw).astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}+00:00"


def plus_hours(raw: str, hours: float) -> str:
    return iso(parse_iso(raw) + timedelta(hours=hours))


def slug(text: str) -> str:
    return "-".join(re.findall(r"[A-Za-z0-9]+", text))


def page_url(title: str, object_id: str) -> str:
    """The 2026 API answers with ``app.notion.com/p/<Title-slug>-<hex id>`` (see the cassettes)."""
    s = slug(title)
    return f"https://app.notion.com/p/{s + '-' if s else ''}{hex_id(object_id)}"


def check_array(value: Any, path: str, limit: int = MAX_ARRAY) -> list:
    if not isinstance(value, list):
        raise body_error(path, "should be an array", value)
    if len(value) > limit:
        raise body_error(f"{path}.length", f"should be ≤ `{limit}`", len(value))
    return value


def rich_text(items: Any, path: str, mentions: Any = None) -> list[dict[str, Any]]:
    """Request rich text -> response rich text (full annotations, plain_text, href), validating limits.

    ``mentions`` resolves a mention to its plain text (callable ``(mention) -> (plain_text, href)``).
    """
    out: list[dict[str, Any]] = []
    for i, item in enumerate(check_array(items, path)):
        ipath = f"{path}[{i}]"
        if not isinstance(item, dict):
            raise body_error(ipath, "should be an object", item)
        annotations = dict(ANNOTATION_DEFAULTS)
        given = item.get("annotations") or {}
        if not isinstance(given, dict):
            raise body_error(f"{ipath}.annotations", "should be an object", given)
        annotations.update({k: v for k, v in given.items() if k in ANNOTATION_DEFAULTS})
        kind = item.get("type") or next((k for k in ("text", "mention", "equation") if k in item), None)
        if kind == "text":
            text = item.get("text")
            if not isinstance(text, dict) or not isinstance(text.get("content"), str):
                raise body_error(f"{ipath}.text.content", "should be defined", None)
            content = text["content"]
            if len(content) > MAX_TEXT:
                raise body_error(f"{ipath}.text.content.length", f"should be ≤ `{MAX_TEXT}`", len(content))
            link = text.get("link")
            if link is not None:
                if not isinstance(link, dict) or not isinstance(link.get("url"), str):
                    raise body_error(f"{ipath}.text.link.url", "should be defined", None)
                if len(link["url"]) > MAX_TEXT:
                    raise body_error(f"{ipath}.text.link.url.length", f"should be ≤ `{MAX_TEXT}`", len(link["url"]))
                link = {"url": link["url"]}
            out.append(
                {
                    "type": "text",
                    "text": {"content": content, "link": link},
                    "annotations": annotations,
                    "plain_text": content,
                    "href": link["url"] if link else None,
                }
            )
        elif kind == "equation":
            expr = (item.get("equation") or {}).get("expression")
            if not isinstance(expr, str):
                raise body_error(f"{ipath}.equation.expression", "should be defined", None)
            if len(expr) > 1000:
                raise body_error(f"{ipath}.equation.expression.length", "should be ≤ `1000`", len(expr))
            out.append(
                {
                    "type": "equation",
                    "equation": {"expression": expr},
                    "annotations": annotations,
                    "plain_text": expr,
                    "href": None,
                }
            )
        elif kind == "mention":
            mention = item.get("mention")
            if not isinstance(mention, dict):
                raise body_error(f"{ipath}.mention", "should be an object", mention)
            plain, href, resolved = mentions(mention, f"{ipath}.mention") if mentions else ("", None, mention)
            out.append(
                {"type": "mention", "mention": resolved, "annotations": annotations, "plain_text": plain, "href": href}
            )
        else:
            raise body_error(ipath, "should be a text, mention or equation rich text item", item)
    return out


def plain_text(rt: list[dict[str, Any]] | None) -> str:
    return "".join(item.get("plain_text", "") for item in rt or [])


def text_rt(content: str) -> list[dict[str, Any]]:
    """Response rich text for a plain string (used for seeded objects)."""
    return rich_text([{"text": {"content": content}}], "text") if content else []


def strip_archived(obj: Any) -> Any:
    """API 2026-03-11 dropped ``archived`` from every object; ``in_trash`` stays."""
    if isinstance(obj, dict):
        if "object" in obj and "in_trash" in obj:
            obj.pop("archived", None)
        for v in obj.values():
            strip_archived(v)
    elif isinstance(obj, list):
        for v in obj:
            strip_archived(v)
    return obj


@dataclass
class Ctx:
    """Per-request facts: API version and who acts (the bot, or the person for the workspace viewer)."""

    version: str
    actor: str


def page_size_of(raw: Any, path: str) -> int:
    if raw is None:
        return 100
    if isinstance(raw, str) and raw.isdigit():
        raw = int(raw)
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise body_error(path, "should be a number", raw)
    if raw < 1:
        raise body_error(path, "should be ≥ `1`", raw)
    if raw > 100:
        raise body_error(path, "should be ≤ `100`", raw)
    return raw


def cursor_index(items: list[dict[str, Any]], cursor: Any) -> int:
    """Cursors are the id of the first item of the next page, as in Notion's block lists."""
    if cursor is None:
        return 0
    cid = as_uuid(cursor)
    for i, item in enumerate(items):
        if item["id"] == cid:
            return i
    raise validation(f"start_cursor provided is invalid: {cursor}")


def list_response(results: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return {"object": "list", "results": results, "next_cursor": None, "has_more": False, "type": kind, kind: {}}

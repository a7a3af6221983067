"""The edits of ``PATCH /v1/pages/{page_id}/markdown``, as text operations on the page's enhanced markdown.

The body is ``UpdatePageMarkdownBodyParameters`` of the official SDK: ``type`` names one of
``insert_content`` / ``replace_content_range`` / ``update_content`` / ``replace_content`` and the object of
that name holds the edit. Every edit but a plain insert at the start or end works on the page's markdown
as ``GET …/markdown`` renders it, and the caller rebuilds the page from the result. Child pages and
databases appear in that markdown as ``<page url="…">Title</page>`` / ``<database url="…">Title</database>``
lines; an edit that drops one deletes it, which Notion refuses unless ``allow_deleting_content`` is true.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from notion_feedback.sandbox.notion.exceptions import body_error, validation

EDIT_TYPES = ("insert_content", "replace_content_range", "update_content", "replace_content")
MAX_CONTENT_UPDATES = 100
CHILD_TAG = re.compile(r'^<(page|database) url="https://www\.notion\.so/([0-9a-f]{32})">(.*)</\1>$')


def child_tag(kind: str, object_id: str, title: str) -> str:
    """How a child page or database shows in a page's markdown."""
    return f'<{kind} url="https://www.notion.so/{object_id.replace("-", "")}">{title}</{kind}>'


def tagged_ids(md: str) -> list[str]:
    """Dashed ids of the child pages and databases a markdown text names, in order."""
    out = []
    for line in md.split("\n"):
        if found := CHILD_TAG.match(line.strip()):
            h = found.group(2)
            out.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return out


@dataclass
class Edit:
    """One validated markdown edit: its type, its object from the body, and whether it may delete children."""

    type: str
    spec: dict[str, Any]
    allow_deleting: bool

    @property
    def appends(self) -> bool:
        """An insert at the start or end adds blocks without touching the rest (no rebuild needed)."""
        return self.type == "insert_content" and self.spec.get("after") is None


def _string(spec: dict[str, Any], key: str, path: str) -> str:
    value = spec.get(key)
    if not isinstance(value, str):
        raise body_error(f"{path}.{key}", "should be a string", value)
    return value


def _flag(spec: dict[str, Any], key: str, path: str) -> bool:
    value = spec.get(key, False)
    if not isinstance(value, bool):
        raise body_error(f"{path}.{key}", "should be a boolean", value)
    return value


def parse_edit(body: dict[str, Any]) -> Edit:
    """The body's edit, or the validation_error Notion answers for a malformed one."""
    kind = body.get("type")
    if kind not in EDIT_TYPES:
        raise body_error("body.type", "should be one of `" + "`, `".join(EDIT_TYPES) + "`", kind)
    if "allow_async" in body and not isinstance(body["allow_async"], bool):
        raise body_error("body.allow_async", "should be a boolean", body["allow_async"])
    others = [k for k in EDIT_TYPES if k != kind and k in body]
    if others:
        raise body_error(f"body.{others[0]}", f"should be not present when body.type is `{kind}`", body[others[0]])
    spec, path = body.get(kind), f"body.{kind}"
    if not isinstance(spec, dict):
        raise body_error(path, "should be an object", spec)
    if kind == "insert_content":
        _string(spec, "content", path)
        after, position = spec.get("after"), spec.get("position")
        if after is not None:
            _string(spec, "after", path)
        if position is not None:
            if after is not None:
                raise validation(f"body failed validation: {path}.after and {path}.position cannot both be given.")
            if not isinstance(position, dict) or position.get("type") not in ("start", "end"):
                raise body_error(f"{path}.position.type", "should be `start` or `end`", position)
        return Edit(kind, spec, False)
    if kind == "replace_content_range":
        _string(spec, "content", path)
        _string(spec, "content_range", path)
    elif kind == "replace_content":
        _string(spec, "new_str", path)
    else:
        _content_updates(spec, path)
    return Edit(kind, spec, _flag(spec, "allow_deleting_content", path))


def _content_updates(spec: dict[str, Any], path: str) -> None:
    updates = spec.get("content_updates")
    if not isinstance(updates, list):
        raise body_error(f"{path}.content_updates", "should be an array", updates)
    if not updates:
        raise body_error(f"{path}.content_updates.length", "should be ≥ `1`", 0)
    if len(updates) > MAX_CONTENT_UPDATES:
        raise body_error(f"{path}.content_updates.length", f"should be ≤ `{MAX_CONTENT_UPDATES}`", len(updates))
    for i, update in enumerate(updates):
        upath = f"{path}.content_updates[{i}]"
        if not isinstance(update, dict):
            raise body_error(upath, "should be an object", update)
        if not _string(update, "old_str", upath):
            raise body_error(f"{upath}.old_str.length", "should be ≥ `1`", 0)
        _string(update, "new_str", upath)
        _flag(update, "replace_all_matches", upath)


def select(md: str, selection: str, path: str) -> tuple[int, int]:
    """Where an ellipsis selection (``"start text...end text"``, or exact text without ``...``) lies in ``md``."""
    head, sep, tail = selection.partition("...")
    start = md.find(head) if head else 0
    if head and start < 0 or not head and not tail:
        raise validation(f"{path}: no content matches the selection {selection!r}.")
    if not sep:
        return start, start + len(head)
    end = md.find(tail, start + len(head)) if tail else len(md)
    if end < 0:
        raise validation(f"{path}: no content matches the selection {selection!r}.")
    return start, end + len(tail)


def apply(edit: Edit, md: str) -> str:
    """The page's markdown after ``edit`` (every type except a start/end insert, which needs no text)."""
    spec, path = edit.spec, f"body.{edit.type}"
    if edit.type == "replace_content":
        return spec["new_str"]
    if edit.type == "insert_content":
        _, end = select(md, spec["after"], f"{path}.after")
        return md[:end] + "\n" + spec["content"] + md[end:]
    if edit.type == "replace_content_range":
        start, end = select(md, spec["content_range"], f"{path}.content_range")
        return md[:start] + spec["content"] + md[end:]
    for i, update in enumerate(spec["content_updates"]):
        old, new = update["old_str"], update["new_str"]
        if old not in md:
            raise validation(f"{path}.content_updates[{i}].old_str: no content matches {old!r}.")
        md = md.replace(old, new) if update.get("replace_all_matches") else md.replace(old, new, 1)
    return md


def check_deletions(edit: Edit, before: str, after: str) -> list[str]:
    """Ids of child pages/databases the edit drops; refused (validation_error) unless the edit allows it."""
    dropped = [i for i in tagged_ids(before) if i not in set(tagged_ids(after))]
    if dropped and not edit.allow_deleting:
        raise validation(
            f"This edit would delete {len(dropped)} child page(s) or database(s) ({', '.join(dropped)}). "
            f"Set body.{edit.type}.allow_deleting_content to true to allow it."
        )
    return dropped

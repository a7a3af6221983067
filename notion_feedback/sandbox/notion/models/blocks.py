"""Block content: request validation (types, limits, nesting) and the response shape of each block type.

Requests are turned into a tree of ``(type, content, children)`` first, so every limit Notion enforces on a
request (100 children per array, three levels of blocks, 1000 blocks per payload) fails the whole request
before anything is written, as it does in Notion.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from notion_feedback.sandbox.notion.common import check_array, rich_text
from notion_feedback.sandbox.notion.constants import COLORS, MAX_NESTING
from notion_feedback.sandbox.notion.exceptions import body_error, validation

MAX_BLOCKS_PER_REQUEST = 1000
_BG = tuple(f"{c}_background" for c in COLORS[1:])
_TEXT_BLOCKS = (
    "paragraph",
    "heading_1",
    "heading_2",
    "heading_3",
    "bulleted_list_item",
    "numbered_list_item",
    "quote",
    "toggle",
    "to_do",
    "callout",
)
_MEDIA = ("image", "file", "pdf", "video", "audio")
_CAN_NEST = (
    "paragraph",
    "bulleted_list_item",
    "numbered_list_item",
    "quote",
    "toggle",
    "to_do",
    "callout",
    "column_list",
    "column",
    "table",
    "heading_1",
    "heading_2",
    "heading_3",
    "synced_block",
)
SUPPORTED = (
    *_TEXT_BLOCKS,
    *_MEDIA,
    "divider",
    "code",
    "bookmark",
    "embed",
    "equation",
    "table",
    "table_row",
    "column_list",
    "column",
    "table_of_contents",
    "breadcrumb",
    "link_to_page",
)
CODE_LANGUAGES_DEFAULT = "plain text"


@dataclass
class BlockDraft:
    """A validated, not yet stored block."""

    type: str
    content: dict[str, Any]
    children: list[BlockDraft] = field(default_factory=list)


@dataclass
class BlockContext:
    """What validation needs from the workspace: mentions, icons and uploaded files."""

    mentions: Callable | None
    icon: Callable[[Any, str], Any]
    media: Callable[[dict[str, Any], str], dict[str, Any]]
    count: int = 0


def _color(raw: Any, path: str) -> str:
    color = raw if raw is not None else "default"
    if color not in COLORS and color not in _BG:
        raise body_error(path, "should be a valid color", color)
    return color


def block_type(raw: dict[str, Any], path: str) -> str:
    btype = raw.get("type") or next((k for k in raw if k in SUPPORTED or k in ("child_page", "child_database")), None)
    if btype is None:
        raise body_error(path, "should have a block type key such as `paragraph`", raw)
    if btype not in SUPPORTED:
        raise validation(f"body failed validation: {path}.type `{btype}` is not supported for creation.")
    if not isinstance(raw.get(btype), dict):
        raise body_error(f"{path}.{btype}", "should be an object", raw.get(btype))
    return btype


def content(
    btype: str, body: dict[str, Any], path: str, ctx: BlockContext, old: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The stored (response-shaped) content of one block; ``old`` merges a PATCH into existing content."""
    old = old or {}
    p = f"{path}.{btype}"

    def rt(key: str, default: list | None = None) -> list:
        if key in body:
            return rich_text(body[key], f"{p}.{key}", ctx.mentions)
        return old.get(key, default if default is not None else [])

    if btype in _TEXT_BLOCKS:
        out: dict[str, Any] = {"rich_text": rt("rich_text")}
        if btype.startswith("heading_"):
            out["is_toggleable"] = bool(body.get("is_toggleable", old.get("is_toggleable", False)))
        if btype == "to_do":
            out["checked"] = bool(body.get("checked", old.get("checked", False)))
        if btype in ("paragraph", "callout"):
            default_icon = {"type": "emoji", "emoji": "💡"} if btype == "callout" else None
            out["icon"] = ctx.icon(body["icon"], f"{p}.icon") if "icon" in body else old.get("icon", default_icon)
        out["color"] = _color(body.get("color", old.get("color")), f"{p}.color")
        return out
    if btype == "code":
        language = body.get("language", old.get("language", CODE_LANGUAGES_DEFAULT))
        if not isinstance(language, str):
            raise body_error(f"{p}.language", "should be a string", language)
        return {"caption": rt("caption"), "rich_text": rt("rich_text"), "language": language}
    if btype in _MEDIA:
        out = ctx.media(body, p) if ("type" in body or "external" in body or "file_upload" in body) else dict(old)
        out["caption"] = rt("caption")
        return out
    if btype in ("bookmark", "embed"):
        url = body.get("url", old.get("url"))
        if not isinstance(url, str) or len(url) > 2000:
            raise body_error(f"{p}.url", "should be a string of at most 2000 characters", url)
        return {"caption": rt("caption"), "url": url}
    if btype == "equation":
        expr = body.get("expression", old.get("expression"))
        if not isinstance(expr, str):
            raise body_error(f"{p}.expression", "should be a string", expr)
        return {"expression": expr}
    if btype == "table":
        width = body.get("table_width", old.get("table_width"))
        if not isinstance(width, int) or width < 1:
            raise body_error(f"{p}.table_width", "should be a positive integer", width)
        return {
            "table_width": width,
            "has_column_header": bool(body.get("has_column_header", old.get("has_column_header", False))),
            "has_row_header": bool(body.get("has_row_header", old.get("has_row_header", False))),
        }
    if btype == "table_row":
        cells = check_array(body.get("cells", old.get("cells", [])), f"{p}.cells")
        return {
            "cells": [
                c if c and "plain_text" in c[0] else rich_text(c, f"{p}.cells[{i}]", ctx.mentions)
                for i, c in enumerate(cells)
            ]
        }
    if btype == "column":
        return {k: body[k] for k in ("width_ratio",) if k in body} or {k: old[k] for k in old}
    if btype == "table_of_contents":
        return {"color": _color(body.get("color", old.get("color")), f"{p}.color")}
    if btype == "link_to_page":
        return {k: v for k, v in body.items() if k in ("type", "page_id", "database_id")}
    return {}


def draft(raw: Any, path: str, depth: int, ctx: BlockContext) -> BlockDraft:
    """Validate one request block and its nested children (depth 1 = the request's top level)."""
    if not isinstance(raw, dict):
        raise body_error(path, "should be an object", raw)
    ctx.count += 1
    if ctx.count > MAX_BLOCKS_PER_REQUEST:
        raise validation(f"body failed validation: the request contains more than {MAX_BLOCKS_PER_REQUEST} blocks.")
    btype = block_type(raw, path)
    body = raw[btype]
    node = BlockDraft(btype, content(btype, body, path, ctx))
    kids = body.get("children", raw.get("children"))
    if kids is not None:
        kpath = f"{path}.{btype}.children"
        if btype not in _CAN_NEST:
            raise body_error(kpath, "should be not present", kids)
        # Columns are structure, not content: column_list > column > blocks counts as one level.
        next_depth = depth if btype in ("column_list", "column") else depth + 1
        if next_depth > MAX_NESTING:
            raise body_error(kpath, "should be not present", kids)
        node.children = [draft(k, f"{kpath}[{i}]", next_depth, ctx) for i, k in enumerate(check_array(kids, kpath))]
    if btype == "table":
        width = node.content["table_width"]
        if not node.children:
            raise body_error(f"{path}.table.children", "should be defined", None)
        for i, row in enumerate(node.children):
            if row.type != "table_row":
                raise body_error(f"{path}.table.children[{i}].type", "should be `table_row`", row.type)
            if len(row.content["cells"]) != width:
                raise validation(f"Number of cells in table row {i} does not match the table width {width}.")
    if btype == "column_list":
        if len(node.children) < 2 or any(c.type != "column" for c in node.children):
            raise validation("Column lists must have at least 2 columns, each of type `column`.")
        if any(not c.children for c in node.children):
            raise validation("Each column must have at least one child block.")
    return node


def drafts(raw: Any, path: str, ctx: BlockContext) -> list[BlockDraft]:
    return [draft(b, f"{path}[{i}]", 1, ctx) for i, b in enumerate(check_array(raw, path))]


def markdown_of(btype: str, data: dict[str, Any], text: str, number: int) -> str | None:
    """One block as Notion-flavoured markdown (the ``/markdown`` endpoints); None when not representable."""
    prefix = {
        "heading_1": "# ",
        "heading_2": "## ",
        "heading_3": "### ",
        "bulleted_list_item": "- ",
        "quote": "> ",
        "paragraph": "",
        "toggle": "<details>",
    }
    if btype in prefix and btype != "toggle":
        return prefix[btype] + text
    if btype == "numbered_list_item":
        return f"{number}. {text}"
    if btype == "to_do":
        return f"- [{'x' if data.get('checked') else ' '}] {text}"
    if btype == "divider":
        return "---"
    if btype == "code":
        return f"```{data.get('language', '')}\n{text}\n```"
    return None


def parse_markdown(md: str) -> list[dict[str, Any]]:
    """Markdown -> request blocks (headings, lists, quotes, code fences, dividers, paragraphs)."""
    blocks: list[dict[str, Any]] = []
    lines = md.split("\n")
    i = 0

    def text(s: str) -> dict[str, Any]:
        return {"rich_text": [{"text": {"content": s[j : j + 2000]}} for j in range(0, len(s), 2000)]}

    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        i += 1
        if not stripped:
            continue
        if stripped.startswith("```"):
            language, body = stripped[3:].strip() or "plain text", []
            while i < len(lines) and not lines[i].strip().startswith("```"):
                body.append(lines[i])
                i += 1
            i += 1
            blocks.append({"code": {**text("\n".join(body)), "language": language}})
        elif stripped in ("---", "***"):
            blocks.append({"divider": {}})
        elif stripped.startswith("### "):
            blocks.append({"heading_3": text(stripped[4:])})
        elif stripped.startswith("## "):
            blocks.append({"heading_2": text(stripped[3:])})
        elif stripped.startswith("# "):
            blocks.append({"heading_1": text(stripped[2:])})
        elif stripped.startswith(("- [ ] ", "- [x] ")):
            blocks.append({"to_do": {**text(stripped[6:]), "checked": stripped[3] == "x"}})
        elif stripped.startswith(("- ", "* ")):
            blocks.append({"bulleted_list_item": text(stripped[2:])})
        elif stripped.startswith("> "):
            blocks.append({"quote": text(stripped[2:])})
        elif stripped.split(". ", 1)[0].isdigit() and ". " in stripped:
            blocks.append({"numbered_list_item": text(stripped.split(". ", 1)[1])})
        else:
            blocks.append({"paragraph": text(stripped)})
    return blocks

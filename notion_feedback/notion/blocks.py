"""Notion blocks: builders, a small markdown-like dialect rendered into blocks, and the API's limits.

The dialect (what ``templates/report.md.j2`` renders to; its header comment is the user-facing reference):

    # / ## / ###        headings 1-3 (#### and deeper become heading 3)
    text lines          a paragraph; consecutive lines form one paragraph (line breaks kept); a blank line ends it
    - item / * item     bulleted list; indent by 2 spaces to nest;  1. item  numbered;  - [ ] / - [x]  to-do
    > [!NOTE] text      callout (NOTE, TIP, IMPORTANT, WARNING, CAUTION, SUCCESS); following "> " lines are
                        rendered inside it;  a plain "> text" is a quote
    ---                 divider
    | a | b |           table; a "|---|---|" second line makes the first row a header
    ![caption](chart:volume)   an uploaded chart;  ![caption](https://...) an external image
    +++ Summary         toggle: the lines up to a line "+++" are inside it
    ```lang ... ```     code block;   [toc]  table of contents
    inline              **bold**, *italic*, `code`, [text](https://url); a backslash escapes the next character

Limits (developers.notion.com/reference/request-limits, /patch-block-children): at most 100 children in one
array, 3 levels of nesting per request (a block, its children and theirs), 2,000 characters per text run, 100
runs per rich-text value, 1,000 block elements and 500 KB per request. ``fit`` makes a block tree obey them
without extra requests: a block at the deepest level loses its children to the following siblings (a table
there becomes one paragraph per row), and long child lists are split; ``batches`` then cuts the top level into
append requests.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from notion_feedback.notion.limits import MAX_NESTING, MAX_RUNS, MAX_TEXT_CHARS, REQUEST_BUDGET_BYTES
from notion_feedback.notion.text import ELLIPSIS, rich_text

Block = dict[str, Any]
MAX_CHILDREN = 100
MAX_DEPTH = MAX_NESTING
MAX_ELEMENTS = 1000
CALLOUTS = {
    "NOTE": ("ℹ️", "blue_background"),
    "TIP": ("💡", "green_background"),
    "IMPORTANT": ("❗", "purple_background"),
    "WARNING": ("⚠️", "yellow_background"),
    "CAUTION": ("🚨", "red_background"),
    "SUCCESS": ("✅", "green_background"),
}

# -- inline text --------------------------------------------------------------------------------------------------

_INLINE = re.compile(
    r"\\(?P<esc>.)"
    r"|\*\*(?P<bold>.+?)\*\*"
    r"|(?<![\w*])\*(?P<ital>[^*\s](?:[^*]*[^*\s])?)\*(?![\w*])"
    r"|`(?P<code>[^`]+)`"
    r"|\[(?P<label>(?:\\.|[^\]\\])+)\]\((?P<href>(?:https?://|mailto:)[^)\s]+)\)",
    re.DOTALL,
)


def _run(text: str, annotations: dict[str, bool] | None = None, href: str | None = None) -> list[dict[str, Any]]:
    runs = rich_text(text, href=href)
    if annotations:
        for r in runs:
            r["annotations"] = dict(annotations)
    return runs


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def inline(text: str) -> list[dict[str, Any]]:
    """Rich text with **bold**, *italic*, `code` and [links](url); at most 100 runs of at most 2,000 chars."""
    out: list[dict[str, Any]] = []
    plain: list[str] = []
    pos = 0

    def flush() -> None:
        if plain:
            out.extend(_run("".join(plain)))
            plain.clear()

    for m in _INLINE.finditer(text):
        plain.append(text[pos : m.start()])
        pos = m.end()
        if m.group("esc") is not None:
            plain.append(m.group("esc"))
            continue
        flush()
        if m.group("bold") is not None:
            out.extend(_run(_unescape(m.group("bold")), {"bold": True}))
        elif m.group("ital") is not None:
            out.extend(_run(_unescape(m.group("ital")), {"italic": True}))
        elif m.group("code") is not None:
            out.extend(_run(m.group("code"), {"code": True}))
        else:
            out.extend(_run(_unescape(m.group("label")), href=m.group("href")))
    plain.append(text[pos:])
    flush()
    if len(out) > MAX_RUNS:
        out = out[:MAX_RUNS]
        last = out[-1]["text"]
        last["content"] = last["content"][: MAX_TEXT_CHARS - len(ELLIPSIS)] + ELLIPSIS
    return out


def escape(text: str) -> str:
    """Text that the dialect shows literally (user content inside a template): Jinja filter ``md``."""
    return re.sub(r"([\\*`\[\]()|!#>+_-])", r"\\\1", " ".join(str(text).split()))


# -- builders -----------------------------------------------------------------------------------------------------


def _text_block(
    kind: str, text: str | list[dict[str, Any]], children: list[Block] | None = None, **extra: Any
) -> Block:
    body: dict[str, Any] = {"rich_text": inline(text) if isinstance(text, str) else text, **extra}
    if children:
        body["children"] = children
    return {"object": "block", "type": kind, kind: body}


def paragraph(text: str | list[dict[str, Any]], children: list[Block] | None = None) -> Block:
    return _text_block("paragraph", text, children)


def heading(level: int, text: str) -> Block:
    return _text_block(f"heading_{min(max(level, 1), 3)}", text)


def bullet(text: str, children: list[Block] | None = None) -> Block:
    return _text_block("bulleted_list_item", text, children)


def numbered(text: str, children: list[Block] | None = None) -> Block:
    return _text_block("numbered_list_item", text, children)


def todo(text: str, checked: bool, children: list[Block] | None = None) -> Block:
    return _text_block("to_do", text, children, checked=checked)


def toggle(text: str, children: list[Block] | None = None) -> Block:
    return _text_block("toggle", text, children)


def quote(text: str, children: list[Block] | None = None) -> Block:
    return _text_block("quote", text, children)


def callout(text: str, kind: str = "NOTE", children: list[Block] | None = None) -> Block:
    emoji, colour = CALLOUTS.get(kind.upper(), CALLOUTS["NOTE"])
    return _text_block("callout", text, children, icon={"type": "emoji", "emoji": emoji}, color=colour)


def divider() -> Block:
    return {"object": "block", "type": "divider", "divider": {}}


def toc() -> Block:
    return {"object": "block", "type": "table_of_contents", "table_of_contents": {}}


def code(text: str, language: str = "plain text") -> Block:
    return {
        "object": "block",
        "type": "code",
        "code": {"rich_text": rich_text(text), "language": language or "plain text"},
    }


def table(rows: list[list[str]], header: bool = True) -> Block:
    width = max((len(r) for r in rows), default=1)
    cells = [[inline(c) for c in r] + [[] for _ in range(width - len(r))] for r in rows]
    children = [{"object": "block", "type": "table_row", "table_row": {"cells": c}} for c in cells]
    return {
        "object": "block",
        "type": "table",
        "table": {"table_width": width, "has_column_header": header, "has_row_header": False, "children": children},
    }


def image_upload(file_upload_id: str, caption: str = "") -> Block:
    return {
        "object": "block",
        "type": "image",
        "image": {"type": "file_upload", "file_upload": {"id": file_upload_id}, "caption": inline(caption)},
    }


def image_external(url: str, caption: str = "") -> Block:
    return {
        "object": "block",
        "type": "image",
        "image": {"type": "external", "external": {"url": url}, "caption": inline(caption)},
    }


def children_of(block: Block) -> list[Block]:
    return block.get(block["type"], {}).get("children") or []


def _set_children(block: Block, kids: list[Block]) -> None:
    body = block[block["type"]]
    if kids:
        body["children"] = kids
    else:
        body.pop("children", None)


# -- the dialect --------------------------------------------------------------------------------------------------

_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_LIST = re.compile(r"^(?P<indent> *)(?:(?P<bullet>[-*])|(?P<num>\d+)[.)])\s+(?:\[(?P<box>[ xX])\]\s+)?(?P<text>.*)$")
_CALLOUT = re.compile(r"^\[!(?P<kind>[A-Za-z]+)\]\s*(?P<text>.*)$")
_IMAGE = re.compile(r"^!\[(?P<caption>[^\]]*)\]\((?P<src>[^)\s]+)\)$")
_DIVIDER = re.compile(r"^(-{3,}|\*{3,}|_{3,})$")
_TABLE_SEP = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?$")

ImageResolver = Callable[[str, str], Block | None]


def _cells(line: str) -> list[str]:
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") and not body.endswith("\\|") else body
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", body)]


def render(text: str, images: ImageResolver | None = None) -> list[Block]:
    """The dialect above -> top-level blocks (not yet fitted to the limits: see ``fit``).

    ``images(scheme_and_name, caption)`` turns ``![c](chart:volume)`` into a block (None: a note says the image is
    missing); http(s) sources become external images.
    """
    return _Parser(text.splitlines(), images).parse()


class _Parser:
    def __init__(self, lines: list[str], images: ImageResolver | None) -> None:
        self.lines = [ln.rstrip() for ln in lines]
        self.i = 0
        self.images = images

    def parse(self, until_toggle_end: bool = False) -> list[Block]:
        out: list[Block] = []
        para: list[str] = []

        def end_para() -> None:
            if para:
                out.append(paragraph("\n".join(para)))
                para.clear()

        while self.i < len(self.lines):
            raw = self.lines[self.i]
            line = raw.strip()
            if until_toggle_end and line == "+++":
                self.i += 1
                end_para()
                return out
            if not line:
                end_para()
                self.i += 1
                continue
            block = self._structural(raw, line)
            if block is None:
                para.append(line)
                self.i += 1
                continue
            end_para()
            out.extend(block)
        end_para()
        return out

    def _structural(self, raw: str, line: str) -> list[Block] | None:
        """The block(s) starting at this line (consuming their lines), or None for paragraph text."""
        if line.startswith("+++"):
            self.i += 1
            return [toggle(line[3:].strip() or "Details", self.parse(until_toggle_end=True))]
        if line.startswith("```"):
            return [self._code(line[3:].strip())]
        if line.lower() == "[toc]":
            self.i += 1
            return [toc()]
        if m := _HEADING.match(line):
            self.i += 1
            return [heading(len(m.group(1)), m.group(2).strip())]
        if _DIVIDER.match(line):
            self.i += 1
            return [divider()]
        if m := _IMAGE.match(line):
            self.i += 1
            return [self._image(m.group("src"), m.group("caption"))]
        if line.startswith(">"):
            return [self._quote()]
        if line.startswith("|"):
            return [self._table()]
        if _LIST.match(raw):
            return self._list(0)
        return None

    def _code(self, language: str) -> Block:
        self.i += 1
        body: list[str] = []
        while self.i < len(self.lines) and not self.lines[self.i].strip().startswith("```"):
            body.append(self.lines[self.i])
            self.i += 1
        self.i += 1  # the closing fence
        return code("\n".join(body), language)

    def _image(self, src: str, caption: str) -> Block:
        if src.startswith(("http://", "https://")):
            return image_external(src, caption)
        block = self.images(src, caption) if self.images else None
        return block or callout(f"{caption or src}: image not available", "WARNING")

    def _quote(self) -> Block:
        body: list[str] = []
        while self.i < len(self.lines) and self.lines[self.i].strip().startswith(">"):
            body.append(self.lines[self.i].strip()[1:].removeprefix(" "))
            self.i += 1
        if m := _CALLOUT.match(body[0].strip()):
            inner = _Parser(body[1:], self.images).parse()
            text = m.group("text")
            if not text and inner and inner[0]["type"] == "paragraph":
                first = inner.pop(0)
                return _text_block(
                    "callout",
                    first["paragraph"]["rich_text"],
                    inner,
                    icon={"type": "emoji", "emoji": CALLOUTS.get(m.group("kind").upper(), CALLOUTS["NOTE"])[0]},
                    color=CALLOUTS.get(m.group("kind").upper(), CALLOUTS["NOTE"])[1],
                )
            return callout(text, m.group("kind"), inner)
        return quote("\n".join(body))

    def _table(self) -> Block:
        rows: list[list[str]] = []
        header = False
        while self.i < len(self.lines) and self.lines[self.i].strip().startswith("|"):
            line = self.lines[self.i].strip()
            self.i += 1
            if len(rows) == 1 and _TABLE_SEP.match(line):
                header = True
                continue
            rows.append(_cells(line))
        return table(rows, header)

    def _list(self, indent: int) -> list[Block]:
        items: list[Block] = []
        while self.i < len(self.lines):
            m = _LIST.match(self.lines[self.i])
            if not m:
                break
            level = len(m.group("indent"))
            if level < indent:
                break
            if level > indent:
                kids = self._list(level)
                if items:
                    _set_children(items[-1], children_of(items[-1]) + kids)
                else:
                    items.extend(kids)
                continue
            self.i += 1
            text = m.group("text")
            if m.group("box") is not None:
                items.append(todo(text, m.group("box").lower() == "x"))
            elif m.group("num"):
                items.append(numbered(text))
            else:
                items.append(bullet(text))
        return items


# -- limits -------------------------------------------------------------------------------------------------------


def _row_paragraph(row: Block, bold: bool) -> Block:
    runs: list[dict[str, Any]] = []
    for n, cell in enumerate(row["table_row"]["cells"]):
        if n:
            runs.extend(_run(" · "))
        runs.extend({**r, "annotations": {"bold": True}} if bold else r for r in cell)
    return paragraph(runs[:MAX_RUNS])


def _split_table(block: Block) -> list[Block]:
    rows = children_of(block)
    if len(rows) <= MAX_CHILDREN:
        return [block]
    header = block["table"]["has_column_header"]
    head, body = (rows[:1], rows[1:]) if header else ([], rows)
    size = MAX_CHILDREN - len(head)
    out = []
    for start in range(0, len(body), size):
        part = {
            "object": "block",
            "type": "table",
            "table": {**block["table"], "children": head + body[start : start + size]},
        }
        out.append(part)
    return out


def fit(blocks: list[Block], depth: int = 1) -> list[Block]:
    """The same content within the nesting and child-count limits (see the module docstring)."""
    out: list[Block] = []
    for block in blocks:
        if block["type"] == "table":
            if depth >= MAX_DEPTH:  # its rows would be one level too deep
                header = block["table"]["has_column_header"]
                out.extend(_row_paragraph(r, header and n == 0) for n, r in enumerate(children_of(block)))
            else:
                out.extend(_split_table(block))
            continue
        kids = children_of(block)
        if not kids:
            out.append(block)
            continue
        if depth >= MAX_DEPTH:
            _set_children(block, [])
            out.append(block)
            out.extend(fit(kids, depth))
            continue
        kept = fit(kids, depth + 1)
        _set_children(block, kept[:MAX_CHILDREN])
        out.append(block)
        out.extend(kept[MAX_CHILDREN:])
    return out


def elements(block: Block) -> int:
    """The block and all its descendants: what the 1,000-elements-per-request limit counts."""
    return 1 + sum(elements(k) for k in children_of(block))


def depth(blocks: list[Block]) -> int:
    """Levels of nesting in a list of blocks (1 = no block has children)."""
    return max((1 + depth(children_of(b)) for b in blocks), default=0)


def batches(
    blocks: list[Block], first: int = MAX_CHILDREN, first_bytes: int = REQUEST_BUDGET_BYTES
) -> Iterator[list[Block]]:
    """Top-level blocks in request-sized groups: ≤ 100 children, ≤ 1,000 elements, ≤ ~450 KB each.

    ``first`` and ``first_bytes`` cap the first group, which rides along with other content in its request (a
    ``pages.create`` with the page's properties); when not even one block fits there, the first group is empty.
    """
    group: list[Block] = []
    count = size = 0
    cap, room = first, first_bytes
    for block in blocks:
        n, b = elements(block), encoded_bytes(block)
        if (group or room < REQUEST_BUDGET_BYTES) and (
            len(group) >= cap or count + n > MAX_ELEMENTS or size + b > room
        ):
            yield group
            group, count, size, cap, room = [], 0, 0, MAX_CHILDREN, REQUEST_BUDGET_BYTES
        group.append(block)
        count, size = count + n, size + b
    if group:
        yield group


def encoded_bytes(value: Any) -> int:
    """The size of ``value`` in a request body as the Notion client encodes it (a character is 1 to 6 bytes)."""
    return len(json.dumps(value, ensure_ascii=False).encode())

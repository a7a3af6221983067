"""The template dialect becomes Notion blocks that respect the API's limits."""

from __future__ import annotations

import json

from notion_feedback.notion import blocks


def _types(out: list[blocks.Block]) -> list[str]:
    return [b["type"] for b in out]


def _text(block: blocks.Block) -> str:
    return "".join(r["text"]["content"] for r in block[block["type"]]["rich_text"])


def test_dialect_maps_each_construct_to_its_block() -> None:
    text = """# One
## Two
### Three
#### Four
A paragraph
that continues.

- bullet
  - nested
1. first
- [x] done
> [!WARNING] Careful
> - inside
> quoted? no, a paragraph inside the callout
> plain quote
---
| a | b |
|---|---|
| 1 | 2 |
![Volume](chart:volume)
![Ext](https://example.com/x.png)
+++ Details
hidden text
+++
```python
print(1)
```
[toc]
"""
    out = blocks.render(text, lambda src, cap: blocks.image_upload("fu-1", cap) if src == "chart:volume" else None)
    assert _types(out) == [
        "heading_1",
        "heading_2",
        "heading_3",
        "heading_3",
        "paragraph",
        "bulleted_list_item",
        "numbered_list_item",
        "to_do",
        "callout",
        "divider",
        "table",
        "image",
        "image",
        "toggle",
        "code",
        "table_of_contents",
    ]
    assert _text(out[4]) == "A paragraph\nthat continues."
    assert _types(blocks.children_of(out[5])) == ["bulleted_list_item"]
    assert out[7]["to_do"]["checked"] is True
    callout = out[8]
    assert callout["callout"]["icon"]["emoji"] == "⚠️" and _text(callout) == "Careful"
    assert _types(blocks.children_of(callout))[0] == "bulleted_list_item"
    table = out[10]["table"]
    assert table["has_column_header"] is True and table["table_width"] == 2 and len(table["children"]) == 2
    assert out[11]["image"] == {
        "type": "file_upload",
        "file_upload": {"id": "fu-1"},
        "caption": blocks.inline("Volume"),
    }
    assert out[12]["image"]["external"]["url"] == "https://example.com/x.png"
    assert _text(blocks.children_of(out[13])[0]) == "hidden text"
    assert out[14]["code"]["language"] == "python"


def test_missing_chart_becomes_a_visible_note_not_a_broken_image() -> None:
    out = blocks.render("![Cost](chart:cost)", lambda src, cap: None)
    assert out[0]["type"] == "callout" and "not available" in _text(out[0])


def test_inline_markup_and_escapes() -> None:
    runs = blocks.inline(r"a **b** *c* `d` [e](https://x.io/p) \*f\*")
    assert [r["text"]["content"] for r in runs] == ["a ", "b", " ", "c", " ", "d", " ", "e", " *f*"]
    assert runs[1]["annotations"] == {"bold": True}
    assert runs[3]["annotations"] == {"italic": True}
    assert runs[5]["annotations"] == {"code": True}
    assert runs[7]["text"]["link"] == {"url": "https://x.io/p"}


def test_escape_shows_user_text_literally() -> None:
    hostile = "# not a heading | **x** [y](https://z) > [!NOTE]"
    out = blocks.render(f"- {blocks.escape(hostile)}")
    assert _types(out) == ["bulleted_list_item"]
    assert _text(out[0]) == hostile


def test_long_text_is_split_into_2000_char_runs() -> None:
    out = blocks.render("x" * 4500)
    runs = out[0]["paragraph"]["rich_text"]
    assert [len(r["text"]["content"]) for r in runs] == [2000, 2000, 500]


def test_deep_nesting_is_flattened_to_three_levels() -> None:
    text = "- a\n  - b\n    - c\n      - d\n        - e\n+++ T\n| h | i |\n|---|---|\n| 1 | 2 |\n+++"
    out = blocks.fit(blocks.render(text))
    assert blocks.depth(out) == blocks.MAX_DEPTH == 3
    a = out[0]
    [b] = blocks.children_of(a)
    assert [_text(k) for k in blocks.children_of(b)] == ["c", "d", "e"]  # lifted, order kept
    toggle = out[1]
    [table] = blocks.children_of(toggle)
    assert table["type"] == "table" and len(blocks.children_of(table)) == 2  # a table in a toggle stays a table


def test_a_table_at_the_third_level_becomes_one_line_per_row() -> None:
    [table] = blocks.render("| h | i |\n|---|---|\n| 1 | 2 |")
    toggle = {"object": "block", "type": "toggle", "toggle": {"rich_text": [], "children": [table]}}
    item = {
        "object": "block",
        "type": "bulleted_list_item",
        "bulleted_list_item": {"rich_text": [], "children": [toggle]},
    }
    out = blocks.fit([item])
    rows = blocks.children_of(blocks.children_of(out[0])[0])
    assert _types(rows) == ["paragraph", "paragraph"] and blocks.depth(out) == 3
    assert _text(rows[0]) == "h · i" and rows[0]["paragraph"]["rich_text"][0]["annotations"] == {"bold": True}


def test_wide_lists_and_tables_are_split_to_100_children() -> None:
    text = "+++ many\n" + "\n".join(f"- item {i}" for i in range(150)) + "\n+++\n"
    text += "| n |\n|---|\n" + "\n".join(f"| {i} |" for i in range(230))
    out = blocks.fit(blocks.render(text))
    assert len(blocks.children_of(out[0])) == 100
    assert _types(out[1:51]) == ["bulleted_list_item"] * 50
    tables = [b for b in out if b["type"] == "table"]
    assert len(tables) == 3 and all(len(blocks.children_of(t)) <= 100 for t in tables)
    headers = [_cell(blocks.children_of(t)[0]) for t in tables]
    assert headers == ["n", "n", "n"]  # the header row repeats in each part
    assert sum(len(blocks.children_of(t)) - 1 for t in tables) == 230


def _cell(row: blocks.Block) -> str:
    return "".join(r["text"]["content"] for r in row["table_row"]["cells"][0])


def test_batches_respect_children_elements_and_payload_limits() -> None:
    out = blocks.fit(blocks.render("\n\n".join(f"para {i}" for i in range(250))))
    groups = list(blocks.batches(out))
    assert [len(g) for g in groups] == [100, 100, 50]
    tables = [blocks.table([["x"]] * 99) for _ in range(25)]  # 100 elements each
    groups = list(blocks.batches(tables))
    assert all(sum(blocks.elements(b) for b in g) <= blocks.MAX_ELEMENTS for g in groups)
    assert [len(g) for g in groups] == [10, 10, 5]
    big = [blocks.paragraph("y" * 2000 * 40) for _ in range(12)]  # ~80 KB of JSON each
    groups = list(blocks.batches(big))
    assert all(len(json.dumps(g).encode()) <= blocks.REQUEST_BUDGET_BYTES for g in groups) and len(groups) > 1
    assert [len(g) for g in blocks.batches(out, first=30)][:2] == [30, 100]

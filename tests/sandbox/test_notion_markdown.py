"""The enhanced-markdown endpoints, driven by notion-client with bodies written as the SDK's types declare them.

``PATCH /v1/pages/{page_id}/markdown`` takes ``UpdatePageMarkdownBodyParameters`` (insert_content,
replace_content_range, update_content, replace_content) and answers ``PageMarkdownResponse``; ``POST /v1/pages``
takes ``markdown`` (``CreatePageBodyParameters``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from notion_client import APIResponseError, Client

PAGE_MARKDOWN_KEYS = {"object", "id", "markdown", "truncated", "unknown_block_ids", "request_id"}


def text(s: str) -> list[dict]:
    return [{"text": {"content": s}}]


def edit(notion: Client, page_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return notion.request(path=f"pages/{page_id}/markdown", method="PATCH", body=body)


def refused(call: Callable[[], Any]) -> APIResponseError:
    with pytest.raises(APIResponseError) as info:
        call()
    assert info.value.status == 400 and info.value.code == "validation_error"
    return info.value


@pytest.fixture()
def page(notion: Client, root: str) -> str:
    made = notion.pages.create(
        parent={"page_id": root}, properties={"title": text("md")}, markdown="# Plan\n\nfirst step\n\n- a\n- b"
    )
    return made["id"]


def test_create_with_markdown_and_get(notion: Client, page: str) -> None:
    got = notion.request(path=f"pages/{page}/markdown", method="GET", query={"include_transcript": "false"})
    assert set(got) == PAGE_MARKDOWN_KEYS and got["object"] == "page_markdown" and got["id"] == page
    assert got["markdown"] == "# Plan\nfirst step\n- a\n- b"
    assert got["truncated"] is False and got["unknown_block_ids"] == []
    types = [b["type"] for b in notion.blocks.children.list(page)["results"]]
    assert types == ["heading_1", "paragraph", "bulleted_list_item", "bulleted_list_item"]


def test_create_with_content_blocks_and_refusing_two_sources(notion: Client, root: str) -> None:
    made = notion.pages.create(
        parent={"page_id": root}, properties={"title": text("c")}, content=[{"paragraph": {"rich_text": text("x")}}]
    )
    assert notion.pages.retrieve_markdown(made["id"])["markdown"] == "x"
    refused(lambda: notion.pages.create(parent={"page_id": root}, markdown="a", content=[{"divider": {}}]))


def test_insert_content_at_start_end_and_after(notion: Client, page: str) -> None:
    first_block = notion.blocks.children.list(page)["results"][0]["id"]
    out = edit(
        notion, page, {"type": "insert_content", "insert_content": {"content": "intro", "position": {"type": "start"}}}
    )
    assert set(out) == PAGE_MARKDOWN_KEYS and out["markdown"].startswith("intro\n# Plan")
    assert notion.blocks.children.list(page)["results"][1]["id"] == first_block  # blocks kept, not rebuilt
    out = edit(notion, page, {"type": "insert_content", "insert_content": {"content": "outro"}})
    assert out["markdown"].endswith("- b\noutro")
    out = edit(
        notion, page, {"type": "insert_content", "insert_content": {"content": "## Why", "after": "first...step"}}
    )
    assert out["markdown"] == "intro\n# Plan\nfirst step\n## Why\n- a\n- b\noutro"
    both = {"content": "x", "after": "intro", "position": {"type": "end"}}
    refused(lambda: edit(notion, page, {"type": "insert_content", "insert_content": both}))
    refused(
        lambda: edit(notion, page, {"type": "insert_content", "insert_content": {"content": "x", "after": "nowhere"}})
    )


def test_replace_content_range(notion: Client, page: str) -> None:
    body = {"type": "replace_content_range", "replace_content_range": {"content": "- only", "content_range": "- a...b"}}
    assert edit(notion, page, body)["markdown"] == "# Plan\nfirst step\n- only"
    assert [b["type"] for b in notion.blocks.children.list(page)["results"]][-1] == "bulleted_list_item"


def test_update_content_first_or_all_matches(notion: Client, page: str) -> None:
    edit(notion, page, {"type": "insert_content", "insert_content": {"content": "- a"}})
    once = {"content_updates": [{"old_str": "- a", "new_str": "- z"}]}
    assert edit(notion, page, {"type": "update_content", "update_content": once})["markdown"].endswith("- z\n- b\n- a")
    every = {"content_updates": [{"old_str": "- ", "new_str": "* ", "replace_all_matches": True}]}
    out = edit(notion, page, {"type": "update_content", "update_content": every})
    assert out["markdown"] == "# Plan\nfirst step\n- z\n- b\n- a"  # `* ` items read back as `- `
    missing = {"content_updates": [{"old_str": "absent", "new_str": "x"}]}
    refused(lambda: edit(notion, page, {"type": "update_content", "update_content": missing}))
    too_many = {"content_updates": [{"old_str": "a", "new_str": "b"}] * 101}
    err = refused(lambda: edit(notion, page, {"type": "update_content", "update_content": too_many}))
    assert "content_updates.length" in str(err)


def test_replace_content_keeps_or_deletes_child_pages(notion: Client, page: str) -> None:
    child = notion.pages.create(parent={"page_id": page}, properties={"title": text("Kid")})
    md = notion.pages.retrieve_markdown(page)["markdown"]
    tag = f'<page url="https://www.notion.so/{child["id"].replace("-", "")}">Kid</page>'
    assert md.endswith(tag)
    kept = edit(notion, page, {"type": "replace_content", "replace_content": {"new_str": f"{tag}\nnew text"}})
    assert kept["markdown"] == f"{tag}\nnew text"
    assert [b["type"] for b in notion.blocks.children.list(page)["results"]] == ["child_page", "paragraph"]
    err = refused(lambda: edit(notion, page, {"type": "replace_content", "replace_content": {"new_str": "gone"}}))
    assert "allow_deleting_content" in str(err) and child["id"] in str(err)
    assert notion.pages.retrieve(child["id"])["in_trash"] is False  # a refused edit changes nothing
    body = {"type": "replace_content", "replace_content": {"new_str": "gone", "allow_deleting_content": True}}
    assert edit(notion, page, body)["markdown"] == "gone"
    assert notion.pages.retrieve(child["id"])["in_trash"] is True


def test_malformed_edits_are_validation_errors(notion: Client, page: str) -> None:
    refused(lambda: edit(notion, page, {"type": "replace_content", "replace_content": {"content": "old field name"}}))
    refused(lambda: edit(notion, page, {"type": "rewrite", "rewrite": {}}))
    refused(lambda: edit(notion, page, {"type": "replace_content"}))
    two = {"type": "replace_content", "replace_content": {"new_str": "a"}, "update_content": {"content_updates": []}}
    refused(lambda: edit(notion, page, two))
    refused(lambda: notion.request(path=f"pages/{page}/markdown", method="GET", query={"include_transcript": "maybe"}))


def test_long_pages_are_editable(notion: Client, root: str) -> None:
    """The 100-item limit is for ``children`` arrays: markdown of any length goes in and can be edited."""
    lines = [f"- item {i}" for i in range(150)]
    made = notion.pages.create(parent={"page_id": root}, properties={"title": text("long")}, markdown="\n".join(lines))
    updates = {"content_updates": [{"old_str": "- item 149", "new_str": "- last"}]}
    out = edit(notion, made["id"], {"type": "update_content", "update_content": updates})
    assert out["markdown"].split("\n") == [*lines[:149], "- last"]

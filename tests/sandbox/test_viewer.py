"""The workspace viewer: data sources as tables, pages with their blocks and images, a person's edits."""

from __future__ import annotations

import io
import re
import struct
import zlib
from typing import Any

import httpx
import pytest
from notion_client import Client
from viewer_support import csrf_of, open_form

from notion_feedback.sandbox.server import Sandbox


def tiny_png(width: int = 4, height: int = 3) -> bytes:
    """A valid PNG without imaging libraries (the viewer only has to pass the bytes through)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def text(content: str, **annotations: Any) -> dict[str, Any]:
    run: dict[str, Any] = {"type": "text", "text": {"content": content}}
    if annotations:
        run["annotations"] = annotations
    return run


def block(kind: str, content: str = "", **extra: Any) -> dict[str, Any]:
    return {"object": "block", "type": kind, kind: {"rich_text": [text(content)] if content else [], **extra}}


@pytest.fixture()
def workspace(sandbox: Sandbox) -> dict[str, Any]:
    """A small workspace made through the real notion_client: a data source of rated rows and a report page."""
    env = sandbox.env()
    notion = Client(auth=env["NOTION_TOKEN"], base_url=env["NOTION_BASE_URL"])
    root = env["NOTION_SANDBOX_ROOT_PAGE_ID"]
    database = notion.databases.create(
        parent={"type": "page_id", "page_id": root},
        title=[text("Feedback")],
        initial_data_source={
            "properties": {
                "Question": {"title": {}},
                "Rating": {"select": {"options": [{"name": str(i), "color": "green"} for i in range(1, 6)]}},
                "Comment": {"rich_text": {}},
                "Latency (ms)": {"number": {}},
            }
        },
    )
    ds_id = database["data_sources"][0]["id"]
    rows = [
        notion.pages.create(
            parent={"type": "data_source_id", "data_source_id": ds_id},
            properties={
                "Question": {"title": [text(f"How do I reset my password? #{i}")]},
                "Latency (ms)": {"number": 1200 + i},
                **({"Rating": {"select": {"name": "4"}}} if i == 0 else {}),
            },
        )
        for i in range(3)
    ]
    upload = notion.file_uploads.create(filename="kpi.png", content_type="image/png")
    notion.file_uploads.send(upload["id"], file=("kpi.png", io.BytesIO(tiny_png()), "image/png"))
    report = notion.pages.create(
        parent={"type": "page_id", "page_id": root},
        properties={"title": {"title": [text("Daily report 2026-11-24")]}},
        children=[
            block("heading_1", "Key figures"),
            block("paragraph", "Runs were steady."),
            {
                "object": "block",
                "type": "paragraph",
                "paragraph": {"rich_text": [text("bold <b>not html</b>", bold=True)]},
            },
            block("bulleted_list_item", "p95 latency 2.1 s"),
            block("bulleted_list_item", "error rate 0.8 %"),
            {
                "object": "block",
                "type": "callout",
                "callout": {"rich_text": [text("Target met")], "icon": {"type": "emoji", "emoji": "✅"}},
            },
            {
                "object": "block",
                "type": "image",
                "image": {
                    "type": "file_upload",
                    "file_upload": {"id": upload["id"]},
                    "caption": [text("Latency trend")],
                },
            },
            {
                "object": "block",
                "type": "table",
                "table": {
                    "table_width": 2,
                    "has_column_header": True,
                    "children": [
                        {"type": "table_row", "table_row": {"cells": [[text("variant")], [text("rating")]]}},
                        {"type": "table_row", "table_row": {"cells": [[text("A")], [text("3.9")]]}},
                    ],
                },
            },
            {
                "object": "block",
                "type": "toggle",
                "toggle": {"rich_text": [text("Details")], "children": [block("paragraph", "hidden detail")]},
            },
            {
                "object": "block",
                "type": "column_list",
                "column_list": {
                    "children": [
                        {"type": "column", "column": {"children": [block("paragraph", "left column")]}},
                        {"type": "column", "column": {"children": [block("paragraph", "right column")]}},
                    ]
                },
            },
        ],
    )
    return {"notion": notion, "ds_id": ds_id, "rows": rows, "report": report, "viewer": sandbox.notion.viewer_url}


def test_home_lists_data_sources_and_pages(workspace: dict[str, Any], sandbox: Sandbox) -> None:
    sandbox.notion.control.clear_stats()
    page = httpx.get(workspace["viewer"])
    assert page.status_code == 200
    assert f"/_viewer/ds/{workspace['ds_id']}" in page.text and "Feedback" in page.text
    assert "Daily report 2026-11-24" in page.text
    assert sandbox.notion.control.count() == 0, "the viewer's own API calls are not counted (bypass header)"
    css = httpx.get(workspace["viewer"] + "static/viewer.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]


def test_data_source_shows_as_a_table_with_rating_dropdowns(workspace: dict[str, Any]) -> None:
    page = httpx.get(f"{workspace['viewer']}ds/{workspace['ds_id']}")
    assert page.status_code == 200
    headers = re.findall(r'<th class="t-[a-z_]+">([^<]+)</th>', page.text)
    assert headers[0] == "Question" and {"Rating", "Comment", "Latency (ms)"} <= set(headers)
    assert page.text.count("data-page-id=") == 3
    assert "How do I reset my password? #2" in page.text
    assert ">1202<" in page.text, "a number in the plain format shows bare, as Notion shows it"
    selected = re.findall(r'<option value="(\d)" class="bg-green" selected>', page.text)
    assert selected == ["4"], "the rated row's dropdown shows its rating"


def test_table_pages_through_large_data_sources(workspace: dict[str, Any], sandbox: Sandbox) -> None:
    sandbox.notion.bulk_create_pages(
        workspace["ds_id"], [{"Question": {"title": [text(f"bulk {i}")]}} for i in range(60)]
    )
    first = httpx.get(f"{workspace['viewer']}ds/{workspace['ds_id']}")
    assert first.text.count("data-page-id=") == 50
    next_link = re.search(r'href="([^"]+)" rel="next"', first.text)
    assert next_link, "a Next link when there are more rows"
    second = httpx.get(workspace["viewer"].removesuffix("/_viewer/") + next_link.group(1).replace("&amp;", "&"))
    assert second.text.count("data-page-id=") == 13
    assert 'rel="next"' not in second.text


def test_report_page_renders_blocks_and_its_image(workspace: dict[str, Any]) -> None:
    page = httpx.get(f"{workspace['viewer']}page/{workspace['report']['id']}")
    assert page.status_code == 200
    body = page.text
    assert "<h2>Key figures</h2>" in body
    assert "<ul>\n<li>p95 latency 2.1 s</li>\n<li>error rate 0.8 %</li>\n</ul>" in body
    assert "<strong>bold &lt;b&gt;not html&lt;/b&gt;</strong>" in body, "text is escaped, annotations kept"
    assert 'class="callout' in body and "✅" in body and "Target met" in body
    assert "<th>variant</th>" in body and "<td>3.9</td>" in body
    assert "<summary>Details</summary>" in body and "hidden detail" in body
    assert body.index("left column") < body.index("right column") and 'class="columns"' in body
    image = re.search(r'<img src="([^"]+)" alt="Latency trend"', body)
    assert image, body
    fetched = httpx.get(image.group(1).replace("&amp;", "&"))
    assert fetched.status_code == 200 and fetched.content == tiny_png()


def test_a_person_changes_a_rating_and_comment(workspace: dict[str, Any]) -> None:
    notion: Client = workspace["notion"]
    row = workspace["rows"][1]
    url = f"{workspace['viewer']}page/{row['id']}"
    form = httpx.get(url).text
    assert 'name="prop:Rating"' in form and 'name="prop:Comment"' in form
    before = notion.pages.retrieve(row["id"])
    person, hidden = open_form(url)
    response = person.post(
        url,
        data={**hidden, "prop:Rating": "2", "prop:Comment": "Too slow, and wrong.", "prop:Latency (ms)": "1201"},
    )
    assert response.status_code == 303 and response.headers["location"].endswith("saved=2")
    after = notion.pages.retrieve(row["id"])
    assert after["properties"]["Rating"]["select"]["name"] == "2"
    assert after["properties"]["Comment"]["rich_text"][0]["plain_text"] == "Too slow, and wrong."
    assert after["properties"]["Latency (ms)"]["number"] == before["properties"]["Latency (ms)"]["number"]
    editor = after["last_edited_by"]["id"]
    assert editor != before["created_by"]["id"], "the edit is a person's, not the integration's"
    shown = httpx.get(url).text
    assert re.search(r'<option value="2" selected>2</option>', shown)


def test_a_table_cell_dropdown_clears_a_rating(workspace: dict[str, Any]) -> None:
    notion: Client = workspace["notion"]
    row = workspace["rows"][0]
    table_url = f"/_viewer/ds/{workspace['ds_id']}"
    person, csrf = csrf_of(workspace["viewer"] + table_url.removeprefix("/_viewer/"))
    response = person.post(
        f"{workspace['viewer']}page/{row['id']}", data={"prop:Rating": "", "next": table_url, "csrf": csrf}
    )
    assert response.status_code == 303 and response.headers["location"].startswith(table_url)
    assert notion.pages.retrieve(row["id"])["properties"]["Rating"]["select"] is None


def test_errors_are_pages_not_tracebacks(workspace: dict[str, Any]) -> None:
    missing = httpx.get(f"{workspace['viewer']}page/{'0' * 32}")
    assert missing.status_code == 404 and "object_not_found" in missing.text
    url = f"{workspace['viewer']}page/{workspace['rows'][2]['id']}"
    person, csrf = csrf_of(url)
    bad = person.post(url, data={"prop:Latency (ms)": "fast", "csrf": csrf})
    assert bad.status_code == 400 and "not a number" in bad.text

"""A hostile little workspace: rows whose text and links were written by someone other than the person viewing."""

from __future__ import annotations

from typing import Any

import pytest
from notion_client import Client

from notion_feedback.sandbox.server import Sandbox

MULTILINE = "First line.\nSecond line\nthird."


def run(content: str, url: str | None = None, **annotations: Any) -> dict[str, Any]:
    text: dict[str, Any] = {"content": content}
    if url:
        text["link"] = {"url": url}
    out: dict[str, Any] = {"type": "text", "text": text}
    if annotations:
        out["annotations"] = annotations
    return out


@pytest.fixture()
def hostile(sandbox: Sandbox) -> dict[str, Any]:
    """A Feedback-like data source with one row full of links and multi-line, bold text."""
    env = sandbox.env()
    notion = Client(auth=env["NOTION_TOKEN"], base_url=env["NOTION_BASE_URL"])
    database = notion.databases.create(
        parent={"type": "page_id", "page_id": env["NOTION_SANDBOX_ROOT_PAGE_ID"]},
        title=[run("Feedback")],
        initial_data_source={
            "properties": {
                "Question": {"title": {}},
                "Rating": {"select": {"options": [{"name": str(i)} for i in range(1, 6)]}},
                "Comment": {"rich_text": {}},
                "Answer": {"rich_text": {}},
                "Trace": {"url": {}},
                "Contact": {"email": {}},
            }
        },
    )
    ds_id = database["data_sources"][0]["id"]
    row = notion.pages.create(
        parent={"type": "data_source_id", "data_source_id": ds_id},
        properties={
            "Question": {"title": [run("<script>alert('q')</script>")]},
            "Comment": {"rich_text": [run(MULTILINE, bold=True)]},
            "Answer": {
                "rich_text": [
                    run("\nStarts with a newline, ", bold=True),
                    run("a link", "javascript:alert(document.cookie)"),
                    run(" and a good one", "https://docs.example/ok"),
                    run(" and a sneaky one", "java\tscript:alert(2)"),
                ]
            },
            "Trace": {"url": "javascript:alert('trace')"},
            "Contact": {"email": "person@example.com"},
        },
    )
    viewer = sandbox.notion.viewer_url
    return {"notion": notion, "ds_id": ds_id, "row": row, "viewer": viewer, "page_url": f"{viewer}page/{row['id']}"}

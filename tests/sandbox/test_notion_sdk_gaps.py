"""Endpoints and behaviours the official SDK types declare beyond the product's own use: comment edits, data-source
templates, ``external_url`` imports, the ``x-notion-request-id`` header and API 2026-03-11's missing ``archived``."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from notion_client import APIResponseError, Client

from notion_feedback.sandbox.server import Sandbox

COMMENT_KEYS = {
    "object",
    "id",
    "parent",
    "discussion_id",
    "created_time",
    "last_edited_time",
    "created_by",
    "rich_text",
    "display_name",
}


def text(s: str) -> list[dict]:
    return [{"text": {"content": s}}]


def test_comment_update_and_delete(notion: Client, root: str) -> None:
    made = notion.comments.create(parent={"page_id": root}, rich_text=text("typo hree"))
    updated = notion.comments.update(made["id"], rich_text=text("typo here"))
    assert set(updated) - {"request_id"} == COMMENT_KEYS
    assert updated["id"] == made["id"] and updated["discussion_id"] == made["discussion_id"]
    assert notion.comments.retrieve(made["id"])["rich_text"][0]["plain_text"] == "typo here"
    by_markdown = notion.comments.update(made["id"], markdown="now in markdown")
    assert by_markdown["rich_text"][0]["plain_text"] == "now in markdown"
    with pytest.raises(APIResponseError) as bad:
        notion.comments.update(made["id"], rich_text=text("a"), markdown="b")
    assert bad.value.code == "validation_error"
    deleted = notion.comments.delete(made["id"])
    assert deleted["object"] == "comment" and deleted["id"] == made["id"]
    assert made["id"] not in [c["id"] for c in notion.comments.list(block_id=root)["results"]]
    with pytest.raises(APIResponseError) as gone:
        notion.comments.retrieve(made["id"])
    assert gone.value.status == 404 and gone.value.code == "object_not_found"


def test_data_source_templates(notion: Client, make_ds: Callable[..., str]) -> None:
    ds = make_ds()
    listed = notion.data_sources.list_templates(ds, page_size=10)
    assert {k: v for k, v in listed.items() if k != "request_id"} == {
        "templates": [],
        "has_more": False,
        "next_cursor": None,
    }
    with pytest.raises(APIResponseError) as err:
        notion.data_sources.list_templates(ds, page_size=101)
    assert err.value.code == "validation_error"
    with pytest.raises(APIResponseError) as missing:
        notion.data_sources.list_templates("0" * 32)
    assert missing.value.status == 404


def test_external_url_import_is_pending_then_uploaded_or_failed(notion: Client, notion_sb: Sandbox, root: str) -> None:
    source = notion.file_uploads.create(mode="single_part", filename="kpi.png", content_type="image/png")
    notion.file_uploads.send(source["id"], file=("kpi.png", b"\x89PNG sandbox", "image/png"))
    url = f"{notion_sb.notion_url}/_files/{source['id']}/kpi.png"
    made = notion.file_uploads.create(mode="external_url", filename="copy.png", external_url=url)
    assert made["status"] == "pending" and "file_import_result" not in made and "upload_url" not in made
    later = notion.file_uploads.retrieve(made["id"])
    assert later["status"] == "uploaded" and later["content_length"] == len(b"\x89PNG sandbox")
    assert later["file_import_result"]["type"] == "success" and later["file_import_result"]["success"] == {}
    notion.blocks.children.append(
        root, children=[{"type": "image", "image": {"type": "file_upload", "file_upload": {"id": made["id"]}}}]
    )
    broken = notion.file_uploads.create(mode="external_url", filename="x.png", external_url="http://127.0.0.1:9/x.png")
    assert broken["status"] == "pending"
    failed = notion.file_uploads.retrieve(broken["id"])
    assert failed["status"] == "failed" and failed["file_import_result"]["type"] == "error"
    assert set(failed["file_import_result"]["error"]) == {"type", "code", "message", "parameter", "status_code"}
    assert broken["id"] in [u["id"] for u in notion.file_uploads.list(status="failed")["results"]]


def test_single_part_uploads_finish_on_send(notion: Client) -> None:
    """The product's own upload path (report/uploads.py) is create -> send, uploaded at once."""
    made = notion.file_uploads.create(mode="single_part", filename="c.png", content_type="image/png")
    assert made["status"] == "pending" and made["upload_url"].endswith("/send")
    sent = notion.file_uploads.send(made["id"], file=("c.png", b"png", "image/png"))
    assert sent["status"] == "uploaded" and "file_import_result" not in sent


def test_every_response_has_the_request_id_header(notion_sb: Sandbox, root: str) -> None:
    http = httpx.Client(
        base_url=notion_sb.notion_url,
        headers={"authorization": f"Bearer {notion_sb.notion.token}", "notion-version": "2025-09-03"},
    )
    ok = http.get(f"/v1/pages/{root}")
    assert ok.status_code == 200 and ok.headers["x-notion-request-id"] == ok.json()["request_id"]
    bad = http.get("/v1/pages/not-an-id")
    assert bad.status_code == 400 and bad.headers["x-notion-request-id"] == bad.json()["request_id"]
    assert bad.headers["x-notion-request-id"] != ok.headers["x-notion-request-id"]
    unknown = http.get("/v1/nowhere")
    assert unknown.status_code == 400 and unknown.headers["x-notion-request-id"] == unknown.json()["request_id"]


def test_sdk_error_carries_the_header_id(notion: Client) -> None:
    with pytest.raises(APIResponseError) as err:
        notion.pages.retrieve("0" * 32)
    assert err.value.request_id and err.value.headers["x-notion-request-id"] == err.value.request_id


def test_injected_faults_carry_the_header(fresh_notion: Callable[..., Sandbox]) -> None:
    sb = fresh_notion(rate_limit=True)
    http = httpx.Client(
        base_url=sb.notion_url, headers={"authorization": f"Bearer {sb.notion.token}", "notion-version": "2025-09-03"}
    )
    answers = [http.get("/v1/users/me") for _ in range(12)]
    limited = [r for r in answers if r.status_code == 429]
    assert limited and all(r.headers["x-notion-request-id"] == r.json()["request_id"] for r in limited)


def test_the_exchange_log_sees_the_header(fresh_notion: Callable[..., Sandbox]) -> None:
    """Recorded exchanges (checked against the SDK types) keep the header, for answers and middleware errors."""
    sb = fresh_notion(rate_limit=True)
    http = httpx.Client(
        base_url=sb.notion_url, headers={"authorization": f"Bearer {sb.notion.token}", "notion-version": "2025-09-03"}
    )
    sb.notion.control.exchanges.start()
    for _ in range(8):
        http.get("/v1/users/me")
    log = sb.notion.control.exchanges.stop()
    assert {e.status for e in log} == {200, 429}
    for e in log:
        assert e.response_headers["x-notion-request-id"] == e.response_json()["request_id"]


def test_api_2026_drops_archived_everywhere(notion_sb: Sandbox, root: str) -> None:
    """2026-03-11 answers ``in_trash`` only (the SDK still types ``archived``; see docs/sandbox.md)."""
    client = Client(auth=notion_sb.notion.token, base_url=notion_sb.notion_url, notion_version="2026-03-11")
    block = client.blocks.children.append(root, children=[{"paragraph": {"rich_text": text("p")}}])["results"][0]
    upload = client.file_uploads.create(filename="a.txt", content_type="text/plain")
    for obj in (client.pages.retrieve(root), block, client.blocks.delete(block["id"]), upload):
        assert "in_trash" in obj and "archived" not in obj
    old = Client(auth=notion_sb.notion.token, base_url=notion_sb.notion_url)
    assert old.pages.retrieve(root)["archived"] is False

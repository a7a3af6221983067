"""Notion's limits and edge behaviour: request size limits, the 10k query cap, rate limits with the client's
own retries, faults, auth and version errors, minute-rounded timestamps, actors, persistence, API 2026-03-11."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from notion_client import APIResponseError, Client
from notion_client.errors import APIErrorCode
from notion_client.helpers import iterate_paginated_api

from notion_feedback.sandbox.ratelimit import Limit
from notion_feedback.sandbox.server import Sandbox, SandboxOptions


def para(s: str = "x", children: list | None = None) -> dict:
    body: dict = {"rich_text": [{"text": {"content": s}}]}
    if children is not None:
        body["children"] = children
    return {"paragraph": body}


def error_of(fn: Callable[[], object]) -> APIResponseError:
    with pytest.raises(APIResponseError) as err:
        fn()
    return err.value


def test_rich_text_and_array_limits(notion: Client, root: str) -> None:
    err = error_of(lambda: notion.blocks.children.append(root, children=[para("x" * 2001)]))
    assert err.code == APIErrorCode.ValidationError
    assert "body.children[0].paragraph.rich_text[0].text.content.length should be ≤ `2000`, instead was `2001`" in (
        str(err)
    )
    notion.blocks.children.append(root, children=[para("x" * 2000)])
    many = {"paragraph": {"rich_text": [{"text": {"content": "a"}}] * 101}}
    assert "rich_text.length should be ≤ `100`" in str(
        error_of(lambda: notion.blocks.children.append(root, children=[many]))
    )


def test_children_count_and_nesting_limits(notion: Client, root: str) -> None:
    err = error_of(lambda: notion.blocks.children.append(root, children=[para()] * 101))
    assert "body.children.length should be ≤ `100`, instead was `101`" in str(err)
    assert len(notion.blocks.children.append(root, children=[para()] * 100)["results"]) == 100
    three_levels = para("top", [para("child", [para("grandchild")])])
    notion.blocks.children.append(root, children=[three_levels])
    four_levels = para("top", [para("child", [para("grandchild", [para("too deep")])])])
    err = error_of(lambda: notion.blocks.children.append(root, children=[four_levels]))
    assert err.code == APIErrorCode.ValidationError and "should be not present" in str(err)
    # 1000 blocks per request: 10 parents x 100 children = 1010 blocks
    big = [para("p", [para()] * 100) for _ in range(10)]
    assert "1000 blocks" in str(error_of(lambda: notion.blocks.children.append(root, children=big)))
    huge = [para("x" * 2000)] * 100 + [para()]
    assert error_of(lambda: notion.pages.create(parent={"page_id": root}, properties={}, children=huge)).status == 400


def test_page_size_limit(notion: Client, root: str) -> None:
    err = error_of(lambda: notion.blocks.children.list(root, page_size=101))
    assert err.code == APIErrorCode.ValidationError


def test_query_never_returns_more_than_10000_rows(
    notion: Client, notion_sb: Sandbox, make_ds: Callable[..., str]
) -> None:
    ds = make_ds({"Name": {"title": {}}, "N": {"number": {}}})
    notion_sb.notion.bulk_create_pages(
        ds, [{"Name": {"title": [{"text": {"content": f"r{i}"}}]}, "N": {"number": i}} for i in range(10_050)]
    )
    pages, last = 0, None
    cursor = None
    while True:
        last = notion.data_sources.query(ds, page_size=100, start_cursor=cursor, filter_properties=["N"])
        pages += len(last["results"])
        if not last["has_more"]:
            break
        cursor = last["next_cursor"]
    assert pages == 10_000
    assert last["has_more"] is False and last["next_cursor"] is None
    assert last["request_status"] == {"type": "incomplete", "incomplete_reason": "query_result_limit_reached"}
    few = notion.data_sources.query(ds, filter={"property": "N", "number": {"greater_than_or_equal_to": 10_000}})
    assert len(few["results"]) == 50 and "request_status" not in few


def test_rate_limit_with_client_retries(fresh_notion: Callable[..., Sandbox]) -> None:
    sb = fresh_notion(rate_limit=True)
    sb.notion.control.set_limits(limits={"api": Limit(rate=2.0, burst=2.0)})
    raw = httpx.Client(
        base_url=sb.notion_url, headers={"authorization": f"Bearer {sb.notion.token}", "notion-version": "2025-09-03"}
    )
    statuses = [raw.get("/v1/users/me") for _ in range(4)]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited and limited[0].json()["code"] == "rate_limited" and int(limited[0].headers["retry-after"]) >= 1
    client = Client(auth=sb.notion.token, base_url=sb.notion_url)
    start = time.monotonic()
    for _ in range(4):
        client.users.me()  # notion-client waits Retry-After and retries 429s by itself
    assert time.monotonic() - start >= 0.9
    assert sb.notion.control.count("GET /v1/users/me", 429) >= 2


def test_injected_faults(fresh_notion: Callable[..., Sandbox]) -> None:
    sb = fresh_notion()
    admin = httpx.Client(base_url=sb.notion_url, headers={"Authorization": f"Bearer {sb.admin_token}"})
    assert admin.post("/_sandbox/faults", json={"status": {"503": 1.0}}).status_code == 200
    client = Client(auth=sb.notion.token, base_url=sb.notion_url, retry=False)
    err = error_of(client.users.me)
    assert err.status == 503 and err.code == APIErrorCode.ServiceUnavailable
    admin.post("/_sandbox/faults", json={})
    assert client.users.me()["type"] == "bot"


def test_auth_version_and_id_errors(notion_sb: Sandbox, notion: Client) -> None:
    wrong = Client(auth="ntn_wrong", base_url=notion_sb.notion_url)
    err = error_of(wrong.users.me)
    assert err.code == APIErrorCode.Unauthorized and str(err) == "API token is invalid."
    http = httpx.Client(base_url=notion_sb.notion_url, headers={"authorization": f"Bearer {notion_sb.notion.token}"})
    missing = http.get("/v1/users/me")
    assert missing.status_code == 400 and missing.json()["code"] == "missing_version"
    assert http.get("/v1/nope", headers={"notion-version": "2025-09-03"}).json()["code"] == "invalid_request_url"
    body = http.get("/v1/pages/not-a-uuid", headers={"notion-version": "2025-09-03"}).json()
    assert body["code"] == "validation_error" and body["message"].startswith("path failed validation: path.page_id")
    assert set(body) == {"object", "status", "code", "message", "request_id"}
    ghost = "0" * 32
    err = error_of(lambda: notion.pages.retrieve(ghost))
    assert err.code == APIErrorCode.ObjectNotFound and str(err) == (
        "Could not find page with ID: 00000000-0000-0000-0000-000000000000. "
        "Make sure the relevant pages and databases are shared with your integration."
    )
    bad_json = http.post("/v1/pages", content=b"{", headers={"notion-version": "2025-09-03"})
    assert bad_json.json()["code"] == "invalid_json"


def test_ids_without_dashes_are_accepted(notion: Client, root: str) -> None:
    assert notion.pages.retrieve(root.replace("-", ""))["id"] == root


def test_minute_rounding_and_actors(fresh_notion: Callable[..., Sandbox]) -> None:
    sb = fresh_notion()
    sb.notion.control.clock.set(datetime(2026, 7, 4, 9, 9, 45, 607000, tzinfo=UTC), frozen=True)
    client = Client(auth=sb.notion.token, base_url=sb.notion_url)
    page = client.pages.create(
        parent={"page_id": sb.notion.root_page_id}, properties={"title": [{"text": {"content": "p"}}]}
    )
    assert page["created_time"] == page["last_edited_time"] == "2026-07-04T09:09:00.000Z"
    db = client.databases.create(parent={"type": "page_id", "page_id": page["id"]}, title=[{"text": {"content": "d"}}])
    assert db["created_time"] == "2026-07-04T09:09:45.607+00:00"
    sb.notion.control.clock.advance(120)
    person = httpx.Client(
        base_url=sb.notion_url,
        headers={
            "authorization": f"Bearer {sb.notion.token}",
            "notion-version": "2025-09-03",
            "x-sandbox-actor": "person",
        },
    )
    edited = person.patch(f"/v1/pages/{page['id']}", json={"icon": {"type": "emoji", "emoji": "⭐"}}).json()
    assert edited["last_edited_time"] == "2026-07-04T09:11:00.000Z"
    assert edited["last_edited_by"]["id"] == sb.notion.person_user_id
    assert edited["created_by"]["id"] == sb.notion.bot_user_id
    rows = client.data_sources.query(
        db["data_sources"][0]["id"],
        filter={"timestamp": "last_edited_time", "last_edited_time": {"on_or_after": "2026-07-04T09:09:30Z"}},
    )
    assert rows["results"] == []


def test_api_version_2026(notion_sb: Sandbox, root: str) -> None:
    client = Client(auth=notion_sb.notion.token, base_url=notion_sb.notion_url, notion_version="2026-03-11")
    page = client.pages.retrieve(root)
    assert "in_trash" in page and "archived" not in page
    first = client.blocks.children.append(root, children=[para("b")])["results"][0]
    assert "archived" not in first
    client.blocks.children.append(root, children=[para("a")], position={"type": "start"})
    client.blocks.children.append(
        root, children=[para("c")], position={"type": "after_block", "after_block": {"id": first["id"]}}
    )
    texts = [
        b["paragraph"]["rich_text"][0]["plain_text"]
        for b in iterate_paginated_api(client.blocks.children.list, block_id=root)
    ]
    assert texts == ["a", "b", "c"]
    err = error_of(lambda: client.blocks.children.append(root, children=[para()], after=first["id"]))
    assert err.code == APIErrorCode.ValidationError


def test_state_survives_restart(tmp_path: Path) -> None:
    options = SandboxOptions(langsmith=False, rate_limit=False, data_dir=tmp_path)
    with Sandbox(options) as sb:
        client = Client(auth=sb.notion.token, base_url=sb.notion_url)
        root, token = sb.notion.root_page_id, sb.notion.token
        db = client.databases.create(
            parent={"type": "page_id", "page_id": root},
            title=[{"text": {"content": "D"}}],
            initial_data_source={"properties": {"Name": {"title": {}}, "Score": {"select": {}}}},
        )
        ds = db["data_sources"][0]["id"]
        client.pages.create(
            parent={"data_source_id": ds},
            properties={"Name": {"title": [{"text": {"content": "kept"}}]}, "Score": {"select": {"name": "5"}}},
        )
        fu = client.file_uploads.create(filename="a.txt", content_type="text/plain")
        client.file_uploads.send(fu["id"], file=("a.txt", b"hello"))
    with Sandbox(options) as sb:
        assert sb.notion.root_page_id == root and sb.notion.token == token
        client = Client(auth=token, base_url=sb.notion_url)
        rows = client.data_sources.query(ds)["results"]
        assert [r["properties"]["Name"]["title"][0]["plain_text"] for r in rows] == ["kept"]
        assert client.data_sources.retrieve(ds)["properties"]["Score"]["select"]["options"][0]["name"] == "5"
        assert client.file_uploads.retrieve(fu["id"])["content_length"] == 5
        assert sb.notion.workspace.files.read_file(fu["id"]) == (b"hello", "text/plain")


def test_admin_reset_clears_the_workspace(fresh_notion: Callable[..., Sandbox]) -> None:
    sb = fresh_notion()
    client = Client(auth=sb.notion.token, base_url=sb.notion_url)
    client.pages.create(parent={"page_id": sb.notion.root_page_id}, properties={"title": [{"text": {"content": "z"}}]})
    httpx.post(f"{sb.notion_url}/_sandbox/reset", headers={"Authorization": f"Bearer {sb.admin_token}"})
    assert client.blocks.children.list(sb.notion.root_page_id)["results"] == []
    assert client.pages.retrieve(sb.notion.root_page_id)["properties"]["title"]["title"][0]["plain_text"]


def test_the_users_list_pages_like_every_list(notion) -> None:  # type: ignore[no-untyped-def]
    first = notion.users.list(page_size=1)
    assert len(first["results"]) == 1 and first["has_more"] and first["next_cursor"]
    rest = notion.users.list(page_size=100, start_cursor=first["next_cursor"])
    assert first["results"][0]["id"] not in {u["id"] for u in rest["results"]} and not rest["has_more"]
    for wrong in (0, 101):
        with pytest.raises(APIResponseError) as caught:
            notion.users.list(page_size=wrong)
        assert caught.value.code == "validation_error"

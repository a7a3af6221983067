"""Every emulated endpoint, driven by the real notion-client 3.1.0 (sync, plus one AsyncClient test)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest
from notion_client import APIResponseError, AsyncClient, Client
from notion_client.helpers import collect_paginated_api, iterate_paginated_api

from notion_feedback.sandbox.server import Sandbox

Q_ALL = {"q0 about Login", "q1 about Login", "q2 about Login"}
ALL_TYPES = {
    "Name": {"title": {}},
    "Answer": {"rich_text": {}},
    "Rating": {"number": {"format": "number"}},
    "Verdict": {"select": {"options": [{"name": "good", "color": "green"}, {"name": "bad", "color": "red"}]}},
    "Tags": {"multi_select": {}},
    "Stage": {"status": {}},
    "Reviewed": {"checkbox": {}},
    "Trace": {"url": {}},
    "Asked": {"date": {}},
    "Rater": {"people": {}},
    "Contact": {"email": {}},
    "Phone": {"phone_number": {}},
    "ID": {"unique_id": {"prefix": "FB"}},
    "Created": {"created_time": {}},
    "Edited": {"last_edited_time": {}},
}


def text(s: str) -> list[dict]:
    return [{"text": {"content": s}}]


def row_values(person_id: str, **over: object) -> dict:
    values = {
        "Name": {"title": text("How do I reset my password?")},
        "Answer": {"rich_text": text("Use the reset link.")},
        "Rating": {"number": 4},
        "Verdict": {"select": {"name": "good"}},
        "Tags": {"multi_select": [{"name": "auth"}, {"name": "faq"}]},
        "Stage": {"status": {"name": "In progress"}},
        "Reviewed": {"checkbox": True},
        "Trace": {"url": "https://smith.example/r/1"},
        "Asked": {"date": {"start": "2026-11-24T10:00:00+00:00"}},
        "Rater": {"people": [{"id": person_id}]},
        "Contact": {"email": "a@example.com"},
        "Phone": {"phone_number": "+1 555"},
    }
    values.update(over)  # type: ignore[arg-type]
    return values


def test_users(notion: Client, notion_sb: Sandbox) -> None:
    me = notion.users.me()
    assert me["type"] == "bot" and me["bot"]["workspace_limits"]["max_file_upload_size_in_bytes"] == 5 * 1024 * 1024
    users = collect_paginated_api(notion.users.list)
    assert {u["type"] for u in users} == {"bot", "person"}
    person = next(u for u in users if u["type"] == "person")
    assert notion.users.retrieve(person["id"])["person"]["email"]


def test_every_property_type_round_trips(notion: Client, notion_sb: Sandbox, make_ds: Callable[..., str]) -> None:
    ds = make_ds(ALL_TYPES)
    schema = notion.data_sources.retrieve(ds)["properties"]
    assert {name: p["type"] for name, p in schema.items()} == {k: next(iter(v)) for k, v in ALL_TYPES.items()}
    assert schema["Name"]["id"] == "title"
    person = notion_sb.notion.person_user_id
    page = notion.pages.create(parent={"data_source_id": ds}, properties=row_values(person))
    props = notion.pages.retrieve(page["id"])["properties"]
    assert props["Name"]["title"][0]["plain_text"] == "How do I reset my password?"
    assert props["Answer"]["rich_text"][0]["text"]["content"] == "Use the reset link."
    assert props["Rating"] == {"id": schema["Rating"]["id"], "type": "number", "number": 4}
    assert props["Verdict"]["select"]["name"] == "good" and props["Verdict"]["select"]["color"] == "green"
    assert [o["name"] for o in props["Tags"]["multi_select"]] == ["auth", "faq"]
    assert props["Stage"]["status"]["name"] == "In progress"
    assert props["Reviewed"]["checkbox"] is True
    assert props["Trace"]["url"] == "https://smith.example/r/1"
    assert props["Asked"]["date"] == {"start": "2026-11-24T10:00:00+00:00", "end": None, "time_zone": None}
    assert props["Rater"]["people"][0]["id"] == person
    assert props["Contact"]["email"] == "a@example.com" and props["Phone"]["phone_number"] == "+1 555"
    assert props["ID"]["unique_id"] == {"prefix": "FB", "number": 1}
    assert props["Created"]["created_time"].endswith(":00.000Z")
    # Unknown select / multi_select names create options, like Notion.
    notion.pages.update(page["id"], properties={"Verdict": {"select": {"name": "meh"}}, "Rating": {"number": None}})
    schema = notion.data_sources.retrieve(ds)["properties"]
    assert "meh" in [o["name"] for o in schema["Verdict"]["select"]["options"]]
    assert "auth" in [o["name"] for o in schema["Tags"]["multi_select"]["options"]]
    again = notion.pages.retrieve(page["id"])["properties"]
    assert again["Verdict"]["select"]["name"] == "meh" and again["Rating"]["number"] is None
    second = notion.pages.create(parent={"data_source_id": ds}, properties={"Name": {"title": text("2")}})
    assert second["properties"]["ID"]["unique_id"]["number"] == 2


def test_property_validation_errors(notion: Client, make_ds: Callable[..., str]) -> None:
    ds = make_ds(ALL_TYPES)
    cases = [
        ({"Nope": {"rich_text": text("x")}}, "Nope is not a property that exists."),
        ({"Rating": {"select": {"name": "x"}}}, "Rating is expected to be number."),
        ({"Stage": {"status": {"name": "Unknown"}}}, "Invalid status option"),
        ({"Trace": {"url": ""}}, "body.properties.Trace.url"),
    ]
    for props, message in cases:
        with pytest.raises(APIResponseError) as err:
            notion.pages.create(parent={"data_source_id": ds}, properties=props)
        assert err.value.code == "validation_error" and message in str(err.value), props


def test_database_parent_and_database_id_query(notion: Client, make_ds: Callable[..., str], root: str) -> None:
    db = notion.databases.create(parent={"type": "page_id", "page_id": root}, title=text("DB"))
    assert db["data_sources"][0]["name"] == "DB"
    ds = db["data_sources"][0]["id"]
    row = notion.pages.create(parent={"database_id": db["id"]}, properties={"Name": {"title": text("r")}})
    assert row["parent"] == {"type": "data_source_id", "data_source_id": ds, "database_id": db["id"]}
    with pytest.raises(APIResponseError) as err:
        notion.data_sources.query(db["id"])
    assert err.value.code == "object_not_found"
    assert "Make sure the relevant pages and databases are shared" in str(err.value)
    updated = notion.databases.update(db["id"], title=text("Renamed"), icon={"type": "emoji", "emoji": "🔥"})
    assert updated["icon"]["emoji"] == "🔥"
    assert notion.databases.retrieve(db["id"])["title"][0]["plain_text"] == "Renamed"
    second = notion.data_sources.create(
        parent={"type": "database_id", "database_id": db["id"]},
        properties={"Title": {"title": {}}},
        title=text("Second"),
    )
    assert len(notion.databases.retrieve(db["id"])["data_sources"]) == 2
    with pytest.raises(APIResponseError):  # ambiguous once a database has two sources
        notion.pages.create(parent={"database_id": db["id"]}, properties={"Name": {"title": text("r")}})
    assert second["parent"]["database_id"] == db["id"]


def test_schema_changes(notion: Client, make_ds: Callable[..., str]) -> None:
    ds = make_ds({"Name": {"title": {}}, "Score": {"number": {}}, "Note": {"rich_text": {}}})
    row = notion.pages.create(
        parent={"data_source_id": ds}, properties={"Name": {"title": text("a")}, "Score": {"number": 3}}
    )
    out = notion.data_sources.update(
        ds,
        properties={
            "Score": {"name": "Rating"},
            "Note": None,
            "Mood": {"select": {"options": [{"name": "happy"}]}},
        },
    )
    assert set(out["properties"]) == {"Name", "Rating", "Mood"}
    assert notion.pages.retrieve(row["id"])["properties"]["Rating"]["number"] == 3
    out = notion.data_sources.update(ds, properties={"Rating": {"select": {}}})
    assert out["properties"]["Rating"]["type"] == "select"
    assert notion.pages.retrieve(row["id"])["properties"]["Rating"]["select"] is None
    with pytest.raises(APIResponseError):
        notion.data_sources.update(ds, properties={"Name": None})


@pytest.fixture()
def rated(notion: Client, notion_sb: Sandbox, make_ds: Callable[..., str]) -> str:
    ds = make_ds(ALL_TYPES)
    person = notion_sb.notion.person_user_id
    for i, (rating, verdict, reviewed) in enumerate([(1, "bad", False), (3, "good", True), (5, "good", False)]):
        notion.pages.create(
            parent={"data_source_id": ds},
            properties=row_values(
                person,
                Name={"title": text(f"q{i} about Login")},
                Rating={"number": rating},
                Verdict={"select": {"name": verdict}},
                Reviewed={"checkbox": reviewed},
                Asked={"date": {"start": f"2026-11-2{i}"}},
                Trace={"url": f"https://t/{i}"},
            ),
        )
    notion.pages.create(parent={"data_source_id": ds}, properties={"Name": {"title": text("empty")}})
    return ds


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ({"property": "Rating", "number": {"greater_than": 2}}, {"q1 about Login", "q2 about Login"}),
        ({"property": "Rating", "number": {"is_empty": True}}, {"empty"}),
        ({"property": "Verdict", "select": {"equals": "good"}}, {"q1 about Login", "q2 about Login"}),
        ({"property": "Verdict", "select": {"does_not_equal": "good"}}, {"q0 about Login", "empty"}),
        ({"property": "Reviewed", "checkbox": {"equals": True}}, {"q1 about Login"}),
        ({"property": "Name", "title": {"contains": "login"}}, {"q0 about Login", "q1 about Login", "q2 about Login"}),
        ({"property": "Name", "rich_text": {"starts_with": "q2"}}, {"q2 about Login"}),
        ({"property": "Name", "title": {"equals": "empty"}}, {"empty"}),
        ({"property": "Answer", "rich_text": {"is_empty": True}}, {"empty"}),
        ({"property": "Trace", "url": {"ends_with": "/1"}}, {"q1 about Login"}),
        ({"property": "Stage", "status": {"equals": "In progress"}}, Q_ALL),
        ({"property": "Tags", "multi_select": {"contains": "faq"}}, Q_ALL),
        ({"property": "Asked", "date": {"on_or_after": "2026-11-21"}}, {"q1 about Login", "q2 about Login"}),
        ({"property": "Asked", "date": {"before": "2026-11-21"}}, {"q0 about Login"}),
        ({"property": "ID", "unique_id": {"less_than_or_equal_to": 2}}, {"q0 about Login", "q1 about Login"}),
        (
            {"property": "Created", "created_time": {"past_week": {}}},
            {"q0 about Login", "q1 about Login", "q2 about Login", "empty"},
        ),
        (
            {"timestamp": "last_edited_time", "last_edited_time": {"on_or_after": "2000-01-01T00:00:00Z"}},
            {"q0 about Login", "q1 about Login", "q2 about Login", "empty"},
        ),
        (
            {
                "and": [
                    {"property": "Verdict", "select": {"equals": "good"}},
                    {
                        "or": [
                            {"property": "Rating", "number": {"equals": 5}},
                            {"property": "Reviewed", "checkbox": {"equals": True}},
                        ]
                    },
                ]
            },
            {"q1 about Login", "q2 about Login"},
        ),
    ],
)
def test_query_filters(notion: Client, rated: str, flt: dict, expected: set[str]) -> None:
    rows = collect_paginated_api(notion.data_sources.query, data_source_id=rated, filter=flt)
    assert {r["properties"]["Name"]["title"][0]["plain_text"] for r in rows} == expected


def test_query_errors(notion: Client, rated: str) -> None:
    too_deep = {"and": [{"or": [{"and": [{"property": "Rating", "number": {"equals": 1}}]}]}]}
    bad = [
        {"filter": too_deep},
        {"filter": {"property": "Nope", "number": {"equals": 1}}},
        {"filter": {"property": "Rating", "number": {"contains": "x"}}},
        {"page_size": 101},
        {"sorts": [{"property": "Nope", "direction": "ascending"}]},
    ]
    for kwargs in bad:
        with pytest.raises(APIResponseError) as err:
            notion.data_sources.query(rated, **kwargs)
        assert err.value.code == "validation_error", kwargs


def test_sorts_pagination_and_filter_properties(notion: Client, rated: str) -> None:
    desc = notion.data_sources.query(rated, sorts=[{"property": "Rating", "direction": "descending"}])
    assert [r["properties"]["Rating"]["number"] for r in desc["results"]] == [5, 3, 1, None]
    by_time = notion.data_sources.query(rated, sorts=[{"timestamp": "created_time", "direction": "ascending"}])
    assert len(by_time["results"]) == 4
    first = notion.data_sources.query(rated, page_size=3)
    assert first["has_more"] and first["next_cursor"] and len(first["results"]) == 3
    rest = notion.data_sources.query(rated, page_size=3, start_cursor=first["next_cursor"])
    assert not rest["has_more"] and rest["next_cursor"] is None and len(rest["results"]) == 1
    assert "request_status" not in rest
    pages = list(iterate_paginated_api(notion.data_sources.query, data_source_id=rated, page_size=1))
    assert len(pages) == 4
    schema = notion.data_sources.retrieve(rated)["properties"]
    slim = notion.data_sources.query(rated, filter_properties=["Rating", schema["Verdict"]["id"]])
    assert set(slim["results"][0]["properties"]) == {"Rating", "Verdict"}
    one = notion.pages.retrieve(slim["results"][0]["id"], filter_properties=["title"])
    assert set(one["properties"]) == {"Name"}


def test_trashed_rows_leave_queries(notion: Client, rated: str) -> None:
    rows = notion.data_sources.query(rated)["results"]
    notion.pages.update(rows[0]["id"], in_trash=True)
    assert len(notion.data_sources.query(rated)["results"]) == len(rows) - 1
    with pytest.raises(APIResponseError) as err:
        notion.pages.update(rows[0]["id"], properties={"Rating": {"number": 1}})
    assert "archived" in str(err.value)
    restored = notion.pages.update(rows[0]["id"], archived=False)
    assert restored["in_trash"] is False


def test_page_property_items(notion: Client, root: str) -> None:
    items = notion.pages.properties.retrieve(root, "title")
    assert items["object"] == "list" and items["type"] == "property_item"
    assert items["results"][0]["title"]["plain_text"] == "test page"


def test_blocks(notion: Client, root: str) -> None:
    made = notion.blocks.children.append(
        root,
        children=[
            {"heading_1": {"rich_text": text("Report")}},
            {"paragraph": {"rich_text": text("intro")}},
            {"toggle": {"rich_text": text("details"), "children": [{"bulleted_list_item": {"rich_text": text("a")}}]}},
            {"callout": {"rich_text": text("note"), "icon": {"type": "emoji", "emoji": "📈"}}},
            {"divider": {}},
            {"quote": {"rich_text": text("q")}},
            {"code": {"rich_text": text("print(1)"), "language": "python"}},
            {"numbered_list_item": {"rich_text": text("one")}},
            {"image": {"type": "external", "external": {"url": "https://example.com/a.png"}}},
            {"bookmark": {"url": "https://example.com"}},
            {
                "table": {
                    "table_width": 2,
                    "has_column_header": True,
                    "children": [
                        {"table_row": {"cells": [text("k"), text("v")]}},
                        {"table_row": {"cells": [text("a"), text("1")]}},
                    ],
                }
            },
            {
                "column_list": {
                    "children": [
                        {"column": {"children": [{"paragraph": {"rich_text": text("L")}}]}},
                        {"column": {"children": [{"paragraph": {"rich_text": text("R")}}]}},
                    ]
                }
            },
        ],
    )["results"]
    assert [b["type"] for b in made][:3] == ["heading_1", "paragraph", "toggle"]
    assert made[2]["has_children"] and made[3]["callout"]["icon"]["emoji"] == "📈"
    kids = collect_paginated_api(notion.blocks.children.list, block_id=root)
    assert len(kids) == 12
    rows = notion.blocks.children.list(made[10]["id"])["results"]
    assert rows[1]["table_row"]["cells"][0][0]["plain_text"] == "a"
    # after: insert right after the heading
    notion.blocks.children.append(root, children=[{"paragraph": {"rich_text": text("second")}}], after=made[0]["id"])
    kids = notion.blocks.children.list(root, page_size=3)
    assert kids["results"][1]["paragraph"]["rich_text"][0]["plain_text"] == "second" and kids["has_more"]
    updated = notion.blocks.update(made[1]["id"], paragraph={"rich_text": text("changed")})
    assert updated["paragraph"]["rich_text"][0]["plain_text"] == "changed"
    assert notion.blocks.delete(made[1]["id"])["in_trash"] is True
    assert notion.blocks.retrieve(made[1]["id"])["archived"] is True
    assert len(collect_paginated_api(notion.blocks.children.list, block_id=root)) == 12
    with pytest.raises(APIResponseError):
        notion.blocks.update(made[1]["id"], paragraph={"rich_text": text("x")})


def test_child_pages_and_databases_are_blocks(notion: Client, root: str, make_ds: Callable[..., str]) -> None:
    child = notion.pages.create(parent={"page_id": root}, properties={"title": text("Child")})
    make_ds(title="Ratings DB")
    kinds = [(b["type"], b[b["type"]].get("title")) for b in notion.blocks.children.list(root)["results"]]
    assert ("child_page", "Child") in kinds and ("child_database", "Ratings DB") in kinds
    deleted = notion.blocks.delete(child["id"])
    assert deleted["type"] == "child_page" and deleted["in_trash"]
    assert notion.pages.retrieve(child["id"])["in_trash"] is True


def test_file_upload_flow(notion: Client, notion_sb: Sandbox, root: str) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    fu = notion.file_uploads.create(filename="kpi.png", content_type="image/png")
    assert fu["status"] == "pending" and fu["upload_url"].endswith("/send")
    sent = notion.file_uploads.send(fu["id"], file=("kpi.png", png, "image/png"))
    assert sent["status"] == "uploaded" and sent["content_length"] == len(png)
    assert notion.file_uploads.retrieve(fu["id"])["status"] == "uploaded"
    block = notion.blocks.children.append(
        root,
        children=[{"type": "image", "image": {"type": "file_upload", "file_upload": {"id": fu["id"]}, "caption": []}}],
    )
    image = block["results"][0]["image"]
    assert image["type"] == "file" and image["file"]["url"].startswith(notion_sb.notion_url + "/_files/")
    assert httpx.get(image["file"]["url"]).content == png
    assert notion.file_uploads.retrieve(fu["id"])["expiry_time"] is None
    page = notion.pages.update(root, icon={"type": "file_upload", "file_upload": {"id": fu["id"]}})
    assert page["icon"]["type"] == "file"
    listed = collect_paginated_api(notion.file_uploads.list, status="uploaded")
    assert fu["id"] in [u["id"] for u in listed]
    pending = notion.file_uploads.create(filename="later.png", content_type="image/png")
    with pytest.raises(APIResponseError) as err:
        notion.blocks.children.append(
            root, children=[{"image": {"type": "file_upload", "file_upload": {"id": pending["id"]}}}]
        )
    assert err.value.code == "validation_error"


def test_file_upload_limits(notion: Client) -> None:
    with pytest.raises(APIResponseError):
        notion.file_uploads.create(filename="x" * 901, content_type="text/plain")
    fu = notion.file_uploads.create(filename="big.bin", content_type="application/octet-stream")
    with pytest.raises(APIResponseError) as err:
        notion.file_uploads.send(fu["id"], file=("big.bin", b"0" * (5 * 1024 * 1024 + 1)))
    assert err.value.code == "validation_error" and "limit" in str(err.value)
    multi = notion.file_uploads.create(
        mode="multi_part", filename="m.txt", content_type="text/plain", number_of_parts=2
    )
    notion.file_uploads.send(multi["id"], file=("m.txt", b"ab"), part_number="1")
    notion.file_uploads.send(multi["id"], file=("m.txt", b"cd"), part_number="2")
    done = notion.file_uploads.complete(multi["id"])
    assert done["status"] == "uploaded" and done["content_length"] == 4


def test_upload_expiry_follows_the_clock(fresh_notion: Callable[..., Sandbox]) -> None:
    sb = fresh_notion()
    client = Client(auth=sb.notion.token, base_url=sb.notion_url)
    fu = client.file_uploads.create(filename="a.png", content_type="image/png")
    client.file_uploads.send(fu["id"], file=("a.png", b"png", "image/png"))
    sb.notion.control.clock.advance(3601)
    assert client.file_uploads.retrieve(fu["id"])["status"] == "expired"
    assert [u["id"] for u in client.file_uploads.list(status="expired")["results"]] == [fu["id"]]
    with pytest.raises(APIResponseError) as err:
        client.blocks.children.append(
            sb.notion.root_page_id, children=[{"image": {"type": "file_upload", "file_upload": {"id": fu["id"]}}}]
        )
    assert "expired" in str(err.value)


def test_comments(notion: Client, root: str) -> None:
    first = notion.comments.create(parent={"page_id": root}, rich_text=text("Looks wrong"))
    reply = notion.comments.create(discussion_id=first["discussion_id"], rich_text=text("Fixed"))
    assert reply["discussion_id"] == first["discussion_id"] and reply["parent"] == {"type": "page_id", "page_id": root}
    listed = notion.comments.list(block_id=root)
    assert [c["rich_text"][0]["plain_text"] for c in listed["results"]] == ["Looks wrong", "Fixed"]


def test_search(notion: Client, root: str, make_ds: Callable[..., str]) -> None:
    ds = make_ds(title="Searchable feedback")
    notion.pages.create(parent={"page_id": root}, properties={"title": text("Searchable report")})
    found = notion.search(query="searchable")
    assert {r["object"] for r in found["results"]} >= {"page", "data_source"}
    only = notion.search(query="searchable", filter={"property": "object", "value": "data_source"})
    assert ds in [r["id"] for r in only["results"]]
    paged = collect_paginated_api(notion.search, query="searchable", page_size=1)
    assert len(paged) >= 2
    assert notion.search(query=root)["results"] == []  # ids are not titles


def test_markdown(notion: Client, root: str) -> None:
    out = notion.pages.update_markdown(
        root, type="insert_content", insert_content={"content": "## New Section\n\nHello from markdown."}
    )
    assert out["markdown"] == "## New Section\nHello from markdown."
    assert notion.pages.retrieve_markdown(root)["markdown"] == out["markdown"]


def test_move_page(notion: Client, root: str) -> None:
    a = notion.pages.create(parent={"page_id": root}, properties={"title": text("A")})
    b = notion.pages.create(parent={"page_id": root}, properties={"title": text("B")})
    moved = notion.pages.move(a["id"], parent={"type": "page_id", "page_id": b["id"]})
    assert moved["parent"]["page_id"] == b["id"]
    assert [x["id"] for x in notion.blocks.children.list(b["id"])["results"]] == [a["id"]]


def test_async_client(notion_sb: Sandbox, root: str) -> None:
    async def run() -> list[str]:
        client = AsyncClient(auth=notion_sb.notion.token, base_url=notion_sb.notion_url)
        try:
            await client.blocks.children.append(root, children=[{"paragraph": {"rich_text": text("async")}}])
            listed = await client.blocks.children.list(root)
            return [b["type"] for b in listed["results"]]
        finally:
            await client.aclose()

    assert asyncio.run(run()) == ["paragraph"]

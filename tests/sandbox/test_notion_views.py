"""Database views (/v1/views) as the official SDK types describe them: create, retrieve, list, update, delete."""

from __future__ import annotations

from typing import Any

import pytest
from notion_client import APIResponseError, Client


def _database(notion: Client, root: str) -> tuple[str, str]:
    db = notion.databases.create(
        parent={"type": "page_id", "page_id": root},
        title=[{"type": "text", "text": {"content": "Reports"}}],
        initial_data_source={"properties": {"Title": {"title": {}}, "Date": {"date": {}}}},
    )
    return db["id"], db["data_sources"][0]["id"]


def _create(notion: Client, ds: str, name: str, **extra: Any) -> dict[str, Any]:
    body = {"data_source_id": ds, "name": name, "type": "table", **extra}
    return notion.request(path="views", method="POST", body=body)


def _ids(notion: Client, **query: str) -> list[str]:
    listed = notion.request(path="views", method="GET", query=query)
    assert listed["object"] == "list" and listed["type"] == "view"
    assert all(set(ref) == {"object", "id"} and ref["object"] == "view" for ref in listed["results"])
    return [ref["id"] for ref in listed["results"]]


def test_a_view_keeps_its_sorts_and_its_place_in_the_tab_bar(notion: Client, root: str) -> None:
    db, ds = _database(notion, root)
    sorts = [{"property": "Date", "direction": "descending"}]
    first = _create(notion, ds, "All")
    newest = _create(notion, ds, "Newest first", database_id=db, sorts=sorts, position={"type": "start"})
    assert newest["object"] == "view" and newest["type"] == "table" and newest["name"] == "Newest first"
    assert newest["parent"] == {"type": "database_id", "database_id": db} and newest["data_source_id"] == ds
    assert newest["sorts"] == sorts and newest["filter"] is None
    assert newest["url"].endswith(f"?v={newest['id'].replace('-', '')}")
    assert _ids(notion, database_id=db) == [newest["id"], first["id"]]
    assert _ids(notion, data_source_id=ds) == [newest["id"], first["id"]]
    again = notion.request(path=f"views/{newest['id']}", method="GET")
    assert {k: v for k, v in again.items() if k != "request_id"} == {
        k: v for k, v in newest.items() if k != "request_id"
    }

    renamed = notion.request(path=f"views/{first['id']}", method="PATCH", body={"name": "Everything"})
    assert renamed["name"] == "Everything" and renamed["sorts"] is None
    notion.request(path=f"views/{first['id']}", method="DELETE")
    assert _ids(notion, database_id=db) == [newest["id"]]
    with pytest.raises(APIResponseError) as gone:
        notion.request(path=f"views/{first['id']}", method="GET")
    assert gone.value.status == 404


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ({"sorts": [{"property": "Nope", "direction": "descending"}]}, "Could not find sort property"),
        ({"sorts": [{"property": "Date", "direction": "down"}]}, "direction"),
        ({"type": "spreadsheet"}, "body.type"),
        ({"position": {"type": "middle"}}, "body.position.type"),
    ],
)
def test_a_view_the_data_source_cannot_have_is_refused(notion: Client, root: str, extra: dict, says: str) -> None:
    _, ds = _database(notion, root)
    body = {"data_source_id": ds, "name": "Bad", "type": "table", **extra}
    with pytest.raises(APIResponseError) as err:
        notion.request(path="views", method="POST", body=body)
    assert err.value.status == 400 and err.value.code == "validation_error" and says in str(err.value)
    assert _ids(notion, data_source_id=ds) == []

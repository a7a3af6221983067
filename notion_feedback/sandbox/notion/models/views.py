"""Database views (``/v1/views``): create, retrieve, update, delete and list, as the official SDK types describe them.

A view belongs to a database and shows one of its data sources, with its own filter and sorts; the order of a
database's views is its tab bar (``position`` on create). What a view stores is returned as given: the emulator
validates the sorts and filter against the data source's schema, as a query would, but lays out nothing (view
``configuration`` is kept and returned, not interpreted). Unlike Notion, a database created through the API has
no default view here: only the views made through this endpoint exist.
"""

from __future__ import annotations

from typing import Any

from notion_feedback.sandbox.notion.common import Ctx, body_id, fmt_minute, hex_id, new_id
from notion_feedback.sandbox.notion.exceptions import body_error, not_found, validation
from notion_feedback.sandbox.notion.models.objects import Objects
from notion_feedback.sandbox.notion.models.query import compile_filter, compile_sorts

VIEW_TYPES = ("table", "board", "list", "calendar", "timeline", "gallery", "form", "chart", "map", "dashboard")


class Views:
    """View endpoints, over the shared ``Objects`` (store, users, clock, databases and data sources)."""

    def __init__(self, objects: Objects) -> None:
        self.objects = objects
        self.store = objects.store

    def _view(self, view_id: str) -> dict[str, Any]:
        view = self.store.get(view_id, "view")
        if view is None or view.get("deleted"):
            raise not_found("view", view_id)
        return view

    def render_view(self, view: dict[str, Any]) -> dict[str, Any]:
        user = self.objects.user
        return {
            "object": "view",
            "id": view["id"],
            "parent": {"type": "database_id", "database_id": view["database_id"]},
            "name": view["name"],
            "type": view["type"],
            "created_time": fmt_minute(view["created"]),
            "last_edited_time": fmt_minute(view["edited"]),
            "url": f"https://www.notion.so/{hex_id(view['database_id'])}?v={hex_id(view['id'])}",
            "data_source_id": view["data_source_id"],
            "created_by": user(view["created_by"], partial=True),
            "last_edited_by": user(view["edited_by"], partial=True),
            "filter": view.get("filter"),
            "sorts": view.get("sorts"),
            "quick_filters": view.get("quick_filters"),
            "configuration": view.get("configuration"),
        }

    def _check_view_query(self, view: dict[str, Any], body: dict[str, Any]) -> None:
        """The sorts and filter of ``body`` validated against the view's data source, then kept on the view."""
        schema = self.objects.data_source(view["data_source_id"])["properties"]
        for key in ("sorts", "filter", "quick_filters", "configuration"):
            if key not in body:
                continue
            value = body[key]
            if key == "sorts" and value is not None:
                compile_sorts(value, schema)
            if key == "filter" and value is not None:
                compile_filter(value, schema, self.objects.now())
            view[key] = value

    def create_view(self, body: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        ds = self.objects.data_source(body_id(body.get("data_source_id"), "body.data_source_id"))
        db = self.objects.database(ds["database_id"])
        if body.get("database_id") is not None and body_id(body["database_id"], "body.database_id") != db["id"]:
            raise validation("The data source does not belong to the database given as database_id.")
        name, kind = body.get("name"), body.get("type")
        if not isinstance(name, str):
            raise body_error("body.name", "should be a string", name)
        if kind not in VIEW_TYPES:
            raise body_error("body.type", f"should be one of {', '.join(f'`{t}`' for t in VIEW_TYPES)}", kind)
        view = {"kind": "view", "id": new_id(), "database_id": db["id"], "data_source_id": ds["id"]}
        view |= {"name": name, "type": kind, "filter": None, "sorts": None, "quick_filters": None}
        view["configuration"] = None
        self._check_view_query(view, body)
        self.objects.stamp(view, ctx, created=True)
        order = db.setdefault("views", [])
        order.insert(self._view_position(order, body.get("position")), view["id"])
        self.store.put(view)
        self.store.touch(db)
        return self.render_view(view)

    def _view_position(self, order: list[str], position: Any) -> int:
        if position is None:
            return len(order)
        kind = position.get("type") if isinstance(position, dict) else None
        if kind == "start":
            return 0
        if kind == "end":
            return len(order)
        if kind == "after_view":
            after = body_id(position.get("view_id"), "body.position.view_id")
            if after not in order:
                raise not_found("view", after)
            return order.index(after) + 1
        raise body_error("body.position.type", "should be `start`, `end` or `after_view`", kind)

    def retrieve_view(self, view_id: str) -> dict[str, Any]:
        return self.render_view(self._view(view_id))

    def update_view(self, view_id: str, body: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        view = self._view(view_id)
        if "name" in body:
            if not isinstance(body["name"], str):
                raise body_error("body.name", "should be a string", body["name"])
            view["name"] = body["name"]
        self._check_view_query(view, body)
        self.objects.stamp(view, ctx)
        self.store.put(view)
        return self.render_view(view)

    def delete_view(self, view_id: str) -> dict[str, Any]:
        view = self._view(view_id)
        db = self.objects.database(view["database_id"])
        if view_id in db.get("views", []):
            db["views"].remove(view_id)
            self.store.touch(db)
        rendered = self.render_view(view)
        view["deleted"] = True
        self.store.put(view)
        # The SDK types the answer as the partial view (DeleteViewResponse = PartialDataSourceViewObjectResponse).
        return {key: rendered[key] for key in ("object", "id", "parent", "type")}

    def list_views(self, database_id: str | None, data_source_id: str | None) -> list[dict[str, Any]]:
        """The views of a database (tab order), or those showing one data source: ``{"object": "view", "id"}``."""
        if database_id is None and data_source_id is None:
            raise validation("Provide either database_id or data_source_id.")
        if database_id is None:
            database_id = self.objects.data_source(data_source_id)["database_id"]
        db = self.objects.database(database_id)
        views = [v for v in (self.store.get(i, "view") for i in db.get("views", [])) if v and not v.get("deleted")]
        if data_source_id is not None:
            views = [v for v in views if v["data_source_id"] == data_source_id]
        return [{"object": "view", "id": v["id"]} for v in views]

"""The emulated workspace: pages, databases, data sources, queries and search, and the parts it is made of.

``Workspace`` composes the store, ``Objects`` (users, lookups, stamps; ``objects``), ``Files`` (uploads;
``files``), ``Content`` (blocks, markdown, comments; ``content``) and ``Views`` (``views``); each receives
what it needs and none of them knows the workspace. Request handling (auth, versions, HTTP) lives in
``notion.responses``. Every public method runs under the store lock and returns Notion's response shape; the
caller flushes the store once per request.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from notion_feedback.sandbox.notion.common import (
    Ctx,
    cursor_index,
    fmt_millis,
    fmt_minute,
    hex_id,
    list_response,
    new_id,
    page_size_of,
    page_url,
    plain_text,
)
from notion_feedback.sandbox.notion.exceptions import body_error, not_found, validation
from notion_feedback.sandbox.notion.models.blocks import drafts
from notion_feedback.sandbox.notion.models.content import Content
from notion_feedback.sandbox.notion.models.files import Files
from notion_feedback.sandbox.notion.models.objects import TITLE_SCHEMA, Objects
from notion_feedback.sandbox.notion.models.props import (
    new_prop_id,
    render_schema,
    render_value,
    schema_config,
    write_value,
)
from notion_feedback.sandbox.notion.models.query import compile_filter, compile_sorts, find_prop
from notion_feedback.sandbox.notion.models.store import Store
from notion_feedback.sandbox.notion.models.views import Views

MAX_QUERY_RESULTS = 10_000


class Workspace:
    """All state of one emulated Notion workspace, shared with one integration (the bot)."""

    def __init__(self, store: Store, clock: Callable[[], datetime], workspace_name: str = "Sandbox workspace") -> None:
        self.store = store
        self.files = Files(store, clock)
        self.objects = Objects(store, clock, self.files, workspace_name)
        self.content = Content(self.objects, self.files)
        self.views = Views(self.objects)
        self.seed()

    def seed(self) -> None:
        self.objects.seed()

    @property
    def base_url(self) -> str:
        return self.files.base_url

    @base_url.setter
    def base_url(self, value: str) -> None:
        self.files.base_url = value

    @property
    def bot_id(self) -> str:
        return self.objects.bot_id

    @property
    def person_id(self) -> str:
        return self.objects.person_id

    @property
    def root_page_id(self) -> str:
        return self.objects.root_page_id

    # -- pages ----------------------------------------------------------------------------------------------
    def render_page(self, page: dict[str, Any], filter_props: list[str] | None = None) -> dict[str, Any]:
        schema = self.objects.schema_of(page)
        props = {}
        wanted = None
        if filter_props is not None:
            wanted = {p["id"] for key in filter_props if (p := find_prop(schema, key))}
        for pid, prop in schema.items():
            if wanted is not None and pid not in wanted:
                continue
            props[prop["name"]] = render_value(
                prop, page, lambda u: self.objects.user(u, partial=True), self.files.render_file_ref
            )
        return {
            "object": "page",
            "id": page["id"],
            "created_time": fmt_minute(page["created"]),
            "last_edited_time": fmt_minute(page["edited"]),
            "created_by": self.objects.user(page["created_by"], partial=True),
            "last_edited_by": self.objects.user(page["edited_by"], partial=True),
            "cover": self.files.render_file_ref(page["cover"]),
            "icon": self.files.render_file_ref(page["icon"]),
            "parent": page["parent"],
            "in_trash": page["in_trash"],
            "is_archived": False,
            "is_locked": page["is_locked"],
            "properties": props,
            "url": page_url(plain_text(self.objects.title_rt(page)), page["id"]),
            "public_url": None,
            "archived": page["in_trash"],
        }

    def _write_props(self, page: dict[str, Any], raw: Any, ds: dict[str, Any] | None) -> None:
        if not isinstance(raw, dict):
            raise body_error("body.properties", "should be an object", raw)
        schema = ds["properties"] if ds else TITLE_SCHEMA
        for key, value in raw.items():
            prop = find_prop(schema, key)
            if prop is None and ds is None and isinstance(value, dict) and "title" in value:
                prop = schema["title"]  # a page's only property, whatever the request calls it
            if prop is None:
                raise validation(f"{key} is not a property that exists.")
            page["props"][prop["id"]] = write_value(
                prop,
                value,
                f"body.properties.{key}",
                mentions=self.objects.mention,
                known_user=self.objects.known_user,
                file_ref=self.objects.files_value,
            )
        if ds is not None:
            self.store.touch(ds)  # writing an unknown select option adds it to the schema

    def _new_page(self, parent: dict[str, Any], ctx: Ctx) -> tuple[dict[str, Any], dict[str, Any] | None]:
        ds = None
        if parent["type"] == "database_id":
            db = self.store.get(parent["database_id"], "database")
            sources = [s for s in db["data_sources"] if self.store.get(s)]
            if len(sources) != 1:
                raise validation(
                    "Databases with multiple data sources are not supported in this API version. "
                    "Use a data_source_id parent instead."
                )
            parent = {"type": "data_source_id", "data_source_id": sources[0], "database_id": db["id"]}
        if parent["type"] == "data_source_id":
            ds = self.store.get(parent["data_source_id"], "data_source")
        page = {
            "kind": "page",
            "id": new_id(),
            "parent": parent,
            "data_source_id": ds["id"] if ds else None,
            "props": {},
            "icon": None,
            "cover": None,
            "in_trash": False,
            "is_locked": False,
            "children": [],
        }
        self.objects.stamp(page, ctx, created=True)
        if ds is not None:
            counters = ds.setdefault("unique_counters", {})
            for pid, prop in ds["properties"].items():
                if prop["type"] == "unique_id":
                    counters[pid] = counters.get(pid, 0) + 1
                    page["props"][pid] = counters[pid]
            self.store.touch(ds)
        return page, ds

    def create_page(self, body: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        parent = self.objects.parent(
            body.get("parent"), ("page_id", "database_id", "data_source_id", "workspace", "block_id")
        )
        page, ds = self._new_page(parent, ctx)
        if "properties" in body:
            self._write_props(page, body["properties"], ds)
        page["icon"] = self.objects.icon(body.get("icon"), "body.icon")
        page["cover"] = self.objects.icon(body.get("cover"), "body.cover")
        tree = self._initial_content(body)
        self.store.put(page)
        self.objects.link_child(page["parent"], page["id"])
        self.content.insert_blocks(page, tree, None, ctx)
        return self.render_page(page)

    def _initial_content(self, body: dict[str, Any]) -> list[Any]:
        """A new page's blocks: ``children`` or ``content`` (blocks, ``CreatePageBodyParameters``) or ``markdown``."""
        given = [k for k in ("children", "content", "markdown") if body.get(k) not in (None, [])]
        if len(given) > 1:
            raise validation(f"body failed validation: only one of body.{given[0]} and body.{given[1]} may be given.")
        if not given:
            return []
        key = given[0]
        if key == "markdown":
            if not isinstance(body["markdown"], str):
                raise body_error("body.markdown", "should be a string", body["markdown"])
            return self.content.markdown_drafts(body["markdown"], "body.markdown")
        return drafts(body[key], f"body.{key}", self.objects.block_ctx())

    def bulk_create_pages(self, data_source_id: str, rows: list[dict[str, Any]], actor: str | None = None) -> list[str]:
        """Fast path for tests and benchmarks: validate and insert rows without HTTP, flushing once."""
        with self.store.lock:
            ds = self.store.get(data_source_id, "data_source")
            if ds is None:
                raise not_found("data_source", data_source_id)
            ctx = Ctx(version="2025-09-03", actor=actor or self.objects.bot_id)
            parent = {"type": "data_source_id", "data_source_id": ds["id"], "database_id": ds["database_id"]}
            ids = []
            for props in rows:
                page, _ = self._new_page(parent, ctx)
                self._write_props(page, props, ds)
                self.store.put(page)
                ids.append(page["id"])
            self.store.flush()
            return ids

    def retrieve_page(self, page_id: str, filter_props: list[str] | None) -> dict[str, Any]:
        return self.render_page(self.objects.page(page_id), filter_props)

    def update_page(self, page_id: str, body: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        page = self.objects.page(page_id)
        trash = body.get("in_trash", body.get("archived"))
        if trash is not None and not isinstance(trash, bool):
            raise body_error("body.in_trash", "should be a boolean", trash)
        if page["in_trash"] and trash is not False and ({"properties", "icon", "cover"} & body.keys()):
            raise validation("Can't edit block that is archived. You must unarchive the block before editing.")
        ds = self.store.get(page["data_source_id"]) if page.get("data_source_id") else None
        if "properties" in body:
            self._write_props(page, body["properties"], ds)
        if "icon" in body:
            page["icon"] = self.objects.icon(body["icon"], "body.icon")
        if "cover" in body:
            page["cover"] = self.objects.icon(body["cover"], "body.cover")
        if "is_locked" in body:
            page["is_locked"] = bool(body["is_locked"])
        if trash is not None:
            page["in_trash"] = trash
        if body.get("erase_content"):
            for child in page.get("children", []):
                obj = self.store.get(child)
                if obj is not None:
                    obj["in_trash"] = True
                    self.store.touch(obj)
            page["children"] = []
        self.objects.stamp(page, ctx)
        self.store.put(page)
        return self.render_page(page)

    def move_page(self, page_id: str, body: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        page = self.objects.page(page_id)
        parent = self.objects.parent(body.get("parent"), ("page_id", "data_source_id", "workspace"))
        into_or_out = parent["type"] == "data_source_id" or page.get("data_source_id")
        if into_or_out and page.get("data_source_id") != parent.get("data_source_id"):
            raise validation("Moving pages into or out of data sources is not supported by the sandbox.")
        self.objects.unlink_child(page["parent"], page["id"])
        page["parent"] = parent
        self.objects.link_child(parent, page["id"])
        self.objects.stamp(page, ctx)
        self.store.put(page)
        return self.render_page(page)

    def page_property(self, page_id: str, property_id: str, cursor: str | None, page_size: int) -> dict[str, Any]:
        page = self.objects.page(page_id)
        prop = find_prop(self.objects.schema_of(page), property_id)
        if prop is None:
            raise not_found("property", property_id)
        value = render_value(prop, page, lambda u: self.objects.user(u), self.files.render_file_ref)
        ptype = prop["type"]
        if ptype not in ("title", "rich_text", "people", "relation"):
            return {"object": "property_item", **{k: v for k, v in value.items() if k != "has_more"}}
        items = [{"object": "property_item", "type": ptype, "id": prop["id"], ptype: v} for v in value[ptype]]
        start = int(cursor) if cursor and cursor.isdigit() else 0
        chunk = items[start : start + page_size]
        more = start + page_size < len(items)
        return {
            "object": "list",
            "results": chunk,
            "next_cursor": str(start + page_size) if more else None,
            "has_more": more,
            "type": "property_item",
            "property_item": {"id": prop["id"], "next_url": None, "type": ptype, ptype: {}},
        }

    # -- databases and data sources ------------------------------------------------------------------------
    def render_database(self, db: dict[str, Any]) -> dict[str, Any]:
        return {
            "object": "database",
            "id": db["id"],
            "title": db["title"],
            "description": db["description"],
            "parent": db["parent"],
            "is_inline": db["is_inline"],
            "in_trash": db["in_trash"],
            "is_locked": db["is_locked"],
            "created_time": fmt_millis(db["created"]),
            "last_edited_time": fmt_millis(db["edited"]),
            "data_sources": [
                {"id": s, "name": plain_text(self.store.get(s)["title"])}
                for s in db["data_sources"]
                if self.store.get(s)
            ],
            "icon": self.files.render_file_ref(db["icon"]),
            "cover": self.files.render_file_ref(db["cover"]),
            "url": f"https://app.notion.com/p/{hex_id(db['id'])}",
            "public_url": None,
            "archived": db["in_trash"],
        }

    def render_data_source(self, ds: dict[str, Any]) -> dict[str, Any]:
        db = self.store.get(ds["database_id"])
        return {
            "object": "data_source",
            "id": ds["id"],
            "cover": None,
            "icon": self.files.render_file_ref(ds["icon"]),
            "created_time": fmt_minute(ds["created"]),
            "created_by": self.objects.user(ds["created_by"], partial=True),
            "last_edited_by": self.objects.user(ds["edited_by"], partial=True),
            "last_edited_time": fmt_minute(ds["edited"]),
            "title": ds["title"],
            "description": ds["description"],
            "is_inline": db["is_inline"],
            "properties": {p["name"]: render_schema(p, self.objects.database_of) for p in ds["properties"].values()},
            "parent": {"type": "database_id", "database_id": db["id"]},
            "database_parent": db["parent"],
            "url": f"https://app.notion.com/p/{hex_id(db['id'])}",
            "public_url": None,
            "in_trash": ds["in_trash"],
            "archived": ds["in_trash"],
        }

    def _apply_schema(self, ds: dict[str, Any], raw: Any, path: str, creating: bool) -> None:
        """Add, rename (``{"Old": {"name": "New"}}``), retype or remove (``{"X": null}``) properties."""
        if not isinstance(raw, dict):
            raise body_error(path, "should be an object", raw)
        props: dict[str, dict[str, Any]] = ds["properties"]
        for key, spec in raw.items():
            kpath = f"{path}.{key}"
            existing = None if creating else find_prop(props, key)
            if spec is None:
                if existing is None:
                    raise validation(f"{key} is not a property that exists.")
                if existing["type"] == "title":
                    raise validation("Cannot delete the title property of a data source.")
                del props[existing["id"]]
                for row_id in self.store.rows.get(ds["id"], []):
                    row = self.store.get(row_id)
                    if row is not None and row["props"].pop(existing["id"], None) is not None:
                        self.store.touch(row)
                continue
            if not isinstance(spec, dict):
                raise body_error(kpath, "should be an object or `null`", spec)
            ptype = spec.get("type") or next((k for k in spec if k not in ("name", "description", "type")), None)
            name = spec.get("name", existing["name"] if existing else key)
            if not isinstance(name, str) or not name.strip():
                raise body_error(f"{kpath}.name", "should be a non-empty string", name)
            if any(p["name"] == name and p is not existing for p in props.values()):
                raise validation(f"A property named {name} already exists.")
            if existing is None:
                if ptype is None:
                    raise validation(f"{key} is not a property that exists.")
                if ptype == "title" and any(p["type"] == "title" for p in props.values()):
                    raise validation("A data source can only have one title property.")
                pid = "title" if ptype == "title" else new_prop_id(set(props))
                props[pid] = {
                    "id": pid,
                    "name": name,
                    "type": ptype,
                    "description": spec.get("description"),
                    "config": schema_config(ptype, spec.get(ptype), kpath),
                }
                continue
            existing["name"] = name
            if "description" in spec:
                existing["description"] = spec["description"]
            if ptype is not None:
                if ptype != existing["type"]:
                    if "title" in (ptype, existing["type"]):
                        raise validation("Cannot change the type of the title property.")
                    for row_id in self.store.rows.get(ds["id"], []):
                        row = self.store.get(row_id)
                        if row is not None and row["props"].pop(existing["id"], None) is not None:
                            self.store.touch(row)
                    existing["config"] = schema_config(ptype, spec.get(ptype), kpath)
                    existing["type"] = ptype
                else:
                    existing["config"] = schema_config(ptype, spec.get(ptype), kpath, existing["config"])
        if creating and not any(p["type"] == "title" for p in props.values()):
            props["title"] = {"id": "title", "name": "Name", "type": "title", "description": None, "config": {}}

    def _new_data_source(
        self, db: dict[str, Any], title: list, properties: Any, icon: Any, ctx: Ctx, path: str
    ) -> dict[str, Any]:
        ds = {
            "kind": "data_source",
            "id": new_id(),
            "database_id": db["id"],
            "title": title,
            "description": [],
            "icon": self.objects.icon(icon, f"{path}.icon") if icon is not None else None,
            "properties": {},
            "in_trash": False,
        }
        self._apply_schema(
            ds, properties if properties is not None else {"Name": {"title": {}}}, f"{path}.properties", creating=True
        )
        self.objects.stamp(ds, ctx, created=True)
        self.store.put(ds)
        db["data_sources"].append(ds["id"])
        self.store.touch(db)
        return ds

    def create_database(self, body: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        parent = self.objects.parent(body.get("parent"), ("page_id", "workspace", "block_id"))
        title = self.objects.rt(body.get("title", []), "body.title")
        db = {
            "kind": "database",
            "id": new_id(),
            "parent": parent,
            "title": title,
            "description": self.objects.rt(body.get("description", []), "body.description"),
            "is_inline": bool(body.get("is_inline", False)),
            "in_trash": False,
            "is_locked": False,
            "icon": self.objects.icon(body.get("icon"), "body.icon"),
            "cover": self.objects.icon(body.get("cover"), "body.cover"),
            "data_sources": [],
        }
        self.objects.stamp(db, ctx, created=True)
        initial = body.get("initial_data_source") or {}
        if not isinstance(initial, dict):
            raise body_error("body.initial_data_source", "should be an object", initial)
        self.store.put(db)
        self._new_data_source(
            db, title, initial.get("properties"), initial.get("icon"), ctx, "body.initial_data_source"
        )
        self.objects.link_child(parent, db["id"])
        return self.render_database(db)

    def retrieve_database(self, db_id: str) -> dict[str, Any]:
        return self.render_database(self.objects.database(db_id))

    def update_database(self, db_id: str, body: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        db = self.objects.database(db_id)
        if "title" in body:
            db["title"] = self.objects.rt(body["title"], "body.title")
        if "description" in body:
            db["description"] = self.objects.rt(body["description"], "body.description")
        for key in ("icon", "cover"):
            if key in body:
                db[key] = self.objects.icon(body[key], f"body.{key}")
        if "is_inline" in body:
            db["is_inline"] = bool(body["is_inline"])
        if "is_locked" in body:
            db["is_locked"] = bool(body["is_locked"])
        trash = body.get("in_trash", body.get("archived"))
        if trash is not None:
            db["in_trash"] = bool(trash)
        if "parent" in body:
            parent = self.objects.parent(body["parent"], ("page_id", "workspace"))
            self.objects.unlink_child(db["parent"], db["id"])
            db["parent"] = parent
            self.objects.link_child(parent, db["id"])
        self.objects.stamp(db, ctx)
        self.store.put(db)
        return self.render_database(db)

    def create_data_source(self, body: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        parent = self.objects.parent(body.get("parent"), ("database_id",))
        db = self.objects.database(parent["database_id"])
        if body.get("properties") is None:
            raise body_error("body.properties", "should be defined", None)
        ds = self._new_data_source(
            db, self.objects.rt(body.get("title", []), "body.title"), body["properties"], body.get("icon"), ctx, "body"
        )
        return self.render_data_source(ds)

    def retrieve_data_source(self, ds_id: str) -> dict[str, Any]:
        return self.render_data_source(self.objects.data_source(ds_id))

    def update_data_source(self, ds_id: str, body: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        ds = self.objects.data_source(ds_id)
        if "title" in body:
            ds["title"] = self.objects.rt(body["title"], "body.title")
        if "description" in body:
            ds["description"] = self.objects.rt(body["description"], "body.description")
        if "icon" in body:
            ds["icon"] = self.objects.icon(body["icon"], "body.icon")
        if "properties" in body:
            self._apply_schema(ds, body["properties"], "body.properties", creating=False)
        trash = body.get("in_trash", body.get("archived"))
        if trash is not None:
            ds["in_trash"] = bool(trash)
        self.objects.stamp(ds, ctx)
        self.store.put(ds)
        return self.render_data_source(ds)

    def query(self, ds_id: str, body: dict[str, Any], filter_props: list[str] | None) -> dict[str, Any]:
        """Filter, sort and page rows; never more than 10,000 results along one cursor chain."""
        ds = self.objects.data_source(ds_id)
        page_size = page_size_of(body.get("page_size"), "body.page_size")
        schema = ds["properties"]
        predicate = (
            compile_filter(body["filter"], schema, self.objects.now()) if body.get("filter") is not None else None
        )
        order = compile_sorts(body.get("sorts"), schema)
        want_trash = bool(body.get("in_trash", body.get("archived", False)))
        rows = [
            r
            for i in self.store.rows.get(ds["id"], [])
            if (r := self.store.get(i)) is not None
            and r["in_trash"] == want_trash
            and r.get("data_source_id") == ds["id"]
        ]
        if predicate is not None:
            rows = [r for r in rows if predicate(r)]
        rows = order(rows)
        start = cursor_index(rows, body.get("start_cursor"))
        limit = min(len(rows), MAX_QUERY_RESULTS)
        end = min(start + page_size, limit)
        out = list_response([self.render_page(r, filter_props) for r in rows[start:end]], "page_or_data_source")
        if end < limit:
            out["next_cursor"], out["has_more"] = rows[end]["id"], True
        elif len(rows) > MAX_QUERY_RESULTS:
            out["request_status"] = {"type": "incomplete", "incomplete_reason": "query_result_limit_reached"}
        return out

    # -- search -------------------------------------------------------------------------------------------------
    def search(self, body: dict[str, Any]) -> dict[str, Any]:
        query = body.get("query") or ""
        if not isinstance(query, str):
            raise body_error("body.query", "should be a string", query)
        flt = body.get("filter")
        kind = None
        if flt is not None:
            if (
                not isinstance(flt, dict)
                or flt.get("property") != "object"
                or flt.get("value") not in ("page", "data_source")
            ):
                raise body_error(
                    "body.filter.value",
                    "should be `page` or `data_source`",
                    (flt or {}).get("value") if isinstance(flt, dict) else flt,
                )
            kind = flt["value"]
        sort = body.get("sort") or {"direction": "descending", "timestamp": "last_edited_time"}
        if sort.get("timestamp") != "last_edited_time" or sort.get("direction") not in ("ascending", "descending"):
            raise body_error("body.sort", "should sort by `last_edited_time` ascending or descending", sort)
        page_size = page_size_of(body.get("page_size"), "body.page_size")
        needle = query.lower()
        found = []
        for obj in self.store.objects.values():
            if obj["kind"] not in ("page", "data_source") or obj["in_trash"] or (kind and obj["kind"] != kind):
                continue
            if obj["kind"] == "data_source" and self.store.get(obj["database_id"])["in_trash"]:
                continue
            if needle in self.objects.title_of(obj).lower():
                found.append(obj)
        desc = sort["direction"] == "descending"
        found.sort(key=lambda o: (o["edited"][:16], o["seq"]), reverse=desc)
        start = cursor_index(found, body.get("start_cursor"))
        chunk = found[start : start + page_size]
        out = list_response(
            [self.render_page(o) if o["kind"] == "page" else self.render_data_source(o) for o in chunk],
            "page_or_data_source",
        )
        if start + page_size < len(found):
            out["next_cursor"], out["has_more"] = found[start + page_size]["id"], True
        return out

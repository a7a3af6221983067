"""The emulated workspace: users, pages, databases, data sources, queries and search.

Request handling (auth, versions, HTTP) lives in ``notion.responses``; blocks and comments in
``content``; uploads in ``files``. Every public method here runs under the store lock and
returns Notion's response shape; the caller flushes the store once per request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from notion_feedback.sandbox.notion.common import (
    NotionError,
    as_uuid,
    body_error,
    body_id,
    check_array,
    fmt_millis,
    fmt_minute,
    hex_id,
    iso,
    new_id,
    not_found,
    page_url,
    plain_text,
    rich_text,
    text_rt,
    validation,
)
from notion_feedback.sandbox.notion.models.blocks import BlockContext, drafts
from notion_feedback.sandbox.notion.models.content import ContentMixin
from notion_feedback.sandbox.notion.models.files import FilesMixin
from notion_feedback.sandbox.notion.models.props import (
    new_prop_id,
    render_schema,
    render_value,
    schema_config,
    write_value,
)
from notion_feedback.sandbox.notion.models.query import compile_filter, compile_sorts, find_prop
from notion_feedback.sandbox.notion.models.store import Store
from notion_feedback.sandbox.notion.models.views import ViewsMixin

MAX_QUERY_RESULTS = 10_000
FREE_FILE_LIMIT = 5 * 1024 * 1024
TITLE_SCHEMA = {"title": {"id": "title", "name": "title", "type": "title", "config": {}}}


@dataclass
class Ctx:
    """Per-request facts: API version and who acts (the bot, or the person for the workspace viewer)."""

    version: str
    actor: str


class Workspace(ContentMixin, FilesMixin, ViewsMixin):
    """All state of one emulated Notion workspace, shared with one integration (the bot)."""

    def __init__(self, store: Store, clock: Callable[[], datetime], workspace_name: str = "Sandbox workspace") -> None:
        self.store = store
        self._clock = clock
        self.base_url = ""
        self.max_file_size = FREE_FILE_LIMIT
        self.workspace_name = workspace_name
        self.seed()

    # -- setup --------------------------------------------------------------------------------------------
    def seed(self) -> None:
        """Users and the shared root page; kept in the store so ids survive a restart."""
        with self.store.lock:
            meta = self.store.meta
            if "root_page_id" not in meta:
                for key in ("bot_id", "person_id", "workspace_id", "root_page_id"):
                    self.store.set_meta(key, new_id())
                now = iso(self.now())
                self.store.put(
                    {
                        "kind": "page",
                        "id": meta["root_page_id"],
                        "parent": {"type": "workspace", "workspace": True},
                        "data_source_id": None,
                        "props": {"title": text_rt("Sandbox workspace")},
                        "icon": None,
                        "cover": None,
                        "in_trash": False,
                        "is_locked": False,
                        "children": [],
                        "created": now,
                        "edited": now,
                        "created_by": meta["person_id"],
                        "edited_by": meta["person_id"],
                    }
                )
                self.store.flush()

    @property
    def bot_id(self) -> str:
        return self.store.meta["bot_id"]

    @property
    def person_id(self) -> str:
        return self.store.meta["person_id"]

    @property
    def root_page_id(self) -> str:
        return self.store.meta["root_page_id"]

    def now(self) -> datetime:
        return self._clock()

    # -- users --------------------------------------------------------------------------------------------
    def users(self) -> list[dict[str, Any]]:
        return [self.user(self.person_id), self.user(self.bot_id)]

    def user(self, user_id: str, partial: bool = False) -> dict[str, Any]:
        if partial:
            return {"object": "user", "id": user_id}
        if user_id == self.bot_id:
            return {
                "object": "user",
                "id": user_id,
                "name": "Sandbox integration",
                "avatar_url": None,
                "type": "bot",
                "bot": {
                    "owner": {"type": "workspace", "workspace": True},
                    "workspace_name": self.workspace_name,
                    "workspace_id": self.store.meta["workspace_id"],
                    "workspace_limits": {"max_file_upload_size_in_bytes": self.max_file_size},
                },
            }
        if user_id == self.person_id:
            return {
                "object": "user",
                "id": user_id,
                "name": "Sam Rater",
                "avatar_url": None,
                "type": "person",
                "person": {"email": "sam.rater@example.com"},
            }
        raise not_found("user", user_id)

    def known_user(self, user_id: str) -> bool:
        return user_id in (self.bot_id, self.person_id)

    # -- shared helpers -----------------------------------------------------------------------------------------
    def _stamp(self, obj: dict[str, Any], ctx: Ctx, created: bool = False) -> None:
        now = iso(self.now())
        obj["edited"], obj["edited_by"] = now, ctx.actor
        if created:
            obj["created"], obj["created_by"] = now, ctx.actor

    def _mention(self, mention: dict[str, Any], path: str) -> tuple[str, str | None, dict[str, Any]]:
        kind = mention.get("type") or next(iter(mention), None)
        if kind == "user":
            uid = body_id((mention.get("user") or {}).get("id"), f"{path}.user.id")
            user = self.user(uid) if self.known_user(uid) else {"object": "user", "id": uid}
            return "@" + user.get("name", "Unknown"), None, {"type": "user", "user": user}
        if kind in ("page", "database"):
            oid = body_id((mention.get(kind) or {}).get("id"), f"{path}.{kind}.id")
            obj = self.store.get(oid)
            title = self._title_of(obj) if obj else "Untitled"
            return title, f"https://www.notion.so/{hex_id(oid)}", {"type": kind, kind: {"id": oid}}
        if kind == "date":
            date = mention.get("date") or {}
            return (
                str(date.get("start")),
                None,
                {
                    "type": "date",
                    "date": {"start": date.get("start"), "end": date.get("end"), "time_zone": date.get("time_zone")},
                },
            )
        raise body_error(f"{path}.type", "should be `user`, `page`, `database` or `date`", kind)

    def rt(self, raw: Any, path: str) -> list[dict[str, Any]]:
        return rich_text(raw, path, self._mention)

    def block_ctx(self) -> BlockContext:
        return BlockContext(mentions=self._mention, icon=self.icon, media=self._media)

    def icon(self, raw: Any, path: str) -> dict[str, Any] | None:
        """Page/database/callout icons and covers: emoji, external URL, or an uploaded file by id."""
        if raw is None:
            return None
        if not isinstance(raw, dict):
            raise body_error(path, "should be an object or `null`", raw)
        kind = raw.get("type") or next(
            (k for k in ("emoji", "external", "file_upload", "custom_emoji") if k in raw), None
        )
        if kind == "emoji" and isinstance(raw.get("emoji"), str):
            return {"type": "emoji", "emoji": raw["emoji"]}
        if kind == "external" and isinstance((raw.get("external") or {}).get("url"), str):
            return {"type": "external", "external": {"url": raw["external"]["url"]}}
        if kind == "file_upload":
            ref = self.attach_upload((raw.get("file_upload") or {}).get("id"), f"{path}.file_upload")
            ref.pop("_name", None)
            return ref
        if kind == "custom_emoji":
            return {"type": "custom_emoji", "custom_emoji": raw.get("custom_emoji")}
        raise body_error(path, "should be an emoji, external or file_upload object", raw)

    def _media(self, body: dict[str, Any], path: str) -> dict[str, Any]:
        kind = body.get("type") or next((k for k in ("external", "file_upload", "file") if k in body), None)
        btype = path.rsplit(".", 1)[-1]
        if kind == "external":
            url = (body.get("external") or {}).get("url")
            if not isinstance(url, str) or len(url) > 2000:
                raise body_error(f"{path}.external.url", "should be a URL of at most 2000 characters", url)
            out: dict[str, Any] = {"type": "external", "external": {"url": url}}
        elif kind == "file_upload":
            out = self.attach_upload((body.get("file_upload") or {}).get("id"), f"{path}.file_upload", btype)
            name = out.pop("_name")
            if btype in ("file", "pdf"):
                out["name"] = body.get("name") or name
        else:
            raise body_error(f"{path}.type", "should be `external` or `file_upload`", kind)
        if "name" in body and btype in ("file", "pdf"):
            out["name"] = body["name"]
        return out

    def _title_of(self, obj: dict[str, Any]) -> str:
        if obj["kind"] == "page":
            return plain_text(self._title_rt(obj))
        return plain_text(obj.get("title"))

    def _title_rt(self, page: dict[str, Any]) -> list[dict[str, Any]]:
        schema = self._schema_of(page)
        tid = next((pid for pid, p in schema.items() if p["type"] == "title"), "title")
        return page["props"].get(tid) or []

    def _schema_of(self, page: dict[str, Any]) -> dict[str, dict[str, Any]]:
        ds = self.store.get(page["data_source_id"]) if page.get("data_source_id") else None
        return ds["properties"] if ds else TITLE_SCHEMA

    def _page(self, page_id: str) -> dict[str, Any]:
        page = self.store.get(page_id, "page")
        if page is None:
            raise not_found("page", page_id)
        return page

    def _container(self, object_id: str) -> dict[str, Any]:
        """A page or block that can hold children."""
        obj = self.store.get(object_id, ("page", "block"))
        if obj is None:
            raise not_found("block", object_id)
        return obj

    def _parent(self, raw: Any, allowed: tuple[str, ...]) -> dict[str, Any]:
        """A request ``parent`` -> stored parent dict, checking the referenced object exists."""
        if not isinstance(raw, dict):
            raise body_error("body.parent", "should be an object", raw)
        kind = raw.get("type") or next((k for k in allowed if k in raw), None)
        if kind not in allowed:
            raise body_error("body.parent.type", f"should be one of {', '.join(allowed)}", kind)
        if kind == "workspace":
            return {"type": "workspace", "workspace": True}
        pid = body_id(raw.get(kind), f"body.parent.{kind}")
        if kind == "page_id":
            target = self.store.get(pid, "page")
            if target is None:
                raise not_found("page", pid)
            if target.get("data_source_id") is None and target["in_trash"]:
                raise validation("Can't edit block that is archived. You must unarchive the block before editing.")
        elif kind == "block_id":
            self._container(pid)
        elif kind == "database_id":
            db = self.store.get(pid, "database")
            if db is None:
                raise not_found("database", pid)
            return {"type": "database_id", "database_id": pid}
        elif kind == "data_source_id":
            ds = self.store.get(pid, "data_source")
            if ds is None:
                raise not_found("data_source", pid)
            return {"type": "data_source_id", "data_source_id": pid, "database_id": ds["database_id"]}
        return {"type": kind, kind: pid}

    def _link_child(self, parent: dict[str, Any], child_id: str) -> None:
        key = parent.get("type")
        if key in ("page_id", "block_id"):
            container = self.store.get(parent[key])
            if container is not None:
                container.setdefault("children", []).append(child_id)
                self.store.touch(container)

    def _unlink_child(self, parent: dict[str, Any], child_id: str) -> None:
        key = parent.get("type")
        if key in ("page_id", "block_id"):
            container = self.store.get(parent[key])
            if container is not None and child_id in container.get("children", []):
                container["children"].remove(child_id)
                self.store.touch(container)

    # -- pages ----------------------------------------------------------------------------------------------
    def render_page(self, page: dict[str, Any], filter_props: list[str] | None = None) -> dict[str, Any]:
        schema = self._schema_of(page)
        props = {}
        wanted = None
        if filter_props is not None:
            wanted = {p["id"] for key in filter_props if (p := find_prop(schema, key))}
        for pid, prop in schema.items():
            if wanted is not None and pid not in wanted:
                continue
            props[prop["name"]] = render_value(prop, page, lambda u: self.user(u, partial=True), self.render_file_ref)
        return {
            "object": "page",
            "id": page["id"],
            "created_time": fmt_minute(page["created"]),
            "last_edited_time": fmt_minute(page["edited"]),
            "created_by": self.user(page["created_by"], partial=True),
            "last_edited_by": self.user(page["edited_by"], partial=True),
            "cover": self.render_file_ref(page["cover"]),
            "icon": self.render_file_ref(page["icon"]),
            "parent": page["parent"],
            "in_trash": page["in_trash"],
            "is_archived": False,
            "is_locked": page["is_locked"],
            "properties": props,
            "url": page_url(plain_text(self._title_rt(page)), page["id"]),
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
                mentions=self._mention,
                known_user=self.known_user,
                file_ref=self._files_value,
            )
        if ds is not None:
            self.store.touch(ds)  # writing an unknown select option adds it to the schema

    def _files_value(self, raw: dict[str, Any], path: str) -> dict[str, Any]:
        kind = raw.get("type") or next((k for k in ("external", "file_upload") if k in raw), None)
        if kind == "external":
            return {"type": "external", "external": {"url": (raw.get("external") or {}).get("url")}}
        if kind == "file_upload":
            return self.attach_upload((raw.get("file_upload") or {}).get("id"), f"{path}.file_upload")
        raise body_error(f"{path}.type", "should be `external` or `file_upload`", kind)

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
        self._stamp(page, ctx, created=True)
        if ds is not None:
            counters = ds.setdefault("unique_counters", {})
            for pid, prop in ds["properties"].items():
                if prop["type"] == "unique_id":
                    counters[pid] = counters.get(pid, 0) + 1
                    page["props"][pid] = counters[pid]
            self.store.touch(ds)
        return page, ds

    def create_page(self, body: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        parent = self._parent(body.get("parent"), ("page_id", "database_id", "data_source_id", "workspace", "block_id"))
        page, ds = self._new_page(parent, ctx)
        if "properties" in body:
            self._write_props(page, body["properties"], ds)
        page["icon"] = self.icon(body.get("icon"), "body.icon")
        page["cover"] = self.icon(body.get("cover"), "body.cover")
        children = body.get("children")
        if body.get("markdown") is not None or body.get("content") is not None:
            from notion_feedback.sandbox.notion.models.blocks import parse_markdown

            md = body.get("markdown") if body.get("markdown") is not None else body.get("content")
            if not isinstance(md, str):
                raise body_error("body.markdown", "should be a string", md)
            children = (children or []) + parse_markdown(md)
        tree = drafts(children, "body.children", self.block_ctx()) if children is not None else []
        self.store.put(page)
        self._link_child(page["parent"], page["id"])
        self._insert_blocks(page, tree, None, ctx)
        return self.render_page(page)

    def bulk_create_pages(self, data_source_id: str, rows: list[dict[str, Any]], actor: str | None = None) -> list[str]:
        """Fast path for tests and benchmarks: validate and insert rows without HTTP, flushing once."""
        with self.store.lock:
            ds = self.store.get(data_source_id, "data_source")
            if ds is None:
                raise not_found("data_source", data_source_id)
            ctx = Ctx(version="2025-09-03", actor=actor or self.bot_id)
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
        return self.render_page(self._page(page_id), filter_props)

    def update_page(self, page_id: str, body: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        page = self._page(page_id)
        trash = body.get("in_trash", body.get("archived"))
        if trash is not None and not isinstance(trash, bool):
            raise body_error("body.in_trash", "should be a boolean", trash)
        if page["in_trash"] and trash is not False and ({"properties", "icon", "cover"} & body.keys()):
            raise validation("Can't edit block that is archived. You must unarchive the block before editing.")
        ds = self.store.get(page["data_source_id"]) if page.get("data_source_id") else None
        if "properties" in body:
            self._write_props(page, body["properties"], ds)
        if "icon" in body:
            page["icon"] = self.icon(body["icon"], "body.icon")
        if "cover" in body:
            page["cover"] = self.icon(body["cover"], "body.cover")
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
        self._stamp(page, ctx)
        self.store.put(page)
        return self.render_page(page)

    def move_page(self, page_id: str, body: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        page = self._page(page_id)
        parent = self._parent(body.get("parent"), ("page_id", "data_source_id", "workspace"))
        into_or_out = parent["type"] == "data_source_id" or page.get("data_source_id")
        if into_or_out and page.get("data_source_id") != parent.get("data_source_id"):
            raise validation("Moving pages into or out of data sources is not supported by the sandbox.")
        self._unlink_child(page["parent"], page["id"])
        page["parent"] = parent
        self._link_child(parent, page["id"])
        self._stamp(page, ctx)
        self.store.put(page)
        return self.render_page(page)

    def page_property(self, page_id: str, property_id: str, cursor: str | None, page_size: int) -> dict[str, Any]:
        page = self._page(page_id)
        prop = find_prop(self._schema_of(page), property_id)
        if prop is None:
            raise not_found("property", property_id)
        value = render_value(prop, page, lambda u: self.user(u), self.render_file_ref)
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
            "icon": self.render_file_ref(db["icon"]),
            "cover": self.render_file_ref(db["cover"]),
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
            "icon": self.render_file_ref(ds["icon"]),
            "created_time": fmt_minute(ds["created"]),
            "created_by": self.user(ds["created_by"], partial=True),
            "last_edited_by": self.user(ds["edited_by"], partial=True),
            "last_edited_time": fmt_minute(ds["edited"]),
            "title": ds["title"],
            "description": ds["description"],
            "is_inline": db["is_inline"],
            "properties": {p["name"]: render_schema(p, self._database_of) for p in ds["properties"].values()},
            "parent": {"type": "database_id", "database_id": db["id"]},
            "database_parent": db["parent"],
            "url": f"https://app.notion.com/p/{hex_id(db['id'])}",
            "public_url": None,
            "in_trash": ds["in_trash"],
            "archived": ds["in_trash"],
        }

    def _database_of(self, ds_id: str) -> str | None:
        ds = self.store.get(ds_id, "data_source")
        return ds["database_id"] if ds else None

    def _database(self, db_id: str) -> dict[str, Any]:
        db = self.store.get(db_id, "database")
        if db is None:
            raise not_found("database", db_id)
        return db

    def _data_source(self, ds_id: str) -> dict[str, Any]:
        ds = self.store.get(ds_id, "data_source")
        if ds is None:
            raise not_found("data_source", ds_id)
        return ds

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
            "icon": self.icon(icon, f"{path}.icon") if icon is not None else None,
            "properties": {},
            "in_trash": False,
        }
        self._apply_schema(
            ds, properties if properties is not None else {"Name": {"title": {}}}, f"{path}.properties", creating=True
        )
        self._stamp(ds, ctx, created=True)
        self.store.put(ds)
        db["data_sources"].append(ds["id"])
        self.store.touch(db)
        return ds

    def create_database(self, body: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        parent = self._parent(body.get("parent"), ("page_id", "workspace", "block_id"))
        title = self.rt(body.get("title", []), "body.title")
        db = {
            "kind": "database",
            "id": new_id(),
            "parent": parent,
            "title": title,
            "description": self.rt(body.get("description", []), "body.description"),
            "is_inline": bool(body.get("is_inline", False)),
            "in_trash": False,
            "is_locked": False,
            "icon": self.icon(body.get("icon"), "body.icon"),
            "cover": self.icon(body.get("cover"), "body.cover"),
            "data_sources": [],
        }
        self._stamp(db, ctx, created=True)
        initial = body.get("initial_data_source") or {}
        if not isinstance(initial, dict):
            raise body_error("body.initial_data_source", "should be an object", initial)
        self.store.put(db)
        self._new_data_source(
            db, title, initial.get("properties"), initial.get("icon"), ctx, "body.initial_data_source"
        )
        self._link_child(parent, db["id"])
        return self.render_database(db)

    def retrieve_database(self, db_id: str) -> dict[str, Any]:
        return self.render_database(self._database(db_id))

    def update_database(self, db_id: str, body: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        db = self._database(db_id)
        if "title" in body:
            db["title"] = self.rt(body["title"], "body.title")
        if "description" in body:
            db["description"] = self.rt(body["description"], "body.description")
        for key in ("icon", "cover"):
            if key in body:
                db[key] = self.icon(body[key], f"body.{key}")
        if "is_inline" in body:
            db["is_inline"] = bool(body["is_inline"])
        if "is_locked" in body:
            db["is_locked"] = bool(body["is_locked"])
        trash = body.get("in_trash", body.get("archived"))
        if trash is not None:
            db["in_trash"] = bool(trash)
        if "parent" in body:
            parent = self._parent(body["parent"], ("page_id", "workspace"))
            self._unlink_child(db["parent"], db["id"])
            db["parent"] = parent
            self._link_child(parent, db["id"])
        self._stamp(db, ctx)
        self.store.put(db)
        return self.render_database(db)

    def create_data_source(self, body: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        parent = self._parent(body.get("parent"), ("database_id",))
        db = self._database(parent["database_id"])
        if body.get("properties") is None:
            raise body_error("body.properties", "should be defined", None)
        ds = self._new_data_source(
            db, self.rt(body.get("title", []), "body.title"), body["properties"], body.get("icon"), ctx, "body"
        )
        return self.render_data_source(ds)

    def retrieve_data_source(self, ds_id: str) -> dict[str, Any]:
        return self.render_data_source(self._data_source(ds_id))

    def update_data_source(self, ds_id: str, body: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        ds = self._data_source(ds_id)
        if "title" in body:
            ds["title"] = self.rt(body["title"], "body.title")
        if "description" in body:
            ds["description"] = self.rt(body["description"], "body.description")
        if "icon" in body:
            ds["icon"] = self.icon(body["icon"], "body.icon")
        if "properties" in body:
            self._apply_schema(ds, body["properties"], "body.properties", creating=False)
        trash = body.get("in_trash", body.get("archived"))
        if trash is not None:
            ds["in_trash"] = bool(trash)
        self._stamp(ds, ctx)
        self.store.put(ds)
        return self.render_data_source(ds)

    def query(self, ds_id: str, body: dict[str, Any], filter_props: list[str] | None) -> dict[str, Any]:
        """Filter, sort and page rows; never more than 10,000 results along one cursor chain."""
        ds = self._data_source(ds_id)
        page_size = page_size_of(body.get("page_size"), "body.page_size")
        schema = ds["properties"]
        predicate = compile_filter(body["filter"], schema, self.now()) if body.get("filter") is not None else None
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
            if needle in self._title_of(obj).lower():
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


def page_size_of(raw: Any, path: str) -> int:
    if raw is None:
        return 100
    if isinstance(raw, str) and raw.isdigit():
        raw = int(raw)
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise body_error(path, "should be a number", raw)
    if raw < 1:
        raise body_error(path, "should be ≥ `1`", raw)
    if raw > 100:
        raise body_error(path, "should be ≤ `100`", raw)
    return raw


def cursor_index(items: list[dict[str, Any]], cursor: Any) -> int:
    """Cursors are the id of the first item of the next page, as in Notion's block lists."""
    if cursor is None:
        return 0
    cid = as_uuid(cursor)
    for i, item in enumerate(items):
        if item["id"] == cid:
            return i
    raise validation(f"start_cursor provided is invalid: {cursor}")


def list_response(results: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return {"object": "list", "results": results, "next_cursor": None, "has_more": False, "type": kind, kind: {}}


__all__ = ["Ctx", "NotionError", "Workspace", "check_array", "cursor_index", "list_response", "page_size_of"]

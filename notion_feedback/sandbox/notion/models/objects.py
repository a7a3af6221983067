"""What every kind of Notion object leans on: users, lookups by id, parents, edit stamps, rich text and icons.

``Objects`` wraps the store with the rules pages, databases, blocks, comments and views share. The components
(``content``, ``views``) and the workspace receive it, plus ``Files`` where they attach or render uploads;
nothing here knows about the components.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from notion_feedback.sandbox.notion.common import Ctx, body_id, hex_id, iso, new_id, plain_text, rich_text, text_rt
from notion_feedback.sandbox.notion.exceptions import body_error, not_found, validation
from notion_feedback.sandbox.notion.models.blocks import BlockContext
from notion_feedback.sandbox.notion.models.files import Files
from notion_feedback.sandbox.notion.models.store import Store

TITLE_SCHEMA = {"title": {"id": "title", "name": "title", "type": "title", "config": {}}}


class Objects:
    """The store plus the shared rules; one per workspace."""

    def __init__(
        self, store: Store, clock: Callable[[], datetime], files: Files, workspace_name: str = "Sandbox workspace"
    ) -> None:
        self.store = store
        self._clock = clock
        self.files = files
        self.workspace_name = workspace_name

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
                    "workspace_limits": {"max_file_upload_size_in_bytes": self.files.max_file_size},
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

    def stamp(self, obj: dict[str, Any], ctx: Ctx, created: bool = False) -> None:
        now = iso(self.now())
        obj["edited"], obj["edited_by"] = now, ctx.actor
        if created:
            obj["created"], obj["created_by"] = now, ctx.actor

    def mention(self, mention: dict[str, Any], path: str) -> tuple[str, str | None, dict[str, Any]]:
        kind = mention.get("type") or next(iter(mention), None)
        if kind == "user":
            uid = body_id((mention.get("user") or {}).get("id"), f"{path}.user.id")
            user = self.user(uid) if self.known_user(uid) else {"object": "user", "id": uid}
            return "@" + user.get("name", "Unknown"), None, {"type": "user", "user": user}
        if kind in ("page", "database"):
            oid = body_id((mention.get(kind) or {}).get("id"), f"{path}.{kind}.id")
            obj = self.store.get(oid)
            title = self.title_of(obj) if obj else "Untitled"
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
        return rich_text(raw, path, self.mention)

    def block_ctx(self) -> BlockContext:
        return BlockContext(mentions=self.mention, icon=self.icon, media=self.media)

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
            ref = self.files.attach_upload((raw.get("file_upload") or {}).get("id"), f"{path}.file_upload")
            ref.pop("_name", None)
            return ref
        if kind == "custom_emoji":
            return {"type": "custom_emoji", "custom_emoji": raw.get("custom_emoji")}
        raise body_error(path, "should be an emoji, external or file_upload object", raw)

    def media(self, body: dict[str, Any], path: str) -> dict[str, Any]:
        kind = body.get("type") or next((k for k in ("external", "file_upload", "file") if k in body), None)
        btype = path.rsplit(".", 1)[-1]
        if kind == "external":
            url = (body.get("external") or {}).get("url")
            if not isinstance(url, str) or len(url) > 2000:
                raise body_error(f"{path}.external.url", "should be a URL of at most 2000 characters", url)
            out: dict[str, Any] = {"type": "external", "external": {"url": url}}
        elif kind == "file_upload":
            out = self.files.attach_upload((body.get("file_upload") or {}).get("id"), f"{path}.file_upload", btype)
            name = out.pop("_name")
            if btype in ("file", "pdf"):
                out["name"] = body.get("name") or name
        else:
            raise body_error(f"{path}.type", "should be `external` or `file_upload`", kind)
        if "name" in body and btype in ("file", "pdf"):
            out["name"] = body["name"]
        return out

    def title_of(self, obj: dict[str, Any]) -> str:
        if obj["kind"] == "page":
            return plain_text(self.title_rt(obj))
        return plain_text(obj.get("title"))

    def title_rt(self, page: dict[str, Any]) -> list[dict[str, Any]]:
        schema = self.schema_of(page)
        tid = next((pid for pid, p in schema.items() if p["type"] == "title"), "title")
        return page["props"].get(tid) or []

    def schema_of(self, page: dict[str, Any]) -> dict[str, dict[str, Any]]:
        ds = self.store.get(page["data_source_id"]) if page.get("data_source_id") else None
        return ds["properties"] if ds else TITLE_SCHEMA

    def page(self, page_id: str) -> dict[str, Any]:
        page = self.store.get(page_id, "page")
        if page is None:
            raise not_found("page", page_id)
        return page

    def container(self, object_id: str) -> dict[str, Any]:
        """A page or block that can hold children."""
        obj = self.store.get(object_id, ("page", "block"))
        if obj is None:
            raise not_found("block", object_id)
        return obj

    def parent(self, raw: Any, allowed: tuple[str, ...]) -> dict[str, Any]:
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
            self.container(pid)
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

    def link_child(self, parent: dict[str, Any], child_id: str) -> None:
        key = parent.get("type")
        if key in ("page_id", "block_id"):
            container = self.store.get(parent[key])
            if container is not None:
                container.setdefault("children", []).append(child_id)
                self.store.touch(container)

    def unlink_child(self, parent: dict[str, Any], child_id: str) -> None:
        key = parent.get("type")
        if key in ("page_id", "block_id"):
            container = self.store.get(parent[key])
            if container is not None and child_id in container.get("children", []):
                container["children"].remove(child_id)
                self.store.touch(container)

    def files_value(self, raw: dict[str, Any], path: str) -> dict[str, Any]:
        kind = raw.get("type") or next((k for k in ("external", "file_upload") if k in raw), None)
        if kind == "external":
            return {"type": "external", "external": {"url": (raw.get("external") or {}).get("url")}}
        if kind == "file_upload":
            return self.files.attach_upload((raw.get("file_upload") or {}).get("id"), f"{path}.file_upload")
        raise body_error(f"{path}.type", "should be `external` or `file_upload`", kind)

    def database_of(self, ds_id: str) -> str | None:
        ds = self.store.get(ds_id, "data_source")
        return ds["database_id"] if ds else None

    def database(self, db_id: str) -> dict[str, Any]:
        db = self.store.get(db_id, "database")
        if db is None:
            raise not_found("database", db_id)
        return db

    def data_source(self, ds_id: str) -> dict[str, Any]:
        ds = self.store.get(ds_id, "data_source")
        if ds is None:
            raise not_found("data_source", ds_id)
        return ds

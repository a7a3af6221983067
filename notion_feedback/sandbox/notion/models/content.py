"""Page content: blocks (append, list, retrieve, update, delete), comments and the markdown endpoints.

Pages and databases nested in a page show up among its children as ``child_page`` / ``child_database``
blocks, and ``DELETE /v1/blocks/{id}`` trashes pages and databases too, exactly as the recordings show.
"""

from __future__ import annotations

from typing import Any

from notion_feedback.sandbox.notion.common import (
    Ctx,
    body_id,
    cursor_index,
    fmt_minute,
    list_response,
    new_id,
    plain_text,
)
from notion_feedback.sandbox.notion.constants import MAX_ARRAY, NEW_VERSION
from notion_feedback.sandbox.notion.exceptions import body_error, not_found, validation
from notion_feedback.sandbox.notion.models import markdown as md_edits
from notion_feedback.sandbox.notion.models.blocks import (
    BlockDraft,
    block_type,
    content,
    drafts,
    markdown_of,
    parse_markdown,
)
from notion_feedback.sandbox.notion.models.files import Files
from notion_feedback.sandbox.notion.models.objects import Objects

_ARCHIVED_EDIT = "Can't edit block that is archived. You must unarchive the block before editing."


class Content:
    """Block, markdown and comment endpoints, over the shared ``Objects`` and ``Files``."""

    def __init__(self, objects: Objects, files: Files) -> None:
        self.objects = objects
        self.store = objects.store
        self.files = files

    # -- blocks ---------------------------------------------------------------------------------------------
    def _live_children(self, container: dict[str, Any]) -> list[dict[str, Any]]:
        out = []
        for cid in container.get("children", []):
            obj = self.store.get(cid)
            if obj is not None and not obj["in_trash"]:
                out.append(obj)
        return out

    def insert_blocks(
        self, parent: dict[str, Any], tree: list[BlockDraft], after: str | None, ctx: Ctx
    ) -> list[dict[str, Any]]:
        """Store drafted blocks under ``parent`` (a page or block) after block ``after`` (None: at the end)."""
        created = []
        for node in tree:
            ptype = "page_id" if parent["kind"] == "page" else "block_id"
            block = {
                "kind": "block",
                "id": new_id(),
                "parent": {"type": ptype, ptype: parent["id"]},
                "type": node.type,
                "data": node.content,
                "children": [],
                "in_trash": False,
            }
            self.objects.stamp(block, ctx, created=True)
            self.store.put(block)
            self.insert_blocks(block, node.children, None, ctx)
            created.append(block)
        kids = parent.setdefault("children", [])
        at = len(kids) if after is None else 0 if after == "__start__" else kids.index(after) + 1
        kids[at:at] = [b["id"] for b in created]
        self.store.touch(parent)
        return created

    def render_block(self, obj: dict[str, Any]) -> dict[str, Any]:
        has_children = bool(self._live_children(obj)) if obj["kind"] in ("page", "block") else False
        if obj["kind"] == "block":
            btype, data, parent = obj["type"], self._render_content(obj), obj["parent"]
        elif obj["kind"] == "page":
            btype, data, parent = "child_page", {"title": self.objects.title_of(obj)}, obj["parent"]
        else:
            btype, data, parent = "child_database", {"title": plain_text(obj["title"])}, obj["parent"]
        return {
            "object": "block",
            "id": obj["id"],
            "parent": parent,
            "created_time": fmt_minute(obj["created"]),
            "last_edited_time": fmt_minute(obj["edited"]),
            "created_by": self.objects.user(obj["created_by"], partial=True),
            "last_edited_by": self.objects.user(obj["edited_by"], partial=True),
            "has_children": has_children,
            "in_trash": obj["in_trash"],
            "type": btype,
            btype: data,
            "archived": obj["in_trash"],
        }

    def _render_content(self, block: dict[str, Any]) -> dict[str, Any]:
        data = dict(block["data"])
        if data.get("type") == "file" and "upload_id" in data:
            rendered = self.files.render_file_ref(data)
            data = {"caption": data.get("caption", []), **{k: v for k, v in rendered.items() if k != "caption"}}
        if isinstance(data.get("icon"), dict):
            data["icon"] = self.files.render_file_ref(data["icon"])
        return data

    def _block_like(self, block_id: str) -> dict[str, Any]:
        obj = self.store.get(block_id, ("block", "page", "database"))
        if obj is None:
            raise not_found("block", block_id)
        return obj

    def append_children(self, block_id: str, body: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        parent = self.objects.container(block_id)
        if parent["in_trash"]:
            raise validation(_ARCHIVED_EDIT)
        if parent["kind"] == "block" and parent["type"] in (
            "divider",
            "code",
            "image",
            "bookmark",
            "equation",
            "table_row",
            "file",
            "pdf",
            "video",
            "audio",
        ):
            raise validation(f"Block type {parent['type']} does not support children.")
        if "children" not in body:
            raise body_error("body.children", "should be defined", None)
        after = self._position(parent, body, ctx)
        tree = drafts(body["children"], "body.children", self.objects.block_ctx())
        created = self.insert_blocks(parent, tree, after, ctx)
        if parent["kind"] == "page":
            self.objects.stamp(parent, ctx)
        return list_response([self.render_block(b) for b in created], "block")

    def _position(self, parent: dict[str, Any], body: dict[str, Any], ctx: Ctx) -> str | None:
        """``after`` (2025-09-03) or ``position`` (start / end / after_block) -> id to insert after."""
        if "after" in body and body["after"] is not None:
            if ctx.version == NEW_VERSION:
                raise body_error("body.after", "should be not present", body["after"])
            target = body_id(body["after"], "body.after")
        elif body.get("position") is not None:
            pos = body["position"]
            kind = pos.get("type") if isinstance(pos, dict) else None
            if kind == "end":
                return None
            if kind == "start":
                kids = parent.get("children", [])
                # insert before the first child: remember "after nothing" as a sentinel
                return "__start__" if kids else None
            if kind != "after_block":
                raise body_error("body.position.type", "should be `start`, `end` or `after_block`", kind)
            target = body_id((pos.get("after_block") or {}).get("id"), "body.position.after_block.id")
        else:
            return None
        if target not in parent.get("children", []):
            raise validation(f"Could not find block with ID: {target} among the children of {parent['id']}.")
        return target

    def list_children(self, block_id: str, cursor: str | None, page_size: int) -> dict[str, Any]:
        parent = self.objects.container(block_id)
        kids = self._live_children(parent)
        start = cursor_index(kids, cursor)
        out = list_response([self.render_block(b) for b in kids[start : start + page_size]], "block")
        if start + page_size < len(kids):
            out["next_cursor"], out["has_more"] = kids[start + page_size]["id"], True
        return out

    def retrieve_block(self, block_id: str) -> dict[str, Any]:
        return self.render_block(self._block_like(block_id))

    def update_block(self, block_id: str, body: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        obj = self._block_like(block_id)
        trash = body.get("in_trash", body.get("archived"))
        if trash is not None and not isinstance(trash, bool):
            raise body_error("body.in_trash", "should be a boolean", trash)
        edits = {k for k in body if k not in ("in_trash", "archived")}
        if obj["in_trash"] and edits and trash is not False:
            raise validation(_ARCHIVED_EDIT)
        if edits:
            if obj["kind"] != "block":
                raise validation("Page and database blocks can only be updated through their own endpoints.")
            btype = block_type({k: v for k, v in body.items() if k not in ("in_trash", "archived")}, "body")
            if btype != obj["type"]:
                raise validation(f"Block type {btype} does not match existing block type {obj['type']}.")
            obj["data"] = content(btype, body[btype], "body", self.objects.block_ctx(), old=obj["data"])
        if trash is not None:
            obj["in_trash"] = trash
        self.objects.stamp(obj, ctx)
        self.store.put(obj)
        return self.render_block(obj)

    def delete_block(self, block_id: str, ctx: Ctx) -> dict[str, Any]:
        obj = self._block_like(block_id)
        obj["in_trash"] = True
        self.objects.stamp(obj, ctx)
        self.store.put(obj)
        return self.render_block(obj)

    # -- markdown ----------------------------------------------------------------------------------------------
    def page_markdown(self, page_id: str) -> dict[str, Any]:
        page = self.objects.page(page_id)
        lines, unknown, number = [], [], 0
        for block in self._live_children(page):
            if block["kind"] != "block":
                if block["kind"] == "page":
                    lines.append(md_edits.child_tag("page", block["id"], self.objects.title_of(block)))
                else:
                    lines.append(md_edits.child_tag("database", block["id"], plain_text(block["title"])))
                continue
            number = number + 1 if block["type"] == "numbered_list_item" else 0
            text = plain_text(block["data"].get("rich_text"))
            md = markdown_of(block["type"], block["data"], text, number)
            if md is None:
                unknown.append(block["id"])
            else:
                lines.append(md)
        return {
            "object": "page_markdown",
            "id": page["id"],
            "markdown": "\n".join(lines),
            "truncated": False,
            "unknown_block_ids": unknown,
        }

    def update_markdown(self, page_id: str, body: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        """``PATCH …/markdown``: every ``UpdatePageMarkdownBodyParameters`` edit; answers the page's markdown."""
        page = self.objects.page(page_id)
        if page["in_trash"]:
            raise validation(_ARCHIVED_EDIT)
        edit = md_edits.parse_edit(body)
        if edit.appends:
            content_md = edit.spec["content"]
            tree = self.markdown_drafts(content_md, f"body.{edit.type}.content")
            at_start = (edit.spec.get("position") or {}).get("type") == "start" and page.get("children")
            self.insert_blocks(page, tree, "__start__" if at_start else None, ctx)
        else:
            before = self.page_markdown(page_id)["markdown"]
            after = md_edits.apply(edit, before)
            dropped = md_edits.check_deletions(edit, before, after)
            self._rebuild(page, after, dropped, f"body.{edit.type}", ctx)
        self.objects.stamp(page, ctx)
        self.store.put(page)
        return self.page_markdown(page_id)

    def markdown_drafts(self, md: str, path: str) -> list[BlockDraft]:
        """Markdown -> validated drafts. The 100-item limit is for ``children`` arrays, not markdown (a page of
        any length can be edited), so the blocks are validated in chunks of that size."""
        blocks, ctx = parse_markdown(md), self.objects.block_ctx()
        return [d for i in range(0, len(blocks), MAX_ARRAY) for d in drafts(blocks[i : i + MAX_ARRAY], path, ctx)]

    def _rebuild(self, page: dict[str, Any], md: str, dropped: list[str], path: str, ctx: Ctx) -> None:
        """Replace a page's blocks by ``md``: child pages/databases it names stay (in their new place), the
        ``dropped`` ones go to the trash, and blocks markdown cannot show (``unknown_block_ids``) stay last.
        Everything is validated before anything changes, so a refused edit leaves the page as it was."""
        live = self._live_children(page)
        keep = {c["id"] for c in live if c["kind"] != "block"} - set(dropped)
        unknown_ids = set(self.page_markdown(page["id"])["unknown_block_ids"])
        unknown = [c["id"] for c in live if c["id"] in unknown_ids]
        pieces: list[str | list[BlockDraft]] = []  # a kept child's id, or the blocks of the text before it
        text: list[str] = []
        for line in [*md.split("\n"), None]:
            tagged = md_edits.tagged_ids(line) if line is not None else []
            if line is not None and not (tagged and tagged[0] in keep):
                text.append(line)
                continue
            if text:
                pieces.append(self.markdown_drafts("\n".join(text), path))
                text = []
            if tagged and tagged[0] not in pieces:
                pieces.append(tagged[0])
        for c in live:
            if (c["kind"] == "block" and c["id"] not in unknown) or c["id"] in dropped:
                c["in_trash"] = True
                self.objects.stamp(c, ctx)
                self.store.put(c)
        page["children"] = [cid for cid in page.get("children", []) if cid not in keep and cid not in unknown]
        for piece in pieces:
            if isinstance(piece, str):
                page["children"].append(piece)
            else:
                self.insert_blocks(page, piece, None, ctx)
        page["children"].extend(unknown)

    # -- comments ------------------------------------------------------------------------------------------------
    def render_comment(self, c: dict[str, Any]) -> dict[str, Any]:
        return {
            "object": "comment",
            "id": c["id"],
            "parent": c["parent"],
            "discussion_id": c["discussion_id"],
            "created_time": fmt_minute(c["created"]),
            "last_edited_time": fmt_minute(c["edited"]),
            "created_by": self.objects.user(c["created_by"], partial=True),
            "rich_text": c["rich_text"],
            "display_name": c["display_name"],
        }

    def create_comment(self, body: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        text = self._comment_text(body)
        if body.get("discussion_id") is not None:
            discussion = body_id(body["discussion_id"], "body.discussion_id")
            first = next((c for c in self.store.of_kind("comment") if c["discussion_id"] == discussion), None)
            if first is None:
                raise not_found("discussion", discussion)
            parent = first["parent"]
        else:
            raw = body.get("parent")
            if not isinstance(raw, dict):
                raise body_error("body.parent", "should be defined", raw)
            kind = raw.get("type") or ("page_id" if "page_id" in raw else "block_id")
            target = body_id(raw.get(kind), f"body.parent.{kind}")
            self._block_like(target) if kind == "block_id" else self.objects.page(target)
            parent, discussion = {"type": kind, kind: target}, new_id()
        bot = ctx.actor == self.store.meta["bot_id"]
        display = body.get("display_name") or {}
        comment = {
            "kind": "comment",
            "id": new_id(),
            "parent": parent,
            "discussion_id": discussion,
            "rich_text": text,
            "display_name": {
                "type": display.get("type", "integration" if bot else "user"),
                "resolved_name": (display.get("custom") or {}).get("name")
                or ("Sandbox integration" if bot else "Sam Rater"),
            },
        }
        self.objects.stamp(comment, ctx, created=True)
        self.store.put(comment)
        return self.render_comment(comment)

    def _comment_text(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """A comment's text from ``rich_text`` or ``markdown`` (exactly one, as the SDK's body types allow)."""
        if ("rich_text" in body) == ("markdown" in body):
            raise validation(
                "body failed validation: exactly one of body.rich_text or body.markdown should be defined."
            )
        if "markdown" in body:
            if not isinstance(body["markdown"], str):
                raise body_error("body.markdown", "should be a string", body["markdown"])
            return self.objects.rt([{"text": {"content": body["markdown"]}}], "body.markdown")
        return self.objects.rt(body["rich_text"], "body.rich_text")

    def _comment(self, comment_id: str) -> dict[str, Any]:
        c = self.store.get(comment_id, "comment")
        if c is None or c.get("deleted"):
            raise not_found("comment", comment_id)
        return c

    def update_comment(self, comment_id: str, body: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        """``PATCH /v1/comments/{id}`` (``UpdateCommentParameters``): new text, same discussion and author."""
        c = self._comment(comment_id)
        c["rich_text"] = self._comment_text(body)
        self.objects.stamp(c, ctx)
        self.store.put(c)
        return self.render_comment(c)

    def delete_comment(self, comment_id: str, ctx: Ctx) -> dict[str, Any]:
        """``DELETE /v1/comments/{id}``: answers the comment as it was; afterwards it is gone (404, unlisted)."""
        c = self._comment(comment_id)
        c["deleted"] = True
        self.store.put(c)
        return self.render_comment(c)

    def list_comments(self, block_id: str, cursor: str | None, page_size: int) -> dict[str, Any]:
        self._block_like(block_id)
        found = [
            c
            for c in sorted(self.store.of_kind("comment"), key=lambda c: c["seq"])
            if not c.get("deleted") and block_id in (c["parent"].get("page_id"), c["parent"].get("block_id"))
        ]
        start = cursor_index(found, cursor)
        out = list_response([self.render_comment(c) for c in found[start : start + page_size]], "comment")
        if start + page_size < len(found):
            out["next_cursor"], out["has_more"] = found[start + page_size]["id"], True
        return out

    def retrieve_comment(self, comment_id: str) -> dict[str, Any]:
        return self.render_comment(self._comment(comment_id))

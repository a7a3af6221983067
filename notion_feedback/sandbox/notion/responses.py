"""HTTP layer of the Notion emulator: routing, auth, Notion-Version, body parsing and error bodies.

Checks run in the order a client can observe on the real API: unknown URL -> 400 ``invalid_request_url``,
bad token -> 401 ``unauthorized``, missing version -> 400 ``missing_version``, then path and body validation.
Workspace calls are synchronous and run on the thread pool under the store lock.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from notion_feedback.sandbox.control import DISCONNECT_HANDLERS
from notion_feedback.sandbox.notion.common import (
    Ctx,
    cursor_index,
    list_response,
    page_size_of,
    path_id,
    strip_archived,
)
from notion_feedback.sandbox.notion.constants import MAX_BODY, SUPPORTED_VERSIONS
from notion_feedback.sandbox.notion.exceptions import (
    REQUEST_ID_HEADER,
    NotionError,
    error_body,
    request_id,
    validation,
)
from notion_feedback.sandbox.notion.models.workspace import Workspace
from notion_feedback.sandbox.notion.urls import match

log = logging.getLogger(__name__)
MAX_UPLOAD_BODY = 25 * 1000 * 1000


def json_response(status: int, body: dict[str, Any]) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False).encode(),
        status_code=status,
        media_type="application/json; charset=utf-8",
        headers={REQUEST_ID_HEADER: request_id()},
    )


def error_response(err: NotionError) -> Response:
    return Response(
        error_body(err.status, err.code, err.message),
        status_code=err.status,
        media_type="application/json; charset=utf-8",
        headers={REQUEST_ID_HEADER: request_id()},
    )


class NotionResponses:
    """Translates HTTP requests into Workspace calls: one method per row of ``urls.ROUTES``."""

    def __init__(self, workspace: Workspace, token: str) -> None:
        self.ws = workspace
        self.token = token

    def app(self, extra_routes: list[Route] | None = None) -> Starlette:
        """The API plus ``extra_routes`` (the sandbox admin routes under ``/_sandbox``)."""
        return Starlette(
            routes=[
                *(extra_routes or []),
                Route("/v1/{rest:path}", self.handle, methods=["GET", "POST", "PATCH", "DELETE", "PUT"]),
                Route("/_files/{upload_id}/{filename:path}", self.serve_file, methods=["GET", "HEAD"]),
            ],
            exception_handlers=DISCONNECT_HANDLERS,
        )

    async def serve_file(self, request: Request) -> Response:
        """Where block ``file.url`` points: the uploaded bytes, with their content type."""
        found = self.ws.files.read_file(request.path_params["upload_id"])
        if found is None:
            return Response(b"Not Found", status_code=404, media_type="text/plain")
        data, content_type = found
        return Response(data, media_type=content_type)

    async def handle(self, request: Request) -> Response:
        try:
            routed = match(request.method, request.url.path)
            if routed is None:
                raise NotionError(400, "invalid_request_url", "Invalid request URL.")
            op, params = routed
            auth = request.headers.get("authorization", "")
            if auth != f"Bearer {self.token}":
                raise NotionError(401, "unauthorized", "API token is invalid.")
            version = request.headers.get("notion-version")
            if not version:
                raise NotionError(
                    400,
                    "missing_version",
                    "Notion-Version header failed validation: Notion-Version "
                    "header should be defined, instead was `undefined`.",
                )
            if version not in SUPPORTED_VERSIONS:
                raise validation(
                    f"Notion-Version header failed validation: Notion-Version header should be one of "
                    f"{', '.join(SUPPORTED_VERSIONS)}, instead was `{version}`."
                )
            actor = self.ws.person_id if request.headers.get("x-sandbox-actor") == "person" else self.ws.bot_id
            ctx = Ctx(version=version, actor=actor)
            if op == "file_uploads_send":
                body: Any = await self._form(request)
            else:
                body = await self._json(request)
            result = await run_in_threadpool(self._run, op, params, request, body, ctx)
        except NotionError as err:
            return error_response(err)
        except ClientDisconnect:
            raise  # the client is gone: nothing to answer (the app's handler counts it)
        except Exception:  # an emulator bug must look like a Notion 500, not a dropped connection
            log.exception("notion emulator failed on %s %s", request.method, request.url.path)
            return error_response(NotionError(500, "internal_server_error", "Unexpected error occurred."))
        result["request_id"] = request_id()
        if version == "2026-03-11":
            strip_archived(result)
        return json_response(200, result)

    async def _json(self, request: Request) -> dict[str, Any]:
        raw = await request.body()
        if len(raw) > MAX_BODY:
            raise validation(f"Request body too large: {len(raw)} bytes exceeds the limit of {MAX_BODY} bytes.")
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise NotionError(400, "invalid_json", "Error parsing JSON body.") from None
        if not isinstance(body, dict):
            raise validation("body failed validation: body should be an object.")
        return body

    async def _form(self, request: Request) -> dict[str, Any]:
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            raise validation("The request must be multipart/form-data with a `file` field.")
        if int(request.headers.get("content-length") or 0) > MAX_UPLOAD_BODY:
            raise validation("Request body too large for a single part: the limit is 20 MB.")
        form = await request.form(max_part_size=MAX_UPLOAD_BODY)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise validation("body failed validation: body.file should be defined, instead was `undefined`.")
        data = await upload.read()
        return {"data": data, "filename": upload.filename, "part_number": form.get("part_number")}

    def _run(self, op: str, params: dict[str, str], request: Request, body: Any, ctx: Ctx) -> dict[str, Any]:
        ws = self.ws
        with ws.store.lock:
            result = getattr(self, op)(Call(params, request.query_params, body, ctx))
            ws.store.flush()  # a read can change state too (an external_url import finishing)
        return result

    # -- users ----------------------------------------------------------------------------------------------
    def users_me(self, c: Call) -> dict[str, Any]:
        return self.ws.objects.user(self.ws.bot_id)

    def users_list(self, c: Call) -> dict[str, Any]:
        users, size = self.ws.objects.users(), c.page_size()
        start = cursor_index(users, c.cursor())
        out = list_response(users[start : start + size], "user")
        if start + size < len(users):
            out["next_cursor"], out["has_more"] = users[start + size]["id"], True
        return out

    def users_retrieve(self, c: Call) -> dict[str, Any]:
        return self.ws.objects.user(c.id("user_id"))

    # -- databases and data sources ------------------------------------------------------------------------
    def databases_create(self, c: Call) -> dict[str, Any]:
        return self.ws.create_database(c.body, c.ctx)

    def databases_retrieve(self, c: Call) -> dict[str, Any]:
        return self.ws.retrieve_database(c.id("database_id"))

    def databases_update(self, c: Call) -> dict[str, Any]:
        return self.ws.update_database(c.id("database_id"), c.body, c.ctx)

    def data_sources_create(self, c: Call) -> dict[str, Any]:
        return self.ws.create_data_source(c.body, c.ctx)

    def data_sources_retrieve(self, c: Call) -> dict[str, Any]:
        return self.ws.retrieve_data_source(c.id("data_source_id"))

    def data_sources_update(self, c: Call) -> dict[str, Any]:
        return self.ws.update_data_source(c.id("data_source_id"), c.body, c.ctx)

    def data_sources_query(self, c: Call) -> dict[str, Any]:
        return self.ws.query(c.id("data_source_id"), c.body, c.filter_props())

    def data_sources_templates(self, c: Call) -> dict[str, Any]:
        """``ListDataSourceTemplatesResponse``: the emulator models no templates, so the list is always empty."""
        self.ws.objects.data_source(c.id("data_source_id"))
        c.page_size()
        if c.cursor() is not None:
            raise validation(f"start_cursor provided is invalid: {c.cursor()}")
        return {"templates": [], "has_more": False, "next_cursor": None}

    # -- pages -----------------------------------------------------------------------------------------------
    def pages_create(self, c: Call) -> dict[str, Any]:
        return self.ws.create_page(c.body, c.ctx)

    def pages_retrieve(self, c: Call) -> dict[str, Any]:
        return self.ws.retrieve_page(c.id("page_id"), c.filter_props())

    def pages_update(self, c: Call) -> dict[str, Any]:
        return self.ws.update_page(c.id("page_id"), c.body, c.ctx)

    def pages_property(self, c: Call) -> dict[str, Any]:
        return self.ws.page_property(c.id("page_id"), c.params["property_id"], c.cursor(), c.page_size())

    def pages_markdown(self, c: Call) -> dict[str, Any]:
        raw = c.query.get("include_transcript")
        if raw not in (None, "true", "false"):
            raise validation(
                f'query failed validation: query.include_transcript should be a boolean, instead was `"{raw}"`.'
            )
        return self.ws.content.page_markdown(c.id("page_id"))

    def pages_update_markdown(self, c: Call) -> dict[str, Any]:
        return self.ws.content.update_markdown(c.id("page_id"), c.body, c.ctx)

    def pages_move(self, c: Call) -> dict[str, Any]:
        return self.ws.move_page(c.id("page_id"), c.body, c.ctx)

    # -- blocks ----------------------------------------------------------------------------------------------
    def blocks_children_list(self, c: Call) -> dict[str, Any]:
        return self.ws.content.list_children(c.id("block_id"), c.cursor(), c.page_size())

    def blocks_children_append(self, c: Call) -> dict[str, Any]:
        return self.ws.content.append_children(c.id("block_id"), c.body, c.ctx)

    def blocks_retrieve(self, c: Call) -> dict[str, Any]:
        return self.ws.content.retrieve_block(c.id("block_id"))

    def blocks_update(self, c: Call) -> dict[str, Any]:
        return self.ws.content.update_block(c.id("block_id"), c.body, c.ctx)

    def blocks_delete(self, c: Call) -> dict[str, Any]:
        return self.ws.content.delete_block(c.id("block_id"), c.ctx)

    # -- file uploads ----------------------------------------------------------------------------------------
    def file_uploads_create(self, c: Call) -> dict[str, Any]:
        actor_type = "person" if c.ctx.actor == self.ws.person_id else "bot"
        return self.ws.files.create_upload(c.body, c.ctx.actor, actor_type)

    def file_uploads_list(self, c: Call) -> dict[str, Any]:
        size, files = c.page_size(), self.ws.files
        uploads = files.list_uploads(c.query.get("status"))
        return paged(uploads, cursor_index(uploads, c.cursor()), size, "file_upload", files.render_upload)

    def file_uploads_retrieve(self, c: Call) -> dict[str, Any]:
        files = self.ws.files
        return files.render_upload(files.upload(c.id("file_upload_id")))

    def file_uploads_send(self, c: Call) -> dict[str, Any]:
        body = c.body
        return self.ws.files.send_upload(c.id("file_upload_id"), body["data"], body["filename"], body["part_number"])

    def file_uploads_complete(self, c: Call) -> dict[str, Any]:
        return self.ws.files.complete_upload(c.id("file_upload_id"))

    # -- comments and search ---------------------------------------------------------------------------------
    def comments_create(self, c: Call) -> dict[str, Any]:
        return self.ws.content.create_comment(c.body, c.ctx)

    def comments_list(self, c: Call) -> dict[str, Any]:
        block_id = c.query.get("block_id")
        if block_id is None:
            raise validation("query failed validation: query.block_id should be defined, instead was `undefined`.")
        return self.ws.content.list_comments(path_id(block_id, "block_id"), c.cursor(), c.page_size())

    def comments_retrieve(self, c: Call) -> dict[str, Any]:
        return self.ws.content.retrieve_comment(c.id("comment_id"))

    def comments_update(self, c: Call) -> dict[str, Any]:
        return self.ws.content.update_comment(c.id("comment_id"), c.body, c.ctx)

    def comments_delete(self, c: Call) -> dict[str, Any]:
        return self.ws.content.delete_comment(c.id("comment_id"), c.ctx)

    def search(self, c: Call) -> dict[str, Any]:
        return self.ws.search(c.body)

    # -- views -----------------------------------------------------------------------------------------------
    def views_create(self, c: Call) -> dict[str, Any]:
        return self.ws.views.create_view(c.body, c.ctx)

    def views_list(self, c: Call) -> dict[str, Any]:
        db, ds = c.query.get("database_id"), c.query.get("data_source_id")
        views = self.ws.views.list_views(
            path_id(db, "database_id") if db else None, path_id(ds, "data_source_id") if ds else None
        )
        return paged(views, cursor_index(views, c.cursor()), c.page_size(), "view")

    def views_retrieve(self, c: Call) -> dict[str, Any]:
        return self.ws.views.retrieve_view(c.id("view_id"))

    def views_update(self, c: Call) -> dict[str, Any]:
        return self.ws.views.update_view(c.id("view_id"), c.body, c.ctx)

    def views_delete(self, c: Call) -> dict[str, Any]:
        return self.ws.views.delete_view(c.id("view_id"))


@dataclass
class Call:
    """One routed request as a handler sees it: path parameters, query, parsed body, and who acts."""

    params: dict[str, str]
    query: Any
    body: Any
    ctx: Ctx

    def id(self, name: str) -> str:
        return path_id(self.params[name], name)

    def page_size(self) -> int:
        return page_size_of(self.query.get("page_size"), "query.page_size")

    def cursor(self) -> str | None:
        return self.query.get("start_cursor")

    def filter_props(self) -> list[str] | None:
        values = self.query.getlist("filter_properties") + self.query.getlist("filter_properties[]")
        return values or None


def paged(
    items: list[dict[str, Any]], start: int, size: int, kind: str, render: Callable[[Any], Any] | None = None
) -> dict[str, Any]:
    """One page of a list (each item through ``render``), with the next page's cursor when there is one."""
    chunk = items[start : start + size]
    out = list_response([render(i) for i in chunk] if render else chunk, kind)
    if start + size < len(items):
        out["next_cursor"], out["has_more"] = items[start + size]["id"], True
    return out

"""HTTP layer of the Notion emulator: routing, auth, Notion-Version, body parsing and error bodies.

Checks run in the order a client can observe on the real API: unknown URL -> 400 ``invalid_request_url``,
bad token -> 401 ``unauthorized``, missing version -> 400 ``missing_version``, then path and body validation.
Workspace calls are synchronous and run on the thread pool under the store lock.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from notion_feedback.sandbox.notion.common import (
    SUPPORTED_VERSIONS,
    Ctx,
    NotionError,
    cursor_index,
    error_body,
    list_response,
    new_id,
    page_size_of,
    path_id,
    strip_archived,
    validation,
)
from notion_feedback.sandbox.notion.models.workspace import Workspace

log = logging.getLogger(__name__)
MAX_BODY = 500 * 1024
MAX_UPLOAD_BODY = 25 * 1000 * 1000
Handler = Callable[..., Any]

_ID = r"(?P<{}>[^/]+)"


def _route(method: str, pattern: str) -> tuple[str, re.Pattern[str], list[str]]:
    names = re.findall(r"\{(\w+)\}", pattern)
    regex = "^" + re.sub(r"\{(\w+)\}", lambda m: _ID.format(m.group(1)), pattern) + "/?$"
    return method, re.compile(regex), names


# (method, path pattern) -> workspace operation name; path params are named after Notion's own.
ROUTES = [
    ("GET", "/v1/users/me", "users_me"),
    ("GET", "/v1/users", "users_list"),
    ("GET", "/v1/users/{user_id}", "users_retrieve"),
    ("POST", "/v1/databases", "databases_create"),
    ("GET", "/v1/databases/{database_id}", "databases_retrieve"),
    ("PATCH", "/v1/databases/{database_id}", "databases_update"),
    ("POST", "/v1/data_sources", "data_sources_create"),
    ("GET", "/v1/data_sources/{data_source_id}", "data_sources_retrieve"),
    ("PATCH", "/v1/data_sources/{data_source_id}", "data_sources_update"),
    ("POST", "/v1/data_sources/{data_source_id}/query", "data_sources_query"),
    ("POST", "/v1/pages", "pages_create"),
    ("GET", "/v1/pages/{page_id}", "pages_retrieve"),
    ("PATCH", "/v1/pages/{page_id}", "pages_update"),
    ("GET", "/v1/pages/{page_id}/properties/{property_id}", "pages_property"),
    ("GET", "/v1/pages/{page_id}/markdown", "pages_markdown"),
    ("PATCH", "/v1/pages/{page_id}/markdown", "pages_update_markdown"),
    ("POST", "/v1/pages/{page_id}/move", "pages_move"),
    ("GET", "/v1/blocks/{block_id}/children", "blocks_children_list"),
    ("PATCH", "/v1/blocks/{block_id}/children", "blocks_children_append"),
    ("GET", "/v1/blocks/{block_id}", "blocks_retrieve"),
    ("PATCH", "/v1/blocks/{block_id}", "blocks_update"),
    ("DELETE", "/v1/blocks/{block_id}", "blocks_delete"),
    ("POST", "/v1/file_uploads", "file_uploads_create"),
    ("GET", "/v1/file_uploads", "file_uploads_list"),
    ("GET", "/v1/file_uploads/{file_upload_id}", "file_uploads_retrieve"),
    ("POST", "/v1/file_uploads/{file_upload_id}/send", "file_uploads_send"),
    ("POST", "/v1/file_uploads/{file_upload_id}/complete", "file_uploads_complete"),
    ("POST", "/v1/comments", "comments_create"),
    ("GET", "/v1/comments", "comments_list"),
    ("GET", "/v1/comments/{comment_id}", "comments_retrieve"),
    ("POST", "/v1/search", "search"),
    ("POST", "/v1/views", "views_create"),
    ("GET", "/v1/views", "views_list"),
    ("GET", "/v1/views/{view_id}", "views_retrieve"),
    ("PATCH", "/v1/views/{view_id}", "views_update"),
    ("DELETE", "/v1/views/{view_id}", "views_delete"),
]
_COMPILED = [(_route(m, p), op) for m, p, op in ROUTES]


def match(method: str, path: str) -> tuple[str, dict[str, str]] | None:
    for (m, regex, _names), op in _COMPILED:
        if m == method and (found := regex.match(path)):
            return op, found.groupdict()
    return None


def json_response(status: int, body: dict[str, Any]) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False).encode(), status_code=status, media_type="application/json; charset=utf-8"
    )


def error_response(err: NotionError) -> Response:
    return Response(
        error_body(err.status, err.code, err.message),
        status_code=err.status,
        media_type="application/json; charset=utf-8",
    )


class NotionRoutes:
    """Translates HTTP requests into Workspace calls."""

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
            ]
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
        except Exception:  # an emulator bug must look like a Notion 500, not a dropped connection
            log.exception("notion emulator failed on %s %s", request.method, request.url.path)
            return error_response(NotionError(500, "internal_server_error", "Unexpected error occurred."))
        result["request_id"] = new_id()
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
            result = self._dispatch(op, params, request.query_params, body, ctx)
            if request.method != "GET":
                ws.store.flush()
        return result

    def _dispatch(self, op: str, p: dict[str, str], q: Any, body: Any, ctx: Ctx) -> dict[str, Any]:
        ws = self.ws

        def pid(name: str) -> str:
            return path_id(p[name], name)

        def size() -> int:
            return page_size_of(q.get("page_size"), "query.page_size")

        def filter_props() -> list[str] | None:
            values = q.getlist("filter_properties") + q.getlist("filter_properties[]")
            return values or None

        if op == "users_me":
            return ws.o.user(ws.bot_id)
        if op == "users_list":
            users = ws.o.users()
            return list_response(users, "user")
        if op == "users_retrieve":
            return ws.o.user(pid("user_id"))
        if op == "databases_create":
            return ws.create_database(body, ctx)
        if op == "databases_retrieve":
            return ws.retrieve_database(pid("database_id"))
        if op == "databases_update":
            return ws.update_database(pid("database_id"), body, ctx)
        if op == "data_sources_create":
            return ws.create_data_source(body, ctx)
        if op == "data_sources_retrieve":
            return ws.retrieve_data_source(pid("data_source_id"))
        if op == "data_sources_update":
            return ws.update_data_source(pid("data_source_id"), body, ctx)
        if op == "data_sources_query":
            return ws.query(pid("data_source_id"), body, filter_props())
        if op == "pages_create":
            return ws.create_page(body, ctx)
        if op == "pages_retrieve":
            return ws.retrieve_page(pid("page_id"), filter_props())
        if op == "pages_update":
            return ws.update_page(pid("page_id"), body, ctx)
        if op == "pages_property":
            return ws.page_property(pid("page_id"), p["property_id"], q.get("start_cursor"), size())
        if op == "pages_markdown":
            return ws.content.page_markdown(pid("page_id"))
        if op == "pages_update_markdown":
            return ws.content.update_markdown(pid("page_id"), body, ctx)
        if op == "pages_move":
            return ws.move_page(pid("page_id"), body, ctx)
        if op == "blocks_children_list":
            return ws.content.list_children(pid("block_id"), q.get("start_cursor"), size())
        if op == "blocks_children_append":
            return ws.content.append_children(pid("block_id"), body, ctx)
        if op == "blocks_retrieve":
            return ws.content.retrieve_block(pid("block_id"))
        if op == "blocks_update":
            return ws.content.update_block(pid("block_id"), body, ctx)
        if op == "blocks_delete":
            return ws.content.delete_block(pid("block_id"), ctx)
        if op.startswith("file_uploads_"):
            return self._uploads(op, p, q, body, ctx)
        if op == "comments_create":
            return ws.content.create_comment(body, ctx)
        if op == "comments_list":
            block_id = q.get("block_id")
            if block_id is None:
                raise validation("query failed validation: query.block_id should be defined, instead was `undefined`.")
            return ws.content.list_comments(path_id(block_id, "block_id"), q.get("start_cursor"), size())
        if op == "comments_retrieve":
            return ws.content.retrieve_comment(pid("comment_id"))
        if op == "search":
            return ws.search(body)
        if op.startswith("views_"):
            return self._views(op, p, q, body, ctx)
        raise NotionError(400, "invalid_request_url", "Invalid request URL.")

    def _uploads(self, op: str, p: dict[str, str], q: Any, body: Any, ctx: Ctx) -> dict[str, Any]:
        ws = self.ws
        if op == "file_uploads_create":
            actor_type = "person" if ctx.actor == ws.person_id else "bot"
            return ws.files.create_upload(body, ctx.actor, actor_type)
        if op == "file_uploads_list":
            size = page_size_of(q.get("page_size"), "query.page_size")
            return self._list_uploads(q.get("status"), q.get("start_cursor"), size)
        upload_id = path_id(p["file_upload_id"], "file_upload_id")
        if op == "file_uploads_retrieve":
            return ws.files.render_upload(ws.files.upload(upload_id))
        if op == "file_uploads_send":
            return ws.files.send_upload(upload_id, body["data"], body["filename"], body["part_number"])
        return ws.files.complete_upload(upload_id)

    def _views(self, op: str, p: dict[str, str], q: Any, body: Any, ctx: Ctx) -> dict[str, Any]:
        ws = self.ws
        if op == "views_create":
            return ws.views.create_view(body, ctx)
        if op == "views_list":
            db, ds = q.get("database_id"), q.get("data_source_id")
            views = ws.views.list_views(
                path_id(db, "database_id") if db else None, path_id(ds, "data_source_id") if ds else None
            )
            start, size = (
                cursor_index(views, q.get("start_cursor")),
                page_size_of(q.get("page_size"), "query.page_size"),
            )
            out = list_response(views[start : start + size], "view")
            if start + size < len(views):
                out["next_cursor"], out["has_more"] = views[start + size]["id"], True
            return out
        view_id = path_id(p["view_id"], "view_id")
        if op == "views_retrieve":
            return ws.views.retrieve_view(view_id)
        if op == "views_update":
            return ws.views.update_view(view_id, body, ctx)
        return ws.views.delete_view(view_id)

    def _list_uploads(self, status: str | None, cursor: str | None, page_size: int) -> dict[str, Any]:
        uploads = self.ws.files.list_uploads(status)
        start = cursor_index(uploads, cursor)
        out = list_response([self.ws.files.render_upload(u) for u in uploads[start : start + page_size]], "file_upload")
        if start + page_size < len(uploads):
            out["next_cursor"], out["has_more"] = uploads[start + page_size]["id"], True
        return out

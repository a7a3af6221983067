"""The workspace viewer: the emulated Notion workspace in a browser, and a person's way to edit a row.

It reads and writes only through the emulator's public ``/v1`` API, called in-process on the emulator's own
ASGI app (the same calls any client makes, never to an address a request could name), with the sandbox token
and ``X-Sandbox-Bypass: 1`` so looking around never shows up in request statistics, injected faults or rate
limits. Edits are sent with ``X-Sandbox-Actor: person``: to the emulator
(and so to the product's sync) they look like a workspace member's, exactly as a rating made in Notion would.
Nothing here knows the product's schema: any select is a dropdown, any text property an input.

The person's browser also visits other sites, so (see ``web_guard`` and docs/security.md): every form carries a
per-session CSRF token and a POST from another origin is refused; only http, https and mailto links become
links; ``next`` only leads back into the viewer; pages may not be framed and run no inline script.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpx
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from notion_feedback.sandbox.viewer.format import format_number, number_format
from notion_feedback.sandbox.viewer.runs import RUN_PATH, RunNotFound, run_context, run_link
from notion_feedback.sandbox.web_guard import CsrfTokens, cross_origin

NOTION_VERSION = "2025-09-03"
PAGE_SIZE = 50
NEWEST_FIRST = [{"timestamp": "created_time", "direction": "descending"}]  # a data source without a view
MAX_DEPTH = 4  # nesting rendered below a page (Notion pages rarely go deeper; reports use 2)
STATIC = Path(__file__).parent / "static"
EDITABLE_TYPES = ("select", "rich_text", "number", "checkbox")
LINK_SCHEMES = ("http://", "https://", "mailto:")  # anything else (javascript:, data:, ...) is shown as text
_C0_AND_SPACE = "".join(chr(c) for c in range(0x21))  # what a browser strips from both ends of a URL
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        b"frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    # Not "no-referrer": under it a browser sends "Origin: null" with the viewer's own form posts, which the
    # same-origin check must then refuse. "same-origin" still sends nothing to other sites.
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]

_env = Environment(loader=FileSystemLoader(STATIC), autoescape=select_autoescape(["html", "j2"]))


class ApiError(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("message", f"HTTP {status}"))
        self.status = status
        self.code = body.get("code", "")


class Api:
    """The emulator's own HTTP API, as the viewer uses it: one client per request, in-process on its ASGI app."""

    def __init__(self, notion_asgi: Any, token: str) -> None:
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=notion_asgi),
            base_url="http://notion.sandbox.invalid",
            timeout=30,
            headers={
                "Authorization": f"Bearer {token}",
                "Notion-Version": NOTION_VERSION,
                "X-Sandbox-Bypass": "1",
            },
        )

    async def __aenter__(self) -> Api:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()

    async def call(self, method: str, path: str, body: dict[str, Any] | None = None, **headers: str) -> Any:
        response = await self.client.request(method, path, json=body, headers=headers)
        data = response.json()
        if response.status_code >= 400:
            raise ApiError(response.status_code, data)
        return data

    async def children(self, block_id: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        cursor = None
        while True:
            query = f"?page_size=100{'&start_cursor=' + quote(cursor) if cursor else ''}"
            data = await self.call("GET", f"/v1/blocks/{block_id}/children{query}")
            out += data["results"]
            if not data.get("has_more"):
                return out
            cursor = data["next_cursor"]


# -- rendering of rich text, property values and blocks ---------------------------------------------------


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def safe_href(url: Any) -> str | None:
    """The URL if a browser would open it as an http, https or mailto link, else None (show it as text).

    Browsers drop leading and trailing controls and spaces, and tabs and newlines anywhere, before reading the
    scheme (``java<TAB>script:`` runs); the check reads the URL the same way and returns that cleaned form.
    """
    if not isinstance(url, str):
        return None
    cleaned = "".join(ch for ch in url.strip(_C0_AND_SPACE) if ch not in "\t\n\r")
    return cleaned if cleaned.lower().startswith(LINK_SCHEMES) else None


def link(url: Any, inner: str, attrs: str = ' rel="noreferrer"') -> str:
    """``inner`` (already HTML) as a link to ``url`` when that is a safe link, else ``inner`` alone."""
    href = safe_href(url)
    return f'<a href="{_e(href)}"{attrs}>{inner}</a>' if href else inner


def rich(runs: list[dict[str, Any]] | None) -> str:
    """Rich text runs -> HTML, with their annotations, colours and links."""
    parts = []
    for run in runs or []:
        text = _e(run.get("plain_text", run.get("text", {}).get("content", ""))).replace("\n", "<br>")
        ann = run.get("annotations") or {}
        for flag, tag in (
            ("code", "code"),
            ("bold", "strong"),
            ("italic", "em"),
            ("strikethrough", "s"),
            ("underline", "u"),
        ):
            if ann.get(flag):
                text = f"<{tag}>{text}</{tag}>"
        color = ann.get("color", "default")
        if color and color != "default":
            css = f"bg-{color}" if color.endswith("_background") else f"c-{color}"
            text = f'<span class="{_e(css)}">{text}</span>'
        href = run.get("href") or ((run.get("text") or {}).get("link") or {}).get("url")
        parts.append(link(href, text) if href else text)
    return "".join(parts)


def plain(runs: list[dict[str, Any]] | None) -> str:
    return "".join(r.get("plain_text", "") for r in runs or [])


def chip(option: dict[str, Any] | None) -> str:
    if not option:
        return ""
    return f'<span class="chip bg-{_e(option.get("color", "default"))}">{_e(option.get("name", ""))}</span>'


def value_html(prop: dict[str, Any], page_link: str | None = None, column: dict[str, Any] | None = None) -> str:
    """One property value, read-only, the way Notion shows it in a table cell (``column``: its schema entry)."""
    kind = prop.get("type", "")
    value = prop.get(kind)
    if kind == "title":
        text = rich(value) or '<span class="muted">Untitled</span>'
        return f'<a class="title" href="{_e(page_link)}">{text}</a>' if page_link else text
    if kind == "rich_text":
        return rich(value)
    if kind in ("select", "status"):
        return chip(value)
    if kind == "multi_select":
        return " ".join(chip(o) for o in value or [])
    if kind == "number":
        return _e(format_number(value, number_format(column)))
    if kind == "checkbox":
        return "☑" if value else "☐"
    if kind == "date":
        if not value:
            return ""
        start, end = value.get("start", ""), value.get("end")
        return _e(start.replace("T", " ")[:16]) + (f" → {_e(end.replace('T', ' ')[:16])}" if end else "")
    if kind in ("url", "email", "phone_number"):
        if not value:
            return ""
        if kind == "phone_number":
            return _e(value)
        return link(value if kind == "url" else f"mailto:{value}", _e(value))
    if kind in ("created_time", "last_edited_time"):
        return _e((value or "").replace("T", " ")[:16])
    if kind in ("created_by", "last_edited_by"):
        return _e((value or {}).get("name") or (value or {}).get("id", "")[:8])
    if kind == "people":
        return _e(", ".join(p.get("name") or p.get("id", "")[:8] for p in value or []))
    if kind == "files":
        return " ".join(link(_file_url(f), _e(f.get("name", "file")), "") for f in value or [])
    if kind == "relation":
        return _e(f"{len(value or [])} linked")
    if kind == "formula":
        inner = value or {}
        return _e(inner.get(inner.get("type", ""), ""))
    if kind == "unique_id":
        return _e(f"{(value or {}).get('prefix') or ''}{(value or {}).get('number', '')}")
    return _e(value if value is not None else "")


def _file_url(obj: dict[str, Any]) -> str:
    return (obj.get("file") or obj.get("external") or {}).get("url", "")


class BlockRenderer:
    """Blocks -> HTML, children fetched through the API (only where ``has_children``)."""

    def __init__(self, api: Api, link: Any) -> None:
        self.api = api
        self.link = link  # page id -> viewer URL

    async def render(self, blocks: list[dict[str, Any]], depth: int = 0) -> str:
        out: list[str] = []
        open_list: str | None = None
        for block in blocks:
            kind = block.get("type", "")
            list_tag = {"bulleted_list_item": "ul", "numbered_list_item": "ol"}.get(kind)
            if list_tag != open_list:
                if open_list:
                    out.append(f"</{open_list}>")
                if list_tag:
                    out.append(f"<{list_tag}>")
                open_list = list_tag
            out.append(await self.block(block, depth))
        if open_list:
            out.append(f"</{open_list}>")
        return "\n".join(out)

    async def kids(self, block: dict[str, Any], depth: int) -> str:
        if not block.get("has_children") or depth >= MAX_DEPTH:
            return ""
        return await self.render(await self.api.children(block["id"]), depth + 1)

    async def block(self, block: dict[str, Any], depth: int) -> str:
        kind = block.get("type", "")
        data = block.get(kind) or {}
        text = rich(data.get("rich_text"))
        if kind == "paragraph":
            return f"<p>{text or '&nbsp;'}</p>{await self.kids(block, depth)}"
        if kind in ("heading_1", "heading_2", "heading_3"):
            level = int(kind[-1]) + 1  # the page title is the h1
            heading = f"<h{level}>{text}</h{level}>"
            if data.get("is_toggleable"):
                return f"<details open><summary>{heading}</summary>{await self.kids(block, depth)}</details>"
            return heading
        if kind in ("bulleted_list_item", "numbered_list_item"):
            return f"<li>{text}{await self.kids(block, depth)}</li>"
        if kind == "to_do":
            mark = "☑" if data.get("checked") else "☐"
            return f'<div class="todo">{mark} {text}</div>{await self.kids(block, depth)}'
        if kind == "toggle":
            return f'<details class="toggle"><summary>{text}</summary>{await self.kids(block, depth)}</details>'
        if kind == "quote":
            return f"<blockquote>{text}{await self.kids(block, depth)}</blockquote>"
        if kind == "callout":
            icon = (data.get("icon") or {}).get("emoji", "💡")
            color = _e(data.get("color", "default"))
            return (
                f'<div class="callout bg-{color}"><span class="icon">{_e(icon)}</span>'
                f"<div>{text}{await self.kids(block, depth)}</div></div>"
            )
        if kind == "divider":
            return "<hr>"
        if kind == "code":
            return (
                f'<pre><code data-lang="{_e(data.get("language", ""))}">{_e(plain(data.get("rich_text")))}</code></pre>'
            )
        if kind == "equation":
            return f'<div class="equation">{_e(data.get("expression", ""))}</div>'
        if kind in ("image", "file", "pdf", "video", "audio"):
            url, caption = _file_url(data), rich(data.get("caption"))
            if kind == "image":
                alt = _e(plain(data.get("caption")) or "image")
                src = safe_href(url)
                img = f'<img src="{_e(src)}" alt="{alt}">' if src and not src.startswith("mailto:") else alt
                return f"<figure>{img}{f'<figcaption>{caption}</figcaption>' if caption else ''}</figure>"
            return f'<p class="file">📎 {link(url, caption or _e(data.get("name") or kind), "")}</p>'
        if kind in ("bookmark", "embed", "link_preview"):
            url = data.get("url", "")
            return f'<p class="bookmark">🔗 {link(url, _e(url))}</p>'
        if kind == "table":
            rows = await self.api.children(block["id"]) if block.get("has_children") else []
            header = data.get("has_column_header")
            body = []
            for i, row in enumerate(rows):
                tag = "th" if header and i == 0 else "td"
                cells = "".join(
                    f"<{tag}>{rich(cell)}</{tag}>" for cell in (row.get("table_row") or {}).get("cells", [])
                )
                body.append(f"<tr>{cells}</tr>")
            return f'<table class="simple">{"".join(body)}</table>'
        if kind == "column_list":
            columns = await self.api.children(block["id"]) if block.get("has_children") else []
            inner = [f'<div class="column">{await self.kids(col, depth + 1)}</div>' for col in columns]
            return f'<div class="columns">{"".join(inner)}</div>'
        if kind == "column":
            return f'<div class="column">{await self.kids(block, depth)}</div>'
        if kind == "child_page":
            href, name = _e(self.link(block["id"])), _e(data.get("title", "Untitled"))
            return f'<p class="child">📄 <a href="{href}">{name}</a></p>'
        if kind == "child_database":
            return f'<p class="child">🗂 {_e(data.get("title", "Untitled database"))}</p>'
        if kind == "table_of_contents":
            return ""
        return f'<p class="muted">[{_e(kind)} block]</p>'


# -- pages of the viewer ------------------------------------------------------------------------------------


def _title_of(obj: dict[str, Any]) -> str:
    if obj.get("object") == "data_source" or "title" in obj and isinstance(obj.get("title"), list):
        return plain(obj.get("title")) or "Untitled"
    for prop in (obj.get("properties") or {}).values():
        if prop.get("type") == "title":
            return plain(prop.get("title")) or "Untitled"
    return "Untitled"


async def _first_view(api: Api, ds_id: str) -> dict[str, Any] | None:
    """The first view (tab) of the database showing this data source, or None when it has none."""
    listed = await api.call("GET", f"/v1/views?{urlencode({'data_source_id': ds_id, 'page_size': 1})}")
    refs = listed.get("results") or []
    return await api.call("GET", f"/v1/views/{refs[0]['id']}") if refs else None


def _ordered_schema(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """Title first, then the properties in the order the data source lists them."""
    props = [dict(p, name=name) for name, p in schema.items()]
    return sorted(props, key=lambda p: p.get("type") != "title")


class Viewer:
    def __init__(self, notion_asgi: Any, token: str, smith: Callable[[], Any] | None = None) -> None:
        self.notion_asgi = notion_asgi
        self.token = token
        self.smith = smith or (lambda: None)  # the LangSmith emulator, when the sandbox runs one
        self.csrf = CsrfTokens()

    def _api(self, request: Request) -> Api:
        return Api(self.notion_asgi, self.token)

    @staticmethod
    def _root(request: Request) -> str:
        return request.scope.get("root_path", "").rstrip("/")

    @staticmethod
    def _cookie(request: Request) -> str:
        """One cookie per sandbox: cookies ignore ports, and two sandboxes on one machine keep their own."""
        return f"nf_viewer_{request.url.port or 0}"

    def _render(self, request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        root = self._root(request)
        session = request.cookies.get(self._cookie(request)) or ""
        fresh = not session
        session = session or self.csrf.new_session()
        context |= {"root": root, "page_link": lambda pid: f"{root}/page/{pid}", "csrf": self.csrf.token(session)}
        response = HTMLResponse(_env.get_template(template).render(**context), status_code=status)
        if fresh:
            response.set_cookie(
                self._cookie(request), session, path=f"{root}/", httponly=True, samesite="strict", secure=False
            )
        return response

    def _refuse(self, request: Request, why: str) -> HTMLResponse:
        page = _env.get_template("error.html.j2").render(
            title="Refused", root=self._root(request), status=403, code="forbidden", message=why
        )
        return HTMLResponse(page, status_code=403)

    async def _guard(self, request: Request) -> tuple[Any, HTMLResponse | None]:
        """The form of a state-changing request, or why it is refused (another origin, no valid CSRF token)."""
        why = cross_origin(request.headers)
        if why:
            return None, self._refuse(request, f"{why}; open the viewer itself and edit there")
        form = await request.form()
        token = form.get("csrf")
        if not self.csrf.valid(request.cookies.get(self._cookie(request)), token if isinstance(token, str) else None):
            return None, self._refuse(request, "this form has expired or did not come from the viewer: reload the page")
        return form, None

    async def home(self, request: Request) -> Response:
        async with self._api(request) as api:
            sources = await api.call(
                "POST", "/v1/search", {"filter": {"property": "object", "value": "data_source"}, "page_size": 100}
            )
            pages = await api.call(
                "POST", "/v1/search", {"filter": {"property": "object", "value": "page"}, "page_size": 100}
            )
        loose = [p for p in pages["results"] if (p.get("parent") or {}).get("type") != "data_source_id"]
        return self._render(
            request,
            "home.html.j2",
            title="Workspace",
            sources=[{"id": s["id"], "title": _title_of(s)} for s in sources["results"]],
            pages=[{"id": p["id"], "title": _title_of(p), "edited": p.get("last_edited_time", "")} for p in loose],
        )

    async def data_source(self, request: Request) -> Response:
        ds_id = request.path_params["ds_id"]
        cursor = request.query_params.get("cursor")
        async with self._api(request) as api:
            source = await api.call("GET", f"/v1/data_sources/{ds_id}")
            view = await _first_view(api, ds_id)
            body: dict[str, Any] = {"page_size": PAGE_SIZE, "sorts": NEWEST_FIRST}
            if view:  # as Notion opens a database: its first view's sorts and filter
                body |= {"sorts": view.get("sorts") or NEWEST_FIRST, "filter": view.get("filter")}
            if cursor:
                body["start_cursor"] = cursor
            rows = await api.call("POST", f"/v1/data_sources/{ds_id}/query", {k: v for k, v in body.items() if v})
        root = self._root(request)
        columns = _ordered_schema(source.get("properties") or {})
        table = []
        for row in rows["results"]:
            cells = []
            for col in columns:
                prop = (row.get("properties") or {}).get(col["name"], {"type": col["type"]})
                editable = col["type"] == "select"
                cells.append(
                    {
                        "name": col["name"],
                        "type": col["type"],
                        "html": Markup(value_html(prop, f"{root}/page/{row['id']}", col)),
                        "editable": editable,
                        "current": ((prop.get("select") or {}).get("name", "")) if editable else "",
                        "shown": fingerprint((prop.get("select") or {}).get("name", "")) if editable else "",
                        "options": (col.get("select") or {}).get("options", []) if editable else [],
                    }
                )
            table.append({"id": row["id"], "cells": cells})
        next_link = None
        if rows.get("has_more") and rows.get("next_cursor"):
            next_link = f"{root}/ds/{ds_id}?{urlencode({'cursor': rows['next_cursor']})}"
        return self._render(
            request,
            "table.html.j2",
            title=_title_of(source),
            ds_id=ds_id,
            view_name=(view or {}).get("name"),
            columns=columns,
            rows=table,
            next_link=next_link,
            first_link=f"{root}/ds/{ds_id}" if cursor else None,
            back=str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
        )

    async def page(self, request: Request) -> Response:
        page_id = request.path_params["page_id"]
        root = self._root(request)
        async with self._api(request) as api:
            page = await api.call("GET", f"/v1/pages/{page_id}")
            parent = page.get("parent") or {}
            schema: dict[str, Any] = {}
            parent_link = parent_title = None
            if parent.get("type") == "data_source_id":
                source = await api.call("GET", f"/v1/data_sources/{parent['data_source_id']}")
                schema = source.get("properties") or {}
                parent_link, parent_title = f"{root}/ds/{source['id']}", _title_of(source)
            elif parent.get("type") == "page_id":
                parent_link, parent_title = f"{root}/page/{parent['page_id']}", "Parent page"
            renderer = BlockRenderer(api, lambda pid: f"{root}/page/{pid}")
            content = await renderer.render(await api.children(page_id))
        props = []
        if schema:
            for col in _ordered_schema(schema):
                prop = (page.get("properties") or {}).get(col["name"], {"type": col["type"]})
                if col["type"] == "title":
                    continue
                kind = col["type"]
                props.append(
                    {
                        "name": col["name"],
                        "type": kind,
                        "html": Markup(value_html(prop, column=col)),
                        "editable": kind in EDITABLE_TYPES,
                        "current": _form_value(prop),
                        "shown": fingerprint(_form_value(prop)),
                        "options": (col.get("select") or {}).get("options", []),
                    }
                )
        return self._render(
            request,
            "page.html.j2",
            title=_title_of(page),
            page=page,
            props=props,
            content=Markup(content),
            parent_link=parent_link,
            parent_title=parent_title,
            saved=request.query_params.get("saved"),
            back=str(request.url.path),
        )

    async def run(self, request: Request) -> Response:
        """A LangSmith run as the app's run page shows it: where the rows' Trace links lead on the sandbox."""
        tenant, project = request.path_params["tenant"], request.path_params["project"]
        link = run_link(self._root(request), tenant, project)
        try:
            context = await run_context(self.smith(), tenant, project, request.path_params["run_id"], link)
        except RunNotFound as exc:
            page = _env.get_template("error.html.j2").render(
                title="Not found", root=self._root(request), status=404, code="not_found", message=str(exc)
            )
            return HTMLResponse(page, status_code=404)
        return self._render(request, "run.html.j2", **context)

    async def edit(self, request: Request) -> Response:
        """A person's edit: only the properties the person changed are sent, as Notion's UI would."""
        page_id = request.path_params["page_id"]
        form, refused = await self._guard(request)
        if refused:
            return refused
        async with self._api(request) as api:
            page = await api.call("GET", f"/v1/pages/{page_id}")
            changes = _changes(form, page.get("properties") or {})
            if changes:
                await api.call(
                    "PATCH", f"/v1/pages/{page_id}", {"properties": changes}, **{"X-Sandbox-Actor": "person"}
                )
        back = safe_next(form.get("next"), self._root(request)) or f"{self._root(request)}/page/{page_id}"
        sep = "&" if "?" in back else "?"
        return RedirectResponse(f"{back}{sep}saved={len(changes)}", status_code=303)


def safe_next(value: Any, root: str) -> str | None:
    """``value`` if it is a path of the viewer itself (one leading ``/``, no scheme, ``//`` or backslash), else None."""
    if not isinstance(value, str) or not value.startswith(f"{root}/") or "//" in value:
        return None
    if "\\" in value or any(ord(ch) < 0x21 for ch in value):
        return None
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else None


def _normal(text: str) -> str:
    """A form value as the person meant it: browsers send a textarea's line breaks as CRLF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def fingerprint(value: str) -> str:
    """What the form shows of a value it rendered (``orig:NAME``), to tell later what the person changed."""
    return hashlib.sha256(_normal(value).encode()).hexdigest()[:24]


def _changes(form: Any, current: dict[str, Any]) -> dict[str, Any]:
    """The properties the person changed: the value sent differs from the one the form showed and from now."""
    changes: dict[str, Any] = {}
    for name, prop in current.items():
        kind = prop.get("type", "")
        if kind not in EDITABLE_TYPES:
            continue
        if kind == "checkbox" and f"checkbox:{name}" in form:
            raw = "on" if f"prop:{name}" in form else ""
        elif f"prop:{name}" in form:
            raw = _normal(str(form[f"prop:{name}"]))
        else:
            continue
        shown = form.get(f"orig:{name}")
        if isinstance(shown, str) and fingerprint(raw) == shown:
            continue  # the person left it as the form showed it (it may have changed since: that change stays)
        if raw != _normal(_form_value(prop)):
            changes[name] = _property_value(kind, raw)
    return changes


def _form_value(prop: dict[str, Any]) -> str:
    kind = prop.get("type", "")
    value = prop.get(kind)
    if kind == "select":
        return (value or {}).get("name", "")
    if kind == "rich_text":
        return plain(value)
    if kind == "number":
        if value is None:
            return ""
        return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    if kind == "checkbox":
        return "on" if value else ""
    return ""


def _property_value(kind: str, raw: str) -> dict[str, Any]:
    """A form value -> the property payload of ``PATCH /v1/pages/{id}``."""
    if kind == "select":
        return {"select": {"name": raw} if raw else None}
    if kind == "rich_text":
        runs = [raw[i : i + 2000] for i in range(0, len(raw), 2000)][:100]
        return {"rich_text": [{"type": "text", "text": {"content": run}} for run in runs]}
    if kind == "number":
        try:
            return {"number": float(raw) if raw.strip() else None}
        except ValueError:
            raise ValueError(f"{raw!r} is not a number") from None
    if kind == "checkbox":
        return {"checkbox": raw == "on"}
    raise ValueError(f"cannot edit a {kind} property here")


async def _errors(request: Request, exc: Exception) -> Response:
    status = exc.status if isinstance(exc, ApiError) else 400 if isinstance(exc, ValueError) else 502
    code = exc.code if isinstance(exc, ApiError) else exc.__class__.__name__
    page = _env.get_template("error.html.j2").render(
        title="Error", root=request.scope.get("root_path", "").rstrip("/"), status=status, code=code, message=str(exc)
    )
    return HTMLResponse(page, status_code=502 if status >= 500 else status)


class SecurityHeaders:
    """ASGI middleware: every viewer response may not be framed, sniffed or run inline script (CSP)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        async def with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                message = dict(message, headers=[*message.get("headers", []), *SECURITY_HEADERS])
            await send(message)

        await self.app(scope, receive, with_headers if scope["type"] == "http" else send)


def viewer_app(notion_asgi: Any, token: str, smith: Callable[[], Any] | None = None) -> Any:
    """The viewer as an ASGI app (mounted at ``/_viewer`` on the Notion emulator's server); ``smith`` gives the
    LangSmith emulator whose run pages it shows."""
    viewer = Viewer(notion_asgi, token, smith)
    app = Starlette(
        routes=[
            Route("/", viewer.home),
            Route("/ds/{ds_id}", viewer.data_source),
            Route("/page/{page_id}", viewer.page, methods=["GET"]),
            Route("/page/{page_id}", viewer.edit, methods=["POST"]),
            Route(RUN_PATH, viewer.run, methods=["GET"]),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        exception_handlers={ApiError: _errors, ValueError: _errors, httpx.HTTPError: _errors},
    )
    return SecurityHeaders(app)


def with_viewer(notion_asgi: Any, token: str, smith: Callable[[], Any] | None = None) -> Starlette:
    """The Notion emulator's app with the viewer beside it: ``/_viewer/...`` is the viewer, the rest the API."""
    return Starlette(routes=[Mount("/_viewer", viewer_app(notion_asgi, token, smith)), Mount("/", notion_asgi)])

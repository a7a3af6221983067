"""A record of every API exchange an emulator answers, for checking both sides against the official SDK types.

Recording is off by default and costs nothing then. Switched on (``control.exchanges.start()`` in-process, or
``POST /_sandbox/exchanges {"record": true}``), each request the control middleware sees is kept with what it
answered — method, path, query, request body, status, response headers and body — including the errors the
middleware itself produces (429s, injected faults). The contract suite replays the log through ``tsc --strict``
against ``@notionhq/client``'s parameter and object types (``tests/sdk_types``), so a shape the emulator invents,
or a request the product words differently from the SDK, fails CI.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import parse_qsl

MAX_EXCHANGES = 20_000
"""Kept at most (the oldest are dropped past it), so a log left on in a long demo cannot grow without end."""


@dataclass(frozen=True)
class Exchange:
    """One request and its answer, bodies as sent (bytes decoded as UTF-8, replacing what is not text)."""

    method: str
    path: str
    query: list[tuple[str, str]]
    request_content_type: str
    request_body: str
    status: int
    response_headers: dict[str, str]
    response_body: str

    def request_json(self) -> Any:
        """The request body parsed, ``{}`` for an empty one, None when it is not JSON (multipart uploads)."""
        return _parse(self.request_body, empty={})

    def response_json(self) -> Any:
        return _parse(self.response_body, empty=None)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _parse(text: str, empty: Any) -> Any:
    if not text.strip():
        return empty
    try:
        return json.loads(text)
    except ValueError:
        return None


class ExchangeLog:
    """The exchanges of one emulator while recording is on."""

    def __init__(self, limit: int = MAX_EXCHANGES) -> None:
        self.limit = limit
        self.recording = False
        self._items: list[Exchange] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        """Begin (or restart) recording with an empty log."""
        with self._lock:
            self._items = []
            self.recording = True

    def stop(self) -> list[Exchange]:
        """Stop recording; returns what was recorded."""
        with self._lock:
            self.recording = False
            return list(self._items)

    def items(self) -> list[Exchange]:
        with self._lock:
            return list(self._items)

    def add(self, exchange: Exchange) -> None:
        with self._lock:
            if not self.recording:
                return
            self._items.append(exchange)
            if len(self._items) > self.limit:
                del self._items[: len(self._items) - self.limit]

    async def tap(self, scope: dict, receive: Callable, send: Callable) -> tuple[Callable, Callable]:
        """``receive`` and ``send`` wrapped so that the request and its answer are added when the answer ends.

        The request body is read first, whole, and replayed to the app: an answer given before the app reads it
        (a wrong token, a 429, an injected fault) is still recorded with what was sent."""
        messages: list[dict] = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body"):
                break
        request_body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
        response: dict[str, Any] = {"chunks": []}

        async def replay() -> dict:
            return messages.pop(0) if messages else await receive()

        async def send_tapped(message: dict) -> None:
            if message["type"] == "http.response.start":
                response["status"] = message["status"]
                response["headers"] = {k.decode().lower(): v.decode() for k, v in message.get("headers", [])}
            elif message["type"] == "http.response.body":
                response["chunks"].append(message.get("body", b""))
                if not message.get("more_body"):
                    self.add(_exchange(scope, request_body, response))
            await send(message)

        return replay, send_tapped


def _exchange(scope: dict, raw: bytes, response: dict[str, Any]) -> Exchange:
    headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
    content_type = headers.get("content-type", "")
    return Exchange(
        method=scope["method"],
        path=scope["path"],
        query=parse_qsl(scope.get("query_string", b"").decode(), keep_blank_values=True),
        request_content_type=content_type,
        request_body=multipart_summary(raw)
        if content_type.startswith("multipart/")
        else raw.decode("utf-8", "replace"),
        status=int(response.get("status", 0)),
        response_headers=response.get("headers", {}),
        response_body=b"".join(response["chunks"]).decode("utf-8", "replace"),
    )


_PART = re.compile(rb'name="([^"]*)"(?:; filename="([^"]*)")?[^\r\n]*\r\n(?:[^\r\n]+\r\n)*\r\n')


def multipart_summary(raw: bytes) -> str:
    """A multipart form as JSON: text fields with their value, file fields as ``{"filename", "size"}``.

    A file's bytes say nothing about the request's shape, and kept whole they would make a log of chart uploads
    megabytes long."""
    fields: dict[str, Any] = {}
    for found in _PART.finditer(raw):
        name, filename = found.group(1).decode(), found.group(2)
        end = raw.find(b"\r\n--", found.end())
        value = raw[found.end() : end if end >= 0 else len(raw)]
        if filename is None:
            fields[name] = value.decode("utf-8", "replace")
        else:
            fields[name] = {"filename": filename.decode("utf-8", "replace"), "size": len(value)}
    return json.dumps(fields)

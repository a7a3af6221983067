"""Decoding of what tracing clients upload: ``POST /runs/multipart`` (the Python and JS SDKs' background
path), ``POST /runs/batch`` and single runs.

Multipart parts are named ``post.<id>`` / ``patch.<id>`` (the run minus its big fields), then
``<op>.<id>.inputs|outputs|events|extra|error|serialized`` (each field as its own JSON part),
``attachment.<id>.<name>`` (raw bytes) and ``feedback.<id>``. Bodies may be zstd- or gzip-compressed.
"""

from __future__ import annotations

import gzip
import io
import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from notion_feedback.sandbox.langsmith.exceptions import ApiError

RUN_SUBFIELDS = {"inputs", "outputs", "events", "extra", "error", "serialized"}
_DISPOSITION_NAME = re.compile(rb'name="([^"]*)"')


@dataclass
class Upload:
    posts: list[dict[str, Any]] = field(default_factory=list)
    patches: list[dict[str, Any]] = field(default_factory=list)
    feedback: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[tuple[str, str, str, bytes]] = field(default_factory=list)  # run id, name, type, data


def decode_body(raw: bytes, content_encoding: str | None) -> bytes:
    enc = (content_encoding or "").lower().strip()
    if enc == "zstd":
        import zstandard

        try:
            with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw)) as reader:
                return reader.read()
        except zstandard.ZstdError as exc:
            raise ApiError(400, f"Invalid zstd body: {exc}") from exc
    if enc == "gzip":
        try:
            return gzip.decompress(raw)
        except OSError as exc:
            raise ApiError(400, f"Invalid gzip body: {exc}") from exc
    if enc and enc != "identity":
        raise ApiError(415, f"Unsupported Content-Encoding {enc}")
    return raw


def _boundary(content_type: str) -> bytes:
    m = re.search(r'boundary="?([^";]+)"?', content_type or "")
    if not m:
        raise ApiError(422, "multipart body without boundary")
    return m.group(1).encode()


def iter_parts(body: bytes, content_type: str) -> list[tuple[str, str, bytes]]:
    """(name, content type, data) of each form-data part."""
    delim = b"--" + _boundary(content_type)
    out = []
    for chunk in body.split(delim)[1:]:
        if chunk.startswith(b"--"):
            break
        if chunk.startswith(b"\r\n"):
            chunk = chunk[2:]
        head, sep, data = chunk.partition(b"\r\n\r\n")
        if not sep:
            raise ApiError(422, "malformed multipart part")
        if data.endswith(b"\r\n"):
            data = data[:-2]
        name = ctype = ""
        for line in head.split(b"\r\n"):
            low = line.lower()
            if low.startswith(b"content-disposition"):
                m = _DISPOSITION_NAME.search(line)
                name = m.group(1).decode() if m else ""
            elif low.startswith(b"content-type"):
                ctype = line.split(b":", 1)[1].strip().decode()
        out.append((name, ctype, data))
    return out


def _json(data: bytes, what: str) -> Any:
    try:
        return orjson.loads(data) if data else None
    except orjson.JSONDecodeError as exc:
        raise ApiError(422, f"part {what} is not valid JSON") from exc


def parse_multipart(body: bytes, content_type: str) -> Upload:
    runs: dict[tuple[str, str], dict[str, Any]] = {}
    order: list[tuple[str, str]] = []
    up = Upload()
    for name, ctype, data in iter_parts(body, content_type):
        bits = name.split(".")
        kind = bits[0]
        if kind in ("post", "patch") and len(bits) in (2, 3):
            key = (kind, bits[1])
            if key not in runs:
                runs[key] = {"id": bits[1]}
                order.append(key)
            value = _json(data, name)
            if len(bits) == 2:
                if not isinstance(value, dict):
                    raise ApiError(422, f"part {name} must be a JSON object")
                runs[key].update(value)
            elif bits[2] in RUN_SUBFIELDS:
                runs[key][bits[2]] = value
            else:
                raise ApiError(422, f"unknown part {name}")
        elif kind == "attachment" and len(bits) >= 3:
            up.attachments.append((bits[1], ".".join(bits[2:]), ctype.split(";")[0].strip(), data))
        elif kind == "feedback" and len(bits) == 2:
            fb = _json(data, name)
            if isinstance(fb, dict):
                fb.setdefault("id", bits[1])
                up.feedback.append(fb)
        else:
            raise ApiError(422, f"unknown part {name}")
    for key in order:
        (up.posts if key[0] == "post" else up.patches).append(runs[key])
    return up


def parse_batch(body: Any) -> Upload:
    """``{"post": [...], "patch": [...]}``; also a bare list (creates), as some clients send."""
    if isinstance(body, list):
        return Upload(posts=body)
    if not isinstance(body, dict):
        raise ApiError(422, "batch body must be an object with post/patch lists")
    posts, patches = body.get("post") or [], body.get("patch") or []
    if not isinstance(posts, list) or not isinstance(patches, list):
        raise ApiError(422, "post and patch must be lists")
    return Upload(posts=posts, patches=patches)

"""File uploads: create -> send (multipart) -> [complete] -> attach by id, with Notion's limits and expiry.

Uploads are workspace-wide objects (listed newest first). An upload that is not attached within an hour of
creation turns ``expired`` (computed from the sandbox clock, so tests can move time instead of waiting).
Attached files are served back by the emulator itself at ``{base_url}/_files/{upload_id}/{filename}``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from notion_feedback.sandbox.notion.common import body_id, fmt_minute, iso, new_id, parse_iso
from notion_feedback.sandbox.notion.exceptions import body_error, not_found, validation
from notion_feedback.sandbox.notion.models.store import Store

SINGLE_PART_MAX = 20 * 1000 * 1000
MAX_PARTS = 1000
MAX_FILENAME_BYTES = 900
UPLOAD_TTL = timedelta(hours=1)


FREE_FILE_LIMIT = 5 * 1024 * 1024


class Files:
    """Upload endpoints and the file references other objects hold. ``base_url`` is set once the port is bound."""

    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.now = clock
        self.base_url = ""
        self.max_file_size = FREE_FILE_LIMIT

    def upload(self, upload_id: str) -> dict[str, Any]:
        up = self.store.get(upload_id, "file_upload")
        if up is None:
            raise not_found("file upload", upload_id)
        return self.settle(up)

    def settle(self, up: dict[str, Any]) -> dict[str, Any]:
        """Finish a pending ``external_url`` import. Notion answers the create call with ``pending`` and
        downloads in the background; here the download happens on the first later read of the upload
        (retrieve, list, attach), which then shows ``uploaded`` or ``failed`` with ``file_import_result``."""
        if up["mode"] == "external_url" and up["status"] == "pending" and up.get("import_url"):
            self._import(up, up.pop("import_url"))
            self.store.put(up)
        return up

    def upload_status(self, up: dict[str, Any]) -> str:
        if not up.get("attached") and up["status"] in ("pending", "uploaded") and self.now() >= parse_iso(up["expiry"]):
            return "expired"
        return up["status"]

    def render_upload(self, up: dict[str, Any]) -> dict[str, Any]:
        status = self.upload_status(up)
        out: dict[str, Any] = {
            "object": "file_upload",
            "id": up["id"],
            "created_time": fmt_minute(up["created"]),
            "created_by": {"id": up["created_by"], "type": up.get("created_by_type", "bot")},
            "last_edited_time": fmt_minute(up["edited"]),
            # Attached uploads lose their expiry; so do expired ones (as the recordings show).
            "expiry_time": None if up.get("attached") or status == "expired" else fmt_minute(up["expiry"]),
        }
        if status == "pending" and up["mode"] != "external_url":
            out["upload_url"] = f"{self.base_url}/v1/file_uploads/{up['id']}/send"
            if up["mode"] == "multi_part":
                out["complete_url"] = f"{self.base_url}/v1/file_uploads/{up['id']}/complete"
                out["number_of_parts"] = {"total": up["number_of_parts"], "sent": len(up.get("parts", {}))}
        out |= {
            "in_trash": False,
            "status": status,
            "filename": up["filename"],
            "content_type": up["content_type"],
            "content_length": up.get("content_length"),
        }
        if up.get("import_result") is not None:
            out["file_import_result"] = up["import_result"]
        out["archived"] = False
        return out

    def create_upload(self, body: dict[str, Any], actor: str, actor_type: str) -> dict[str, Any]:
        mode = body.get("mode", "single_part")
        if mode not in ("single_part", "multi_part", "external_url"):
            raise body_error("body.mode", "should be one of `single_part`, `multi_part`, `external_url`", mode)
        filename = body.get("filename")
        if filename is not None and (not isinstance(filename, str) or not filename):
            raise body_error("body.filename", "should be a non-empty string", filename)
        if mode in ("multi_part", "external_url") and not filename:
            raise body_error("body.filename", "should be defined", None)
        if filename and len(filename.encode()) > MAX_FILENAME_BYTES:
            raise validation(f"body failed validation: body.filename should be at most {MAX_FILENAME_BYTES} bytes.")
        content_type = body.get("content_type")
        if content_type is None:
            content_type = _guess_type(filename or "")
        parts = body.get("number_of_parts")
        if mode == "multi_part":
            if not isinstance(parts, int) or not 1 <= parts <= MAX_PARTS:
                raise body_error("body.number_of_parts", f"should be an integer between 1 and {MAX_PARTS}", parts)
        elif parts is not None:
            raise validation("number_of_parts is only allowed for multi_part uploads.")
        now = self.now()
        up: dict[str, Any] = {
            "kind": "file_upload",
            "id": new_id(),
            "mode": mode,
            "filename": filename or "file",
            "content_type": content_type,
            "content_length": None,
            "status": "pending",
            "attached": False,
            "created": iso(now),
            "edited": iso(now),
            "expiry": iso(now.replace(second=0, microsecond=0) + UPLOAD_TTL),
            "created_by": actor,
            "created_by_type": actor_type,
            "number_of_parts": parts,
            "parts": {},
        }
        if mode == "external_url":
            url = body.get("external_url")
            if not isinstance(url, str) or not url.startswith(("https://", "http://")):
                raise body_error("body.external_url", "should be an https URL", url)
            up["import_url"] = url  # fetched on a later read, as Notion imports in the background
        self.store.put(up)
        return self.render_upload(up)

    def _import(self, up: dict[str, Any], url: str) -> None:
        """Notion downloads the URL itself. The sandbox serves its own files directly and tries others over
        HTTP (which fails on machines without internet, as a real unreachable URL would)."""
        prefix = f"{self.base_url}/_files/"
        data = None
        if self.base_url and url.startswith(prefix):
            data = self.store.get_blob(url[len(prefix) :].split("/", 1)[0])
        else:
            try:
                response = httpx.get(url, timeout=5.0, follow_redirects=True)
                if response.status_code == 200 and len(response.content) <= self.max_file_size:
                    data = response.content
            except httpx.HTTPError:
                data = None
        stamp = self.now().strftime("%Y-%m-%dT%H:%M:%S.000+00:00")
        if data is None:
            up["status"] = "failed"
            up["import_result"] = {
                "type": "error",
                "imported_time": stamp,
                "error": {
                    "type": "download_error",
                    "code": "request_failed",
                    "message": "Could not download the file.",
                    "parameter": None,
                    "status_code": None,
                },
            }
            return
        self.store.put_blob(up["id"], data)
        up |= {
            "status": "uploaded",
            "content_length": len(data),
            "import_result": {"type": "success", "success": {}, "imported_time": stamp},
        }

    def send_upload(self, upload_id: str, data: bytes, filename: str | None, part_number: Any) -> dict[str, Any]:
        up = self.upload(upload_id)
        status = self.upload_status(up)
        if up["mode"] == "external_url":
            raise validation("File uploads in external_url mode cannot be sent; Notion imports them.")
        if status != "pending":
            raise validation(f"File upload is in status `{status}` and cannot be sent; only pending uploads can.")
        if len(data) > self.max_file_size:
            raise validation(
                f"The file size ({len(data)} bytes) exceeds the workspace file upload limit "
                f"({self.max_file_size} bytes)."
            )
        if up["mode"] == "single_part":
            if part_number not in (None, "", "1", 1):
                raise validation("part_number is only allowed for multi_part uploads.")
            if len(data) > SINGLE_PART_MAX:
                raise validation("Single-part uploads are limited to 20 MB; use multi_part mode.")
            self.store.put_blob(up["id"], data)
            up |= {"status": "uploaded", "content_length": len(data)}
        else:
            try:
                n = int(part_number)
            except (TypeError, ValueError):
                raise body_error("body.part_number", "should be defined for multi_part uploads", part_number) from None
            if not 1 <= n <= up["number_of_parts"]:
                raise body_error("body.part_number", f"should be between 1 and {up['number_of_parts']}", n)
            self.store.put_blob(f"{up['id']}:{n}", data)
            up["parts"][str(n)] = len(data)
        if filename and up["filename"] == "file":
            up["filename"] = filename
        up["edited"] = iso(self.now())
        self.store.put(up)
        return self.render_upload(up)

    def complete_upload(self, upload_id: str) -> dict[str, Any]:
        up = self.upload(upload_id)
        if up["mode"] != "multi_part":
            raise validation("Only multi_part file uploads can be completed.")
        if self.upload_status(up) != "pending":
            raise validation(f"File upload is in status `{self.upload_status(up)}` and cannot be completed.")
        missing = [n for n in range(1, up["number_of_parts"] + 1) if str(n) not in up["parts"]]
        if missing:
            raise validation(f"Cannot complete the file upload: parts {missing} have not been sent.")
        data = b"".join(self.store.get_blob(f"{up['id']}:{n}") or b"" for n in range(1, up["number_of_parts"] + 1))
        if len(data) > self.max_file_size:
            raise validation(f"The file size ({len(data)} bytes) exceeds the workspace file upload limit.")
        self.store.put_blob(up["id"], data)
        up |= {"status": "uploaded", "content_length": len(data), "edited": iso(self.now())}
        self.store.put(up)
        return self.render_upload(up)

    def list_uploads(self, status: str | None) -> list[dict[str, Any]]:
        if status not in (None, "pending", "uploaded", "expired", "failed"):
            raise validation(
                f"query failed validation: query.status should be one of pending, uploaded, expired, "
                f'failed, instead was `"{status}"`.'
            )
        uploads = sorted(self.store.of_kind("file_upload"), key=lambda u: u["seq"], reverse=True)
        uploads = [self.settle(u) for u in uploads]
        return [u for u in uploads if status is None or self.upload_status(u) == status]

    def attach_upload(self, raw_id: Any, path: str, kind: str | None = None) -> dict[str, Any]:
        """Validate an upload referenced by id in a request, mark it attached, return the stored file ref."""
        upload_id = body_id(raw_id, f"{path}.id")
        up = self.store.get(upload_id, "file_upload")
        if up is None:
            raise validation(f"Could not find file_upload with ID: {upload_id}.")
        status = self.upload_status(self.settle(up))
        if status == "expired":
            raise validation(f"File upload with ID {upload_id} has expired; create a new upload.")
        if status != "uploaded":
            raise validation(f"File upload with ID {upload_id} is in status `{status}`; send its content first.")
        if kind == "image" and not str(up["content_type"]).startswith("image/"):
            raise validation(
                f"File upload with ID {upload_id} has content type {up['content_type']}, "
                "which is not supported for image blocks."
            )
        up["attached"] = True
        self.store.put(up)
        return {"type": "file", "upload_id": upload_id, "_name": up["filename"]}

    def file_url(self, upload_id: str) -> str:
        up = self.store.get(upload_id, "file_upload")
        name = up["filename"] if up else "file"
        return f"{self.base_url}/_files/{upload_id}/{quote(name)}"

    def render_file_ref(self, ref: dict[str, Any] | None) -> dict[str, Any] | None:
        """Stored file reference -> Notion's ``{"type":"file","file":{"url","expiry_time"}}`` (or as stored)."""
        if not ref or ref.get("type") != "file" or "upload_id" not in ref:
            return ref
        expiry = self.now() + timedelta(hours=1)
        stamp = expiry.strftime("%Y-%m-%dT%H:%M:%S.") + f"{expiry.microsecond // 1000:03d}Z"
        out = {k: v for k, v in ref.items() if k not in ("upload_id", "_name", "type")}
        return {**out, "type": "file", "file": {"url": self.file_url(ref["upload_id"]), "expiry_time": stamp}}

    def read_file(self, upload_id: str) -> tuple[bytes, str] | None:
        up = self.store.get(upload_id, "file_upload")
        data = self.store.get_blob(upload_id) if up else None
        if data is None or up is None:
            return None
        return data, up["content_type"] or "application/octet-stream"


def _guess_type(filename: str) -> str:
    import mimetypes

    return mimetypes.guess_type(filename)[0] or "text/plain"

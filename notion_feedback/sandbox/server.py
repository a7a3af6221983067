"""Run the emulators on 127.0.0.1 in background threads: for tests (a context manager) and for the CLI."""

from __future__ import annotations

import json
import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from notion_feedback.sandbox.langsmith.constants import STATS_LIMIT_ENV
from notion_feedback.sandbox.langsmith.emulator import parse_limit
from notion_feedback.sandbox.web_guard import LoopbackHostGuard

SMITH_WEB_PATH = "/_viewer/langsmith"  # on the Notion server: the LangSmith app's pages, as the viewer shows them


@dataclass
class SandboxOptions:
    host: str = "127.0.0.1"
    notion_port: int = 0  # 0 picks a free port
    langsmith_port: int = 0
    data_dir: Path | None = None  # None keeps state in memory
    rate_limit: bool | None = True  # None: as the sandbox in data_dir last ran (on when it never ran)
    notion_token: str | None = None  # None: a fresh random token (or the one saved under data_dir)
    langsmith_api_key: str | None = None
    admin_token: str | None = None  # Bearer token of the /_sandbox/* admin routes; None: fresh (or saved)
    notion: bool = True
    langsmith: bool = True


class ServerThread:
    """One uvicorn server in a daemon thread, on a socket bound before start so its port is known at once."""

    def __init__(self, app: Any, host: str, port: int) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"the sandbox binds to loopback only, not {host!r}")
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted sockets inherit this: without it, h11's separate header and body writes meet the client's
        # delayed ACK and every keep-alive request waits ~40 ms (measured 44 ms -> 0.5 ms per request).
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.bind((host, port))
        self.host, self.port = host, self.sock.getsockname()[1]
        app = LoopbackHostGuard(app, self.port)  # DNS rebinding: only loopback names with our port get in
        config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False, timeout_keep_alive=30)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"sandbox server on {self.url} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


def _secret(data_dir: Path | None, name: str, prefix: str, given: str | None) -> str:
    """A sandbox credential: given, else saved under data_dir so a restarted sandbox keeps it, else fresh."""
    if given:
        return given
    path = data_dir / f"{name}.secret" if data_dir else None
    if path and path.exists():
        return path.read_text().strip()
    value = prefix + secrets.token_urlsafe(24).replace("-", "a").replace("_", "b")
    if path:  # created 0600 whatever the umask, never readable by others even for an instant
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(value)
    return value


SAVED_OPTIONS = "sandbox.json"  # under data_dir: the ports and limits of the last start, for a reopen


def _saved(data_dir: Path | None) -> dict[str, Any]:
    path = data_dir / SAVED_OPTIONS if data_dir else None
    try:
        return json.loads(path.read_text()) if path and path.exists() else {}
    except (OSError, ValueError):
        return {}


def _save(data_dir: Path, values: dict[str, Any]) -> None:
    fd = os.open(data_dir / SAVED_OPTIONS, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(values, out)


def _serve(app: Any, host: str, port: int, saved_port: int) -> ServerThread:
    """A server on ``port``; when none was asked for, the port it had last time if still free, else any."""
    if port == 0 and saved_port:
        try:
            return ServerThread(app, host, saved_port).start()
        except OSError:
            pass  # taken since: a free one (the CLI then rewrites the demo's settings)
    return ServerThread(app, host, port).start()


class Sandbox:
    """Both emulators, started together. ``with Sandbox() as sb: sb.env()`` gives the variables a client needs."""

    def __init__(self, options: SandboxOptions | None = None) -> None:
        self.options = options or SandboxOptions()
        self.notion: Any = None  # the Notion emulator (see notion_api.NotionEmulator)
        self.langsmith: Any = None  # the LangSmith emulator (see langsmith.emulator.LangSmithEmulator)
        self._servers: list[ServerThread] = []
        self.notion_url = ""
        self.langsmith_url = ""
        self.admin_token = ""

    def start(self) -> Sandbox:
        opts = self.options
        saved = _saved(opts.data_dir)
        rate_limit = opts.rate_limit if opts.rate_limit is not None else saved.get("rate_limit", True)
        stats_limit = os.environ.get(STATS_LIMIT_ENV) or saved.get("stats_limit")
        if opts.data_dir:
            opts.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.admin_token = _secret(opts.data_dir, "admin-token", "sbx_admin_", opts.admin_token)
        try:
            if opts.notion:
                from notion_feedback.sandbox.notion.emulator import create_notion_emulator

                token = _secret(opts.data_dir, "notion-token", "ntn_sandbox_", opts.notion_token)
                self.notion = create_notion_emulator(token=token, data_dir=opts.data_dir, rate_limit=rate_limit)
                self.notion.control.admin_token = self.admin_token
                from notion_feedback.sandbox.viewer.app import with_viewer

                # the workspace viewer at /_viewer/, trace pages included (the LangSmith emulator starts next)
                app = with_viewer(self.notion.asgi, token, smith=lambda: self.langsmith)
                server = _serve(app, opts.host, opts.notion_port, saved.get("notion_port", 0))
                self._servers.append(server)
                self.notion_url = server.url
                self.notion.base_url = server.url
                self.notion.viewer_url = f"{server.url}/_viewer/"
            if opts.langsmith:
                from notion_feedback.sandbox.langsmith.emulator import create_langsmith_emulator

                key = _secret(opts.data_dir, "langsmith-key", "lsv2_sandbox_", opts.langsmith_api_key)
                limits = {"stats_limit": parse_limit(stats_limit)} if stats_limit else {}
                self.langsmith = create_langsmith_emulator(
                    api_key=key, data_dir=opts.data_dir, rate_limit=rate_limit, **limits
                )
                self.langsmith.control.admin_token = self.admin_token
                server = _serve(self.langsmith.asgi, opts.host, opts.langsmith_port, saved.get("langsmith_port", 0))
                self._servers.append(server)
                self.langsmith_url = server.url
                self.langsmith.base_url = server.url
        except BaseException:
            self.stop()
            raise
        if opts.data_dir:
            ports = {"notion_port": self._port(self.notion_url), "langsmith_port": self._port(self.langsmith_url)}
            _save(opts.data_dir, saved | ports | {"rate_limit": rate_limit, "stats_limit": stats_limit})
        return self

    @property
    def langsmith_web_url(self) -> str:
        """Where the viewer serves the LangSmith app's run pages: trace URLs built on it open there."""
        return f"{self.notion_url}{SMITH_WEB_PATH}"

    @staticmethod
    def _port(url: str) -> int:
        return int(url.rsplit(":", 1)[1]) if url else 0

    def stop(self) -> None:
        for server in reversed(self._servers):
            server.stop()
        self._servers.clear()
        for emulator in (self.notion, self.langsmith):
            if emulator is not None and hasattr(emulator, "close"):
                emulator.close()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def env(self) -> dict[str, str]:
        """The settings a client needs, as environment variables (printed by ``notion-feedback sandbox``)."""
        out: dict[str, str] = {}
        if self.notion is not None:
            out |= {
                "NOTION_BASE_URL": self.notion_url,
                "NOTION_TOKEN": self.notion.token,
                "NOTION_SANDBOX_ROOT_PAGE_ID": self.notion.root_page_id,
            }
        if self.langsmith is not None:
            out |= {"LANGSMITH_ENDPOINT": self.langsmith_url, "LANGSMITH_API_KEY": self.langsmith.api_key}
            if self.notion is not None:  # trace links (the app's /o/.../r/<run> pages) open in the viewer
                out["LANGSMITH_WEB_URL"] = self.langsmith_web_url
        # Authorization: Bearer ... on /_sandbox/*. Printed last: scripts wait for this line (``sandbox --help``).
        out["NOTION_SANDBOX_ADMIN_TOKEN"] = self.admin_token
        return out

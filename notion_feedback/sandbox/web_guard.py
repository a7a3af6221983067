"""What keeps a web page the person visits from using the sandbox through their browser.

The sandbox runs on the person's own machine, beside real credentials, while the same browser visits other sites.
Three checks, one place each:

- ``LoopbackHostGuard``: a request whose ``Host`` is not a loopback name with the server's own port is refused, so
  a DNS-rebinding page (``evil.example`` resolving to 127.0.0.1) never reaches an emulator or the viewer.
- ``cross_origin``: a state-changing request a browser sent from another origin (``Origin`` or ``Sec-Fetch-Site``
  say so) is refused; another port on 127.0.0.1 is another origin.
- ``CsrfTokens``: each browser session gets a random cookie and its forms carry a token derived from it with a
  key that never leaves the process, so a page that plants its own cookie still cannot forge the token.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Mapping
from typing import Any

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
SAME_ORIGIN_FETCH = ("same-origin", "none")  # Sec-Fetch-Site values of the page itself or of the person typing


def allowed_hosts(port: int) -> frozenset[str]:
    """The ``Host`` values a browser or client on this machine sends to a server on ``port``."""
    return frozenset(f"{name}:{port}" for name in LOOPBACK_NAMES)


class LoopbackHostGuard:
    """ASGI middleware in front of a sandbox server: 421 for any ``Host`` but a loopback name and our port."""

    def __init__(self, app: Any, port: int) -> None:
        self.app = app
        self.port = port
        self.hosts = allowed_hosts(port)

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "http":
            host = _header(scope, b"host")
            if host.lower() not in self.hosts:
                message = f"host {host[:100]!r} is not this sandbox: use http://127.0.0.1:{self.port}"
                await send_json(
                    send, 421, {"object": "error", "status": 421, "code": "misdirected", "message": message}
                )
                return
        await self.app(scope, receive, send)


def _header(scope: Mapping[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return ""


def cross_origin(headers: Mapping[str, str]) -> str | None:
    """Why a request came from another origin, or None when it is the page itself or not a browser at all.

    A browser always sends ``Origin`` on a POST and ``Sec-Fetch-Site`` on every request; a client without a browser
    sends neither, and is trusted as far as its credentials go (the admin token, the CSRF token).
    """
    host = headers.get("host", "")
    origin = headers.get("origin")
    if origin is not None and origin != f"http://{host}":
        return f"the request came from another origin ({origin[:100]})"
    site = headers.get("sec-fetch-site")
    if site is not None and site not in SAME_ORIGIN_FETCH:
        return f"the request came from another site (Sec-Fetch-Site: {site[:40]})"
    return None


class CsrfTokens:
    """A session cookie per browser and the form token that goes with it (HMAC under a per-process key)."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)

    @staticmethod
    def new_session() -> str:
        return secrets.token_urlsafe(32)

    def token(self, session: str) -> str:
        return hmac.new(self._key, session.encode(), hashlib.sha256).hexdigest()

    def valid(self, session: str | None, token: str | None) -> bool:
        if not session or not token:
            return False
        return hmac.compare_digest(self.token(session), token)


def bearer_matches(headers: Mapping[str, str], expected: str) -> bool:
    """``Authorization: Bearer <expected>``, compared in constant time."""
    scheme, _, given = headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected.encode())


async def send_json(send: Callable, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})

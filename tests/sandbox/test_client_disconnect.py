"""A client killed mid-request (its body cut short) gets no answer and leaves no traceback in the sandbox's log."""

from __future__ import annotations

import logging
import socket
import time
from urllib.parse import urlsplit

import pytest


def _cut_short(url: str, path: str, token: str) -> None:
    """Send the headers and part of a POST body, then close the connection, as a killed process would."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Bearer {token}\r\n"
            f"x-api-key: {token}\r\nNotion-Version: 2025-09-03\r\nContent-Type: application/json\r\n"
            "Content-Length: 1000\r\n\r\n"
        )
        sock.sendall(head.encode() + b'{"parent": ')


@pytest.mark.parametrize("service", ["notion", "langsmith"])
def test_a_client_gone_mid_body_leaves_no_traceback(sandbox, caplog, service) -> None:
    if service == "notion":
        url, path, token, control = sandbox.notion_url, "/v1/pages", sandbox.notion.token, sandbox.notion.control
    else:
        url, path, token = sandbox.langsmith_url, "/feedback", sandbox.langsmith.api_key
        control = sandbox.langsmith.control
    with caplog.at_level(logging.ERROR):
        _cut_short(url, path, token)
        deadline = time.monotonic() + 5
        while not control.count("", status=499) and time.monotonic() < deadline:
            time.sleep(0.05)
    assert control.count("", status=499) == 1
    assert control.count("", status=500) == 0  # not mistaken for an emulator failure
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]

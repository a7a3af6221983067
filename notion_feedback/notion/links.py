"""Where a person opens a Notion page: Notion's own address, or on the sandbox its workspace viewer.

The sandbox answers with the real API's ``app.notion.com/p/…`` URLs, which lead nowhere from a machine running the
emulator; its viewer (``/_viewer/`` on the Notion emulator) shows the same page. Whether the product talks to the
sandbox is decided here, from ``NOTION_BASE_URL``, and nowhere else.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlparse

LOOPBACK_NAMES = ("localhost",)
VIEWER_PATH = "/_viewer/"


def is_loopback_host(host: str | None) -> bool:
    """127.0.0.0/8, ::1 or localhost: the only addresses the sandbox binds."""
    if not host:
        return False
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_sandbox(notion_base_url: str) -> bool:
    """True when the configured Notion API is the local sandbox (a loopback address), not api.notion.com."""
    return is_loopback_host(urlparse(notion_base_url).hostname)


def viewer_url(notion_base_url: str) -> str:
    """The sandbox's workspace viewer on the same server as its Notion API."""
    parsed = urlparse(notion_base_url)
    return f"{parsed.scheme}://{parsed.netloc}{VIEWER_PATH}"


def page_link(notion_base_url: str, page_id: str, notion_url: str | None = None) -> str:
    """The address a person opens for a page: the viewer's page on the sandbox, else the URL Notion gave
    (or one built from the id)."""
    if is_sandbox(notion_base_url):
        return f"{viewer_url(notion_base_url)}page/{page_id}"
    return notion_url or notion_page_url(page_id)


def notion_page_url(page_id: str) -> str:
    """Notion's address for a page, from its id alone (when an answer carried no ``url``)."""
    return f"https://www.notion.so/{page_id.replace('-', '')}"

"""Notion ids in every form Notion shows a person: a URL (with a title, a workspace slug, a ``?v=`` view or a
``?p=`` peek), the dashed UUID, or the 32 hex digits alone. Everywhere the product reads an id, it reads it here."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

from notion_feedback.errors import ConfigError
from notion_feedback.notion.links import is_loopback_host

_HEX32 = re.compile(r"[0-9a-fA-F]{32}")


def parse_notion_id(value: str) -> str:
    """A page or database id in canonical dashed form, from an id or a URL copied from the browser.

    Accepts ``<32 hex>``, the dashed form, ``https://www.notion.so/Title-<32hex>``,
    ``https://www.notion.so/<workspace>/<32hex>?v=…``, ``https://app.notion.com/p/<32hex>`` and ``…notion.site/…``.
    The id is at the end of the URL's last path segment; a ``?v=`` view id or ``#block`` anchor is ignored, and a
    page opened as a peek (``?p=<id>``) wins over the database behind it.
    """
    text = (value or "").strip()
    if not text:
        raise ConfigError("no Notion id given", "paste the page's or database's link from Notion, or its id")
    segment = text
    if "://" in text or text.startswith(("www.", "notion.so", "app.notion.com")):
        parsed = urlparse(text if "://" in text else "https://" + text)
        host = parsed.hostname or ""
        if not host.endswith(("notion.so", "notion.site", "notion.com")) and not is_loopback_host(host):  # the viewer
            raise ConfigError(
                f"{host or text!r} is not a Notion address",
                "copy the page's link from Notion (Share → Copy link) or pass its id",
            )
        peek = parse_qs(parsed.query).get("p")
        segment = peek[0] if peek else parsed.path.rstrip("/").rsplit("/", 1)[-1]
    compact = segment.replace("-", "")
    if not _HEX32.fullmatch(compact[-32:]):
        raise ConfigError(
            f"no Notion id in {value!r}",
            "paste the 32-character id, or the URL copied from the browser's address bar",
        )
    raw = compact[-32:].lower()
    return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"

"""A person's form in the viewer without a browser: the page's cookie and its hidden fields, as a browser keeps them."""

from __future__ import annotations

import html
import re

import httpx

_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def open_form(url: str, client: httpx.Client | None = None) -> tuple[httpx.Client, dict[str, str]]:
    """GET ``url`` as a browser would: a client holding the session cookie, and the form's hidden fields.

    On a table page several forms share their fields' names; the last one wins, which is enough for the CSRF token
    (one per session).
    """
    client = client or httpx.Client()
    page = client.get(url)
    page.raise_for_status()
    return client, {html.unescape(k): html.unescape(v) for k, v in _HIDDEN.findall(page.text)}


def csrf_of(url: str, client: httpx.Client | None = None) -> tuple[httpx.Client, str]:
    """A client with the viewer's session cookie and that session's CSRF token."""
    client, hidden = open_form(url, client)
    return client, hidden["csrf"]

"""The viewer's form in headless Chromium: a person's change sends only what they changed, and a page on another
origin cannot post the form, even in the same browser."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture()
def foreign_site(hostile: dict[str, Any]) -> Iterator[str]:
    """Another origin on this machine (127.0.0.1, another port) with a form aimed at the viewer's row."""
    page = (
        f'<form method="post" action="{hostile["page_url"]}">'
        '<input name="prop:Comment" value="written by another site"><button>win a prize</button></form>'
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()


def test_changing_only_the_rating_in_the_browser_keeps_the_rest(hostile: dict[str, Any], browser: Any) -> None:
    notion, row = hostile["notion"], hostile["row"]
    before = notion.pages.retrieve(row["id"])["properties"]
    page = browser.new_page()
    page.goto(hostile["page_url"])
    page.select_option('select[name="prop:Rating"]', "3")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_load_state("load")
    assert page.get_by_role("status").inner_text() == "Saved."
    after = notion.pages.retrieve(row["id"])["properties"]
    assert after["Rating"]["select"]["name"] == "3"
    assert after["Comment"] == before["Comment"], "the multi-line bold comment is untouched"
    assert after["Answer"] == before["Answer"], "the leading newline, bold and links are untouched"
    page.close()


def test_a_page_on_another_origin_cannot_post_the_form(
    hostile: dict[str, Any], browser: Any, foreign_site: str
) -> None:
    notion, row = hostile["notion"], hostile["row"]
    context = browser.new_context()
    viewer = context.new_page()
    viewer.goto(hostile["page_url"])  # the person has the viewer open: its session cookie is in this browser
    before = notion.pages.retrieve(row["id"])["properties"]["Comment"]
    attacker = context.new_page()
    attacker.goto(foreign_site)
    with attacker.expect_navigation():
        attacker.get_by_role("button", name="win a prize").click()
    assert "Refused" in attacker.title() or "forbidden" in attacker.content()
    assert notion.pages.retrieve(row["id"])["properties"]["Comment"] == before
    context.close()

"""The viewer over HTTP, as a hostile web page or a forged request would use it: each check of docs/security.md."""

from __future__ import annotations

import re
import socket
import threading
from typing import Any

import httpx
from hostile_workspace import MULTILINE
from viewer_support import open_form

from notion_feedback.sandbox.server import Sandbox


def _comment(notion: Any, page_id: str) -> list[dict[str, Any]]:
    return notion.pages.retrieve(page_id)["properties"]["Comment"]["rich_text"]


def test_a_foreign_host_header_is_refused_and_the_token_goes_nowhere(hostile: dict[str, Any]) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(2)
    port = listener.getsockname()[1]
    got: list[bytes] = []

    def accept() -> None:
        try:
            conn, _ = listener.accept()
            got.append(conn.recv(65536))
            conn.close()
        except OSError:
            pass

    thread = threading.Thread(target=accept)
    thread.start()
    for host in (f"127.0.0.1:{port}", "evil.example", f"evil.example:{hostile['viewer'].split(':')[2][:-9]}"):
        response = httpx.get(hostile["viewer"], headers={"Host": host})
        assert response.status_code == 421, host
        assert "Bearer" not in response.text and "use http://127.0.0.1:" in response.text
    thread.join()
    listener.close()
    assert got == [], "nothing reached the address the Host header named"
    loopback = hostile["viewer"].replace("127.0.0.1", "localhost")
    assert httpx.get(loopback).status_code == 200, "a loopback name with our port is this server"


def test_the_api_behind_the_viewer_refuses_a_rebound_host_too(hostile: dict[str, Any], sandbox: Sandbox) -> None:
    headers = {"Host": "rebind.example", "Authorization": f"Bearer {sandbox.notion.token}"}
    response = httpx.get(f"{sandbox.notion_url}/v1/users/me", headers=headers)
    assert response.status_code == 421


def test_a_post_from_another_origin_changes_nothing(hostile: dict[str, Any]) -> None:
    url, notion, row = hostile["page_url"], hostile["notion"], hostile["row"]
    person, hidden = open_form(url)
    before = _comment(notion, row["id"])
    port = url.split(":")[2].split("/")[0]
    forged = {**hidden, "prop:Comment": "changed by a web page"}
    for headers in (
        {"Origin": "http://127.0.0.1:18999"},  # another port is another origin
        {"Origin": "null"},
        {"Sec-Fetch-Site": "same-site"},
        {"Sec-Fetch-Site": "cross-site", "Origin": f"http://127.0.0.1:{port}"},
    ):
        response = person.post(url, data=forged, headers=headers)
        assert response.status_code == 403, headers
        assert "another" in response.text
    assert _comment(notion, row["id"]) == before


def test_a_post_without_the_sessions_csrf_token_changes_nothing(hostile: dict[str, Any]) -> None:
    url, notion, row = hostile["page_url"], hostile["notion"], hostile["row"]
    before = _comment(notion, row["id"])
    person, hidden = open_form(url)
    no_token = {k: v for k, v in hidden.items() if k != "csrf"}
    assert person.post(url, data={**no_token, "prop:Comment": "x"}).status_code == 403
    # a text/plain form post, as a page elsewhere can send without a preflight
    assert httpx.post(url, content=b"prop:Comment=x", headers={"Content-Type": "text/plain"}).status_code == 403
    # a cookie the attacker planted (cookies ignore ports) with a token of their own choosing
    cookie = next(iter(person.cookies.jar))
    planted = httpx.Client(cookies={cookie.name: "attacker-chosen"})
    assert planted.post(url, data={**hidden, "csrf": "0" * 64, "prop:Comment": "x"}).status_code == 403
    # another session's token does not fit this session
    other, other_hidden = open_form(url)
    assert planted.post(url, data={**other_hidden, "prop:Comment": "x"}).status_code == 403
    assert _comment(notion, row["id"]) == before
    ok = person.post(url, data={**hidden, "prop:Comment": "the person's own edit"})
    assert ok.status_code == 303 and _comment(notion, row["id"])[0]["plain_text"] == "the person's own edit"
    assert cookie.has_nonstandard_attr("HttpOnly") or "httponly" in str(cookie._rest).lower()


def test_only_http_https_and_mailto_become_links(hostile: dict[str, Any]) -> None:
    for url in (hostile["page_url"], f"{hostile['viewer']}ds/{hostile['ds_id']}"):
        body = httpx.get(url).text
        hrefs = re.findall(r'(?:href|src)="([^"]*)"', body)
        assert hrefs, url
        assert not [h for h in hrefs if not h.startswith(("/", "http://", "https://", "mailto:"))], hrefs
        assert "javascript:" not in " ".join(hrefs).lower()
        assert "javascript:alert(&#x27;trace&#x27;)" in body, "the URL is still shown, as text"
    table = httpx.get(f"{hostile['viewer']}ds/{hostile['ds_id']}").text
    assert '<a href="https://docs.example/ok" rel="noreferrer"> and a good one</a>' in table
    assert "a link" in table and " and a sneaky one" in table, "unsafe links keep their text"
    assert '<a href="mailto:person@example.com" rel="noreferrer">' in table


def test_pages_may_not_be_framed_and_run_no_inline_script(hostile: dict[str, Any]) -> None:
    response = httpx.get(hostile["page_url"])
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["x-frame-options"] == "DENY"
    table = httpx.get(f"{hostile['viewer']}ds/{hostile['ds_id']}").text
    assert not re.search(r"\son[a-z]+=", table), "no inline event handlers (the CSP would block them)"
    assert "&lt;script&gt;alert(&#x27;q&#x27;)&lt;/script&gt;" in table and "<script>alert" not in table


def test_next_only_leads_back_into_the_viewer(hostile: dict[str, Any]) -> None:
    url = hostile["page_url"]
    person, hidden = open_form(url)
    for bad in (
        "//evil.example/phish",
        "https://evil.example/",
        "/\\evil.example",
        "/_viewer/\\\\evil.example",
        "/_viewer//evil.example",
        "javascript:alert(1)",
        "/elsewhere",
        "/_viewer/\r\nSet-Cookie: x=1",
    ):
        response = person.post(url, data={**hidden, "next": bad})
        assert response.status_code == 303, bad
        location = response.headers["location"]
        assert location.startswith(f"/_viewer/page/{hostile['row']['id']}?saved="), (bad, location)
    table = f"/_viewer/ds/{hostile['ds_id']}"
    response = person.post(url, data={**hidden, "next": table})
    assert response.headers["location"] == f"{table}?saved=0"


def test_the_form_sends_only_what_the_person_changed(hostile: dict[str, Any], sandbox: Sandbox) -> None:
    url, notion, row = hostile["page_url"], hostile["notion"], hostile["row"]
    person, hidden = open_form(url)
    before = notion.pages.retrieve(row["id"])["properties"]
    shown = {  # what a browser sends back for the fields as shown: line breaks as CRLF
        "prop:Comment": MULTILINE.replace("\n", "\r\n"),
        "prop:Answer": before["Answer"]["rich_text"][0]["plain_text"].replace("\n", "\r\n")
        + "".join(r["plain_text"] for r in before["Answer"]["rich_text"][1:]),
    }
    sandbox.notion.control.clear_stats()
    response = person.post(url, data={**hidden, **shown, "prop:Rating": "3"})
    assert response.headers["location"].endswith("saved=1"), "one property changed: the Rating"
    after = notion.pages.retrieve(row["id"])["properties"]
    assert after["Rating"]["select"]["name"] == "3"
    assert after["Comment"] == before["Comment"] and after["Comment"]["rich_text"][0]["annotations"]["bold"]
    assert after["Answer"] == before["Answer"], "the leading newline, the bold and the links are kept"


def test_a_stale_form_does_not_undo_a_change_made_since(hostile: dict[str, Any]) -> None:
    url, notion, row = hostile["page_url"], hostile["notion"], hostile["row"]
    person, hidden = open_form(url)
    notion.pages.update(row["id"], properties={"Comment": {"rich_text": [{"text": {"content": "written since"}}]}})
    person.post(url, data={**hidden, "prop:Comment": MULTILINE, "prop:Rating": "5"})
    after = notion.pages.retrieve(row["id"])["properties"]
    assert after["Rating"]["select"]["name"] == "5"
    assert after["Comment"]["rich_text"][0]["plain_text"] == "written since"


def test_static_and_file_routes_refuse_path_traversal(hostile: dict[str, Any], sandbox: Sandbox) -> None:
    for path in ("/_viewer/static/../viewer.py", "/_viewer/static/%2e%2e/viewer.py", "/_files/..%2f..%2fetc/passwd"):
        response = httpx.get(sandbox.notion_url + path)
        assert response.status_code == 404, path
        assert "import" not in response.text

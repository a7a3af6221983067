"""``/_sandbox/*`` on both servers: only with the admin token, never from a web page of another origin."""

from __future__ import annotations

import httpx
import pytest

from notion_feedback.sandbox.server import Sandbox


@pytest.mark.parametrize("server", ["notion", "langsmith"])
def test_admin_routes_need_the_admin_token_and_the_same_origin(sandbox: Sandbox, server: str) -> None:
    base = sandbox.notion_url if server == "notion" else sandbox.langsmith_url
    clock = getattr(sandbox, server).control.clock
    before = clock.describe()
    token = {"Authorization": f"Bearer {sandbox.env()['NOTION_SANDBOX_ADMIN_TOKEN']}"}
    plain = {"Content-Type": "text/plain"}  # what a foreign page can POST without a preflight
    body = b'{"advance_seconds": 3600}'
    assert httpx.post(f"{base}/_sandbox/clock", content=body, headers=plain).status_code == 401
    wrong = {"Authorization": "Bearer sbx_admin_guess", **plain}
    assert httpx.post(f"{base}/_sandbox/clock", content=body, headers=wrong).status_code == 401
    foreign = {**token, **plain, "Origin": "http://127.0.0.1:18999"}
    refused = httpx.post(f"{base}/_sandbox/clock", content=body, headers=foreign)
    assert refused.status_code == 403 and "another origin" in refused.json()["error"]
    for route in ("faults", "reset", "ratelimit"):
        assert httpx.post(f"{base}/_sandbox/{route}", content=b"{}", headers=plain).status_code == 401
    assert httpx.get(f"{base}/_sandbox/stats").status_code == 401
    assert clock.describe()["offset_seconds"] == before["offset_seconds"], "nothing refused moved the clock"
    moved = httpx.post(f"{base}/_sandbox/clock", json={"advance_seconds": 3600}, headers=token)
    assert moved.status_code == 200
    assert moved.json()["offset_seconds"] == before["offset_seconds"] + 3600, "the admin token moves the clock"
    httpx.post(f"{base}/_sandbox/clock", json={"reset": True}, headers=token)
    bad = httpx.post(f"{base}/_sandbox/clock", content=b"{not json", headers=token)
    assert bad.status_code == 400 and "bad admin request body" in bad.json()["error"]


def test_the_admin_token_is_never_the_api_token(sandbox: Sandbox) -> None:
    env = sandbox.env()
    assert env["NOTION_SANDBOX_ADMIN_TOKEN"] not in (env["NOTION_TOKEN"], env["LANGSMITH_API_KEY"])
    api_token = {"Authorization": f"Bearer {env['NOTION_TOKEN']}"}
    assert httpx.post(f"{sandbox.notion_url}/_sandbox/reset", headers=api_token).status_code == 401

"""The Notion client's transport: retries only what cannot duplicate an effect, and shares one budget."""

from __future__ import annotations

import httpx
import pytest
from notion_client import APIResponseError

from notion_feedback.config import Settings
from notion_feedback.notion import client as notion_client_module
from notion_feedback.notion.client import BudgetedTransport, make_notion_client, request_counts
from notion_feedback.ratelimit import RateLimiter


@pytest.fixture(autouse=True)
def _no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notion_client_module.time, "sleep", lambda _s: None)


def _error(status: int, code: str) -> httpx.Response:
    body = {"object": "error", "status": status, "code": code, "message": code, "request_id": "r"}
    return httpx.Response(status, json=body)


def _client(handler) -> tuple:
    settings = Settings(
        _env_file=None,
        notion_token="ntn_test_token_abcdefghijklmnop",
        notion_requests_per_second=1000,
        notion_burst=1000,
    )
    transport = httpx.MockTransport(handler)
    return make_notion_client(settings, transport=transport), settings


def test_reads_are_retried_through_a_502_and_529() -> None:
    answers = iter([_error(502, "bad_gateway"), _error(529, "service_overload"), httpx.Response(200, json={"ok": 1})])
    client, _ = _client(lambda req: next(answers))
    assert client.users.me() == {"ok": 1}
    assert request_counts(client)["GET"] == 3


def test_a_create_is_not_repeated_after_an_unknown_outcome() -> None:
    calls = []

    def handler(req: httpx.Request) -> httpx.Response:
        calls.append(req.method)
        return _error(502, "bad_gateway")

    client, _ = _client(handler)
    with pytest.raises(Exception):  # noqa: B017 - notion-client raises its unknown-response error for 502
        client.pages.create(parent={"data_source_id": "x"}, properties={})
    assert calls == ["POST"]


def test_a_block_append_is_not_repeated_but_a_property_update_is() -> None:
    calls = []

    def handler(req: httpx.Request) -> httpx.Response:
        calls.append((req.method, req.url.path))
        return (
            _error(502, "bad_gateway")
            if len(calls) == 1 or req.url.path.endswith("/children")
            else (httpx.Response(200, json={"object": "page", "id": "p"}))
        )

    client, _ = _client(handler)
    with pytest.raises(Exception):  # noqa: B017 - an append adds blocks: sent twice, the text would be twice
        client.blocks.children.append("0" * 32, children=[])
    assert len(calls) == 1
    calls.clear()
    assert client.pages.update("0" * 32, properties={})["id"] == "p"  # sets values: safe to send again
    assert [method for method, _ in calls] == ["PATCH", "PATCH"]


def test_queries_are_reads_and_are_retried() -> None:
    answers = iter([_error(503, "service_unavailable"), httpx.Response(200, json={"results": []})])
    client, _ = _client(lambda req: next(answers))
    assert client.data_sources.query("0" * 32) == {"results": []}


def test_a_429_pauses_the_shared_budget() -> None:
    limiter = RateLimiter(rate=1000, burst=10)
    answers = iter(
        [
            httpx.Response(
                429,
                headers={"retry-after": "7"},
                json={"object": "error", "status": 429, "code": "rate_limited", "message": "slow", "request_id": "r"},
            )
        ]
    )
    transport = BudgetedTransport([limiter], httpx.MockTransport(lambda req: next(answers)))
    response = transport.handle_request(httpx.Request("GET", "http://x/v1/users/me"))
    assert response.status_code == 429
    assert not limiter.try_acquire()  # everybody waits out the Retry-After


def test_the_token_is_never_in_an_error() -> None:
    client, settings = _client(lambda req: _error(401, "unauthorized"))
    with pytest.raises(APIResponseError) as err:
        client.users.me()
    assert settings.notion_token.get_secret_value() not in str(err.value)

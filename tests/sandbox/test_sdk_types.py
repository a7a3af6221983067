"""Every Notion exchange of the product, and of the emulator's routes and error paths, type-checks against the
official SDK (``@notionhq/client``, pinned in ``tests/sdk_types``) under ``tsc --strict``."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
from sdk_flows import emulator_tour, error_paths, product_flows
from sdk_types_support import endpoint_of, require_tools, sdk_endpoints, type_check

from notion_feedback.sandbox.exchanges import Exchange
from notion_feedback.sandbox.notion.urls import ROUTES, match
from notion_feedback.testing import World, make_world


@pytest.fixture()
def world(sandbox, settings) -> World:  # type: ignore[no-untyped-def]
    require_tools()
    sandbox.notion.control.exchanges.start()  # init included
    return make_world(sandbox, settings)


def _report(problems: list[str]) -> str:
    return f"{len(problems)} problems:\n" + "\n".join(problems[:40])


def test_the_products_traffic_holds_to_the_sdk_types(
    world: World, sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    product_flows(world, sandbox, monkeypatch)
    exchanges = sandbox.notion.control.exchanges.stop()
    routes = {f"{e.method} {e.path.split('/')[2]}" for e in exchanges}
    used = {"POST pages", "PATCH pages", "POST data_sources", "PATCH blocks", "POST file_uploads", "POST comments"}
    assert used <= routes
    problems = type_check(exchanges, tmp_path)
    assert not problems, _report(problems)


def test_the_emulators_error_answers_hold_to_the_sdk_types(world: World, sandbox, tmp_path: Path) -> None:
    sandbox.notion.control.exchanges.start()
    error_paths(world, sandbox)
    exchanges = sandbox.notion.control.exchanges.stop()
    assert sorted({e.status for e in exchanges}) == [400, 401, 404, 429, 500, 503]
    problems = type_check(exchanges, tmp_path)
    assert not problems, _report(problems)


def test_every_emulated_route_holds_to_the_sdk_types(world: World, sandbox, tmp_path: Path) -> None:
    sandbox.notion.control.exchanges.start()
    emulator_tour(world)
    exchanges = sandbox.notion.control.exchanges.stop()
    served = {routed[0] for e in exchanges if (routed := match(e.method, e.path))}
    assert served == {name for _, _, name in ROUTES}, "routes the tour left out"
    problems = type_check(exchanges, tmp_path)
    assert not problems, _report(problems)


def test_every_emulated_route_is_an_sdk_endpoint() -> None:
    require_tools()
    endpoints = sdk_endpoints()
    unknown = [
        f"{method} {path}"
        for method, path, _ in ROUTES
        if endpoint_of(endpoints, method, re.sub(r"\{(\w+)\}", "0" * 32, path)) is None
    ]
    assert not unknown, f"the SDK has no such endpoint: {unknown}"


def _exchange(method: str, path: str, request: object, status: int, response: object) -> Exchange:
    body = json.dumps(response)
    headers = {"x-notion-request-id": "r1", "content-type": "application/json"}
    return Exchange(method, path, [], "application/json", json.dumps(request), status, headers, body)


def test_the_check_finds_what_is_wrong(tmp_path: Path) -> None:
    """The check is only worth what it refuses: a bare ``{object, id}``, a misspelt field, an unknown error code,
    a route the SDK lacks and a missing header each fail it, named by exchange."""
    require_tools()
    page = "0" * 8 + "-0000-4000-8000-" + "0" * 12
    wrong = [
        _exchange("GET", f"/v1/pages/{page}", {}, 200, {"object": "page", "id": page}),
        _exchange("POST", "/v1/pages", {"parent": {"page_id": page}, "propertiez": {}}, 400, {}),
        _exchange("GET", "/v1/users/me", {}, 500, {"object": "error", "status": 500, "code": "oops", "message": ""}),
        _exchange("GET", "/v1/teleport", {}, 200, {}),
        dataclasses.replace(_exchange("GET", "/v1/users", {}, 429, {}), response_headers={}),
    ]
    problems = type_check(wrong, tmp_path)
    for index, says in [
        (0, "response: error TS"),
        (1, "request: error TS2353"),
        (2, "response: error TS2322"),
        (3, "the SDK has no such endpoint"),
        (4, "no x-notion-request-id header"),
        (4, "a 429 without Retry-After"),
    ]:
        assert any(p.startswith(f"#{index} ") and says in p for p in problems), (index, says, problems)

"""Every LangSmith exchange of the product, and of the emulator's routes and error paths, fits the ``langsmith``
SDK's own models (``langsmith.schemas`` and the OpenAPI-generated ``langsmith.types``)."""

from __future__ import annotations

import json

import pytest
from sdk_flows import product_flows
from smith_flows import smith_error_paths, smith_tour
from smith_models_support import CONTRACTS, check, describe, route_of

from notion_feedback.sandbox.exchanges import Exchange
from notion_feedback.sandbox.langsmith.urls import V1_ROUTES, V2_ROUTES
from notion_feedback.testing import World, make_world


@pytest.fixture()
def world(sandbox, settings) -> World:  # type: ignore[no-untyped-def]
    sandbox.langsmith.control.exchanges.start()  # the project's creation included
    return make_world(sandbox, settings)


def _report(problems: list[str]) -> str:
    return f"{len(problems)} problems:\n" + "\n".join(problems[:40])


def test_the_products_langsmith_traffic_fits_the_sdk_models(world: World, sandbox, monkeypatch) -> None:
    product_flows(world, sandbox, monkeypatch)
    exchanges = sandbox.langsmith.control.exchanges.stop()
    used = {route_of(e.method, e.path) for e in exchanges}
    wanted = {"feedback_create", "feedback_update", "feedback_list", "runs_stats", "session_dashboard", "runs_query"}
    assert wanted | {"examples_bulk_create", "queue_items_create", "examples_list"} <= used, sorted(used)
    problems = check(exchanges)
    assert not problems, _report(problems)


def test_every_emulated_langsmith_route_fits_the_sdk_models(world: World, sandbox) -> None:
    smith_tour(world)
    exchanges = sandbox.langsmith.control.exchanges.stop()
    served = {route_of(e.method, e.path) for e in exchanges}
    every = {name for _, _, name in V1_ROUTES + V2_ROUTES}
    assert every <= served, f"routes the tour left out: {sorted(every - served)}\n{describe(exchanges)}"
    problems = check(exchanges)
    assert not problems, _report(problems)


def test_the_emulators_langsmith_errors_carry_what_the_sdk_reads(world: World, sandbox) -> None:
    sandbox.langsmith.control.exchanges.start()
    statuses = smith_error_paths(world, sandbox)
    assert statuses == [404, 401, 422, 410, 503]
    problems = check(sandbox.langsmith.control.exchanges.stop())
    assert not problems, _report(problems)


def test_every_route_has_a_contract() -> None:
    assert {name for _, _, name in V1_ROUTES + V2_ROUTES} == set(CONTRACTS)


def _exchange(method: str, path: str, request: object, status: int, answer: object) -> Exchange:
    headers = {"content-type": "application/json"}
    return Exchange(method, path, [], "application/json", json.dumps(request), status, headers, json.dumps(answer))


def test_the_check_finds_what_is_wrong() -> None:
    """A missing required field, a wrong type, an invented key (nested too), an unknown request key, an error
    without ``detail`` and an unknown route are each refused."""
    fid, rid = "0" * 8 + "-0000-4000-8000-" + "0" * 12, "1" * 8 + "-1111-4111-8111-" + "1" * 12
    good = {"id": fid, "created_at": "2026-01-01T00:00:00Z", "modified_at": "2026-01-01T00:00:00Z"}
    good |= {"run_id": rid, "trace_id": rid, "key": "user_rating", "score": 1.0}
    assert check([_exchange("GET", f"/feedback/{fid}", {}, 200, good)]) == []
    cases = {
        "missing": {k: v for k, v in good.items() if k != "key"},
        "wrong type": {**good, "score": {"a": 1}},
        "invented": {**good, "scored_by": "x"},
        "nested": {**good, "feedback_source": {"type": "api", "metadata": {}, "vendor": 1}},
    }
    for name, answer in cases.items():
        assert check([_exchange("GET", f"/api/v1/feedback/{fid}", {}, 200, answer)]), name
    assert check([_exchange("PATCH", f"/feedback/{fid}", {"score": 1, "grade": "A"}, 200, good)])
    assert check([_exchange("POST", "/sessions", {"name": 3}, 200, {})])
    assert check([_exchange("GET", "/info", {}, 500, {"error": "boom"})])
    assert check([_exchange("GET", "/nowhere", {}, 200, {})])

"""The emulators' shared edge: statistics, injected faults, 429 with Retry-After, and the admin routes."""

from __future__ import annotations

import json

import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from notion_feedback.sandbox.control import FaultPlan, SandboxControl, route_key, wrap
from notion_feedback.sandbox.exchanges import Exchange, ExchangeLog, multipart_summary
from notion_feedback.sandbox.ratelimit import Limit, TokenBucket

HITS: list[str] = []


async def _thing(request):  # noqa: ANN001 - a Starlette endpoint
    HITS.append(request.url.path)
    return JSONResponse({"ok": True})


def _client(rate_limit: bool = False, limit: Limit | None = None) -> tuple[TestClient, SandboxControl]:
    control = SandboxControl(
        api_prefixes=("/v1",),
        error_factory=lambda status, code, message: (
            json.dumps({"object": "error", "status": status, "code": code, "message": message}).encode(),
            "application/json",
        ),
        classify=lambda method, path: "api",
        limits={"api": limit or Limit(rate=1, burst=2)},
        rate_limit=rate_limit,
    )
    app = Starlette(routes=[Route("/v1/things/{id}", _thing, methods=["GET", "POST"]), *control.admin_routes()])
    return TestClient(wrap(app, control), headers={"Authorization": f"Bearer {control.admin_token}"}), control


def test_route_keys_group_ids() -> None:
    assert route_key("GET", "/v1/pages/4d2c0a5e-1b7f-4c55-9b2a-0d6f1e2a3b4c/") == "GET /v1/pages/{id}"
    assert route_key("POST", "/v1/data_sources/4d2c0a5e1b7f4c559b2a0d6f1e2a3b4c/query") == (
        "POST /v1/data_sources/{id}/query"
    )


def test_stats_count_by_route_and_status() -> None:
    client, control = _client()
    for _ in range(3):
        assert client.get("/v1/things/4d2c0a5e1b7f4c559b2a0d6f1e2a3b4c").status_code == 200
    stats = client.get("/_sandbox/stats").json()
    assert stats["routes"]["GET /v1/things/{id}"] == {"200": 3}
    assert control.count("GET /v1/things") == 3
    client.post("/_sandbox/reset", json={"stats_only": True})
    assert client.get("/_sandbox/stats").json()["total"] == 0


def test_rate_limit_answers_429_with_retry_after() -> None:
    client, control = _client(rate_limit=True, limit=Limit(rate=0.5, burst=2))
    codes = [client.get("/v1/things/x").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    refused = client.get("/v1/things/x")
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert refused.json()["code"] == "rate_limited"
    assert control.count(status=429) == 2


def test_faults_before_and_after_the_effect() -> None:
    client, _ = _client()
    HITS.clear()
    client.post("/_sandbox/faults", json={"status": {"503": 1.0}, "seed": 1})
    assert client.get("/v1/things/a").status_code == 503
    assert HITS == []  # refused before the handler ran
    client.post("/_sandbox/faults", json={"status": {"502": 1.0}, "after_effect": 1.0, "seed": 1})
    assert client.post("/v1/things/b").status_code == 502
    assert HITS == ["/v1/things/b"]  # the effect happened, the answer was lost
    client.post("/_sandbox/faults", json={})
    assert client.get("/v1/things/c").status_code == 200


def test_storm_and_bad_fault_plans() -> None:
    client, _ = _client()
    client.post("/_sandbox/faults", json={"storm_seconds": 30})
    assert client.get("/v1/things/a").status_code == 429
    assert client.post("/_sandbox/faults", json={"status": {"500": 0.8, "502": 0.8}}).status_code == 400


def test_bypass_header_is_not_counted_or_limited() -> None:
    client, control = _client(rate_limit=True, limit=Limit(rate=0.01, burst=1))
    headers = {"x-sandbox-bypass": "1"}
    assert all(client.get("/v1/things/a", headers=headers).status_code == 200 for _ in range(5))
    assert control.count() == 0


def test_clock_moves_forward() -> None:
    client, control = _client()
    before = control.clock.now()
    moved = client.post("/_sandbox/clock", json={"advance_seconds": 3600}).json()
    assert moved["offset_seconds"] == pytest.approx(3600)
    assert (control.clock.now() - before).total_seconds() >= 3600


def test_fault_draws_respect_probabilities() -> None:
    plan = FaultPlan.from_json({"status": {"500": 0.2}, "timeout": 0.1, "seed": 7})
    draws = [plan.draw() for _ in range(5000)]
    share_500 = sum(1 for d in draws if d and d[1] == 500) / len(draws)
    share_timeout = sum(1 for d in draws if d and d[0] == "timeout") / len(draws)
    assert 0.17 < share_500 < 0.23 and 0.08 < share_timeout < 0.12


def test_retry_after_is_whole_seconds_never_zero() -> None:
    assert TokenBucket.retry_after_header(0.01) == "1"
    assert TokenBucket.retry_after_header(2.2) == "3"


def test_exchanges_are_recorded_only_while_recording_faults_included() -> None:
    client, control = _client()
    client.get("/v1/things/a")  # before recording: not kept
    assert client.post("/_sandbox/exchanges", json={"record": True}).json() == {"recording": True, "exchanges": []}
    client.post("/v1/things/b?x=1&x=2", json={"name": "b"})
    control.faults = FaultPlan.from_json({"status": {"503": 1.0}})
    client.get("/v1/things/c")
    control.faults = FaultPlan()
    log = client.get("/_sandbox/exchanges").json()
    first, fault = log["exchanges"]
    assert (first["method"], first["path"], first["query"], first["status"]) == (
        "POST",
        "/v1/things/b",
        [["x", "1"], ["x", "2"]],
        200,
    )
    assert json.loads(first["request_body"]) == {"name": "b"} and json.loads(first["response_body"]) == {"ok": True}
    assert fault["status"] == 503 and json.loads(fault["response_body"])["code"] == "service_unavailable"
    client.post("/_sandbox/exchanges", json={"record": False})
    client.get("/v1/things/d")
    assert len(client.get("/_sandbox/exchanges").json()["exchanges"]) == 2
    control.reset()
    assert not control.exchanges.recording and control.exchanges.items() == []


def test_the_exchange_log_keeps_the_newest_and_summarises_uploads() -> None:
    log = ExchangeLog(limit=3)
    log.start()
    for i in range(5):
        log.add(Exchange("GET", f"/v1/x/{i}", [], "", "", 200, {}, "{}"))
    assert [e.path for e in log.stop()] == ["/v1/x/2", "/v1/x/3", "/v1/x/4"]
    form = (
        b'--B\r\nContent-Disposition: form-data; name="part_number"\r\n\r\n2\r\n'
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="c.png"\r\nContent-Type: image/png\r\n\r\n'
        + b"\x89PNG" * 1000
        + b"\r\n--B--\r\n"
    )
    assert json.loads(multipart_summary(form)) == {"part_number": "2", "file": {"filename": "c.png", "size": 4000}}

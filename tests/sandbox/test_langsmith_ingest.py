"""Ingestion fidelity: the real SDK payloads replayed through every upload path, read back with the SDK."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import zstandard
from langsmith_fixtures import *  # noqa: F403  (fixtures: ls_sandbox, ls, client, bg_client)
from langsmith_fixtures import QUIET, load_payloads

pytestmark = QUIET

# Expected per fixture: (model, prompt, completion, total tokens, prompt $/M, completion $/M, streamed)
EXPECTED = {
    "langsmith_py_wrap_openai_.json": ("gpt-4o-mini", 9, 9, 18, 0.15, 0.60, False),
    "langsmith_py_wrap_openai_reasoning.json": ("o1-mini", 43, 2497, 2540, 1.10, 4.40, False),
    "langsmith_py_wrap_openai_stream.json": ("gpt-4o-mini", 9, 9, 18, 0.15, 0.60, True),
    "langsmith_py_wrap_openai_stream_no_usage.json": ("gpt-4o-mini", 0, 0, 0, 0.15, 0.60, True),
}


def _check_run(run: Any, name: str, payload: dict[str, Any]) -> None:
    model, pt, ct, tt, pin, pout, streamed = EXPECTED[name]
    assert run.extra["metadata"]["ls_model_name"] == model
    assert (run.prompt_tokens, run.completion_tokens, run.total_tokens) == (pt, ct, tt)
    assert float(run.prompt_cost) == pytest.approx(pt * pin / 1e6)
    assert float(run.completion_cost) == pytest.approx(ct * pout / 1e6)
    assert float(run.total_cost) == pytest.approx((pt * pin + ct * pout) / 1e6)
    start = datetime.fromisoformat(payload["post"][0]["start_time"])
    end = datetime.fromisoformat(payload["patch"][0]["end_time"])
    assert run.latency == pytest.approx((end - start).total_seconds(), abs=1e-5)
    assert run.status == "success"
    assert (run.first_token_time is not None) == streamed
    assert run.outputs["choices"][0]["message"]["role"] == "assistant"


def test_replay_every_fixture_payload_batch(ls: Any, client: Any) -> None:
    payloads = load_payloads()
    assert set(payloads) == set(EXPECTED), "a new fixture needs its expectations here"
    replayed = 0
    for name, payload in payloads.items():
        client.batch_ingest_runs(create=payload["post"], update=payload["patch"])
        run = client.read_run(payload["post"][0]["id"])
        _check_run(run, name, payload)
        replayed += 1
    assert replayed == len(payloads) == 4


def test_replay_every_fixture_payload_multipart(ls: Any, client: Any) -> None:
    payloads = load_payloads()
    for payload in payloads.values():
        client.multipart_ingest(create=payload["post"], update=payload["patch"])
    runs = {str(r.id): r for r in client.list_runs(project_name="default")}
    assert len(runs) == len(payloads)
    for name, payload in payloads.items():
        _check_run(runs[str(payload["post"][0]["id"])], name, payload)
    assert ls.control.count("POST /runs/multipart") == len(payloads)


def test_single_post_and_patch_and_duplicate(ls: Any) -> None:
    payload = load_payloads()["langsmith_py_wrap_openai_.json"]
    h = {"x-api-key": ls.api_key}
    with httpx.Client(base_url=ls.base_url, headers=h) as http:
        assert http.post("/runs", json=payload["post"][0]).status_code == 202
        assert http.post("/runs", json=payload["post"][0]).status_code == 409
        rid = payload["post"][0]["id"]
        assert http.patch(f"/runs/{rid}", json=payload["patch"][0]).status_code == 202
        run = http.get(f"/runs/{rid}").json()
    assert run["total_tokens"] == 18 and run["status"] == "success"
    assert run["start_time"] == "2024-10-11T20:58:23.298773"  # naive UTC, as LangSmith returns it


def test_patch_before_post_is_held(ls: Any, client: Any) -> None:
    payload = load_payloads()["langsmith_py_wrap_openai_.json"]
    client.batch_ingest_runs(update=payload["patch"])
    client.batch_ingest_runs(create=payload["post"])
    run = client.read_run(payload["post"][0]["id"])
    assert run.total_tokens == 18 and run.end_time is not None


def _multipart(parts: list[tuple[str, bytes, str]], boundary: str = "bnd42") -> tuple[bytes, str]:
    out = b""
    for name, data, ctype in parts:
        out += (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n'
                f"Content-Type: {ctype}\r\nContent-Length: {len(data)}\r\n\r\n"
            ).encode()
            + data
            + b"\r\n"
        )
    return out + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def test_js_style_multipart_zstd_under_api_v1(ls: Any, client: Any) -> None:
    """What the JS SDK sends: epoch-ms times, fields as separate parts, an attachment, a feedback part."""
    rid, t0 = str(uuid.uuid4()), datetime(2025, 3, 1, 12, tzinfo=UTC)
    run = {
        "id": rid,
        "name": "ChatAnthropic",
        "run_type": "llm",
        "start_time": int(t0.timestamp() * 1000),
        "session_name": "js-project",
        "trace_id": rid,
        "dotted_order": f"{t0:%Y%m%dT%H%M%S%f}Z{rid}",
    }
    outputs = {
        "usage_metadata": {
            "input_tokens": 1000,
            "output_tokens": 100,
            "total_tokens": 1100,
            "input_token_details": {"cache_read": 400},
        }
    }
    extra = {"metadata": {"ls_provider": "anthropic", "ls_model_name": "claude-sonnet-4-20250514"}}
    fb = {"id": str(uuid.uuid4()), "run_id": rid, "trace_id": rid, "key": "helpful", "score": 1}
    body, ctype = _multipart(
        [
            (f"post.{rid}", json.dumps(run).encode(), "application/json"),
            (f"post.{rid}.inputs", b'{"messages": []}', "application/json"),
            (f"post.{rid}.outputs", json.dumps(outputs).encode(), "application/json"),
            (f"post.{rid}.extra", json.dumps(extra).encode(), "application/json"),
            (
                f"patch.{rid}",
                json.dumps({"end_time": (t0 + timedelta(seconds=2)).isoformat()}).encode(),
                "application/json",
            ),
            (f"attachment.{rid}.image", b"\x89PNG....", "image/png"),
            (f"feedback.{fb['id']}", json.dumps(fb).encode(), "application/json"),
        ]
    )
    headers = {"x-api-key": ls.api_key, "content-type": ctype, "content-encoding": "zstd"}
    r = httpx.post(f"{ls.base_url}/api/v1/runs/multipart", content=zstandard.compress(body), headers=headers)
    assert r.status_code == 202, r.text
    got = client.read_run(rid)
    # 600 uncached at $3/M + 400 cache reads at $0.30/M; 100 output at $15/M
    assert float(got.prompt_cost) == pytest.approx((600 * 3 + 400 * 0.3) / 1e6)
    assert float(got.completion_cost) == pytest.approx(100 * 15 / 1e6)
    assert got.latency == pytest.approx(2.0)
    assert got.attachments["image"]["reader"].read() == b"\x89PNG...."
    assert got.feedback_stats["helpful"]["n"] == 1


def test_openai_usage_shape_and_direct_costs(ls: Any, client: Any) -> None:
    base = load_payloads()["langsmith_py_wrap_openai_.json"]
    a, b = copy.deepcopy(base), copy.deepcopy(base)
    new = str(uuid.uuid4())
    a["post"][0]["id"] = a["patch"][0]["id"] = a["post"][0]["trace_id"] = a["patch"][0]["trace_id"] = new
    a["post"][0]["dotted_order"] = a["patch"][0]["dotted_order"] = "20241011T205823298773Z" + new
    a["patch"][0]["outputs"] = {"usage": {"prompt_tokens": 1000, "completion_tokens": 1000, "total_tokens": 2000}}
    b["patch"][0]["outputs"]["usage_metadata"].update(input_cost=0.5, output_cost=0.25, total_cost=0.75)
    client.batch_ingest_runs(create=a["post"] + b["post"], update=a["patch"] + b["patch"])
    ra, rb = client.read_run(a["post"][0]["id"]), client.read_run(b["post"][0]["id"])
    assert ra.total_tokens == 2000 and float(ra.total_cost) == pytest.approx(1000 * 0.75 / 1e6)
    assert (float(rb.prompt_cost), float(rb.completion_cost), float(rb.total_cost)) == (0.5, 0.25, 0.75)


def test_price_map_is_configurable(ls: Any, client: Any) -> None:
    ls.set_prices({"gpt-4o-mini": (1.0, 2.0)})
    payload = load_payloads()["langsmith_py_wrap_openai_.json"]
    client.batch_ingest_runs(create=payload["post"], update=payload["patch"])
    assert float(client.read_run(payload["post"][0]["id"]).total_cost) == pytest.approx((9 * 1 + 9 * 2) / 1e6)


def test_bad_payloads_are_422(ls: Any) -> None:
    h = {"x-api-key": ls.api_key}
    with httpx.Client(base_url=ls.base_url, headers=h) as http:
        assert http.post("/runs", json={"id": "nope", "name": "x", "run_type": "llm"}).status_code == 422
        assert http.post("/runs/batch", json={"post": [{"id": str(uuid.uuid4())}]}).status_code == 422
        assert http.post("/runs/batch", content=b"{", headers={"content-type": "application/json"}).status_code == 422
        unknown = {"id": str(uuid.uuid4()), "name": "x", "run_type": "llm", "session_id": str(uuid.uuid4())}
        assert http.post("/runs", json=unknown).status_code == 404

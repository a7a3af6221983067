"""Auth, rate limits (429 + Retry-After), faults, admin reset, /api/v1 paths and persistence across restart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import langsmith
import pytest
from langsmith_fixtures import *  # noqa: F403  (fixtures: ls_sandbox, ls, client, bg_client)
from langsmith_fixtures import QUIET, load_payloads, make_client

from notion_feedback.sandbox.ratelimit import Limit
from notion_feedback.sandbox.server import Sandbox, SandboxOptions

pytestmark = QUIET


def test_auth(ls: Any) -> None:
    bad = langsmith.Client(api_url=ls.base_url, api_key="wrong", auto_batch_tracing=False)
    with pytest.raises(langsmith.utils.LangSmithAuthError):
        list(bad.list_projects())
    assert httpx.get(f"{ls.base_url}/info").status_code == 200  # keyless, like the real one
    r = httpx.get(f"{ls.base_url}/sessions", headers={"X-API-KEY": "wrong"})
    assert (r.status_code, r.json()) == (401, {"detail": "Invalid token"})
    assert httpx.get(f"{ls.base_url}/sessions", headers={"authorization": f"Bearer {ls.api_key}"}).status_code == 200


def test_api_v1_prefixed_client(ls: Any) -> None:
    c = langsmith.Client(api_url=ls.base_url + "/api/v1", api_key=ls.api_key, auto_batch_tracing=False)
    payload = load_payloads()["langsmith_py_wrap_openai_.json"]
    c.batch_ingest_runs(create=payload["post"], update=payload["patch"])
    assert [r.total_tokens for r in c.list_runs(project_name="default")] == [18]
    assert ls.control.count("POST /api/v1/runs/query") == 1


def test_rate_limits_429_with_retry_after(ls: Any, client: Any) -> None:
    client.create_project("rl")
    ls.set_rate_limits(True, runs_stats=Limit.per_window(1, 10))
    body = {"session": [str(client.read_project(project_name="rl").id)]}
    h = {"x-api-key": ls.api_key}
    assert httpx.post(f"{ls.base_url}/runs/stats", json=body, headers=h).status_code == 200
    r = httpx.post(f"{ls.base_url}/runs/stats", json=body, headers=h)
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1 and "detail" in r.json()
    assert ls.control.limits["runs_query"] == Limit.per_window(15, 10)  # documented defaults
    assert ls.control.limits["feedback"] == Limit.per_window(2000, 10)
    assert ls.control.limits["runs_read"] == Limit.per_window(30, 60)
    ls.set_rate_limits(False)
    assert httpx.post(f"{ls.base_url}/runs/stats", json=body, headers=h).status_code == 200


def test_faults_and_reset(ls: Any, client: Any) -> None:
    admin = httpx.Client(base_url=ls.base_url, headers={"Authorization": f"Bearer {ls.control.admin_token}"})
    assert admin.post("/_sandbox/faults", json={"status": {"500": 1.0}}).status_code == 200
    c = make_client(ls, auto_batch_tracing=False, retry_config=None)
    with pytest.raises(langsmith.utils.LangSmithError):
        c.create_project("faulty")
    admin.post("/_sandbox/faults", json={})
    client.create_project("kept")
    assert admin.get("/_sandbox/stats").json()["total"] > 0
    admin.post("/_sandbox/reset", json={})
    assert list(client.list_projects()) == []


def test_persistence_across_restart(tmp_path: Path) -> None:
    payload = load_payloads()["langsmith_py_wrap_openai_.json"]
    opts = SandboxOptions(notion=False, rate_limit=False, data_dir=tmp_path)
    with Sandbox(opts) as sb:
        c = make_client(sb.langsmith, auto_batch_tracing=False)
        c.batch_ingest_runs(create=payload["post"], update=payload["patch"])
        pid = c.read_project(project_name="default").id
        c.create_feedback(payload["post"][0]["id"], "k", score=1, session_id=pid)
    assert (tmp_path / "langsmith.sqlite3").exists()
    with Sandbox(opts) as sb:
        c = make_client(sb.langsmith, auto_batch_tracing=False)
        run = c.read_run(payload["post"][0]["id"])
        assert run.total_tokens == 18 and run.feedback_stats["k"]["n"] == 1
        assert c.read_project(project_name="default").id == pid

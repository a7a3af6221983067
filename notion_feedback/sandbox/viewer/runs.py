"""The LangSmith app's run page, as the workspace viewer shows it: what a row's Trace link opens on the sandbox.

The sandbox prints ``LANGSMITH_WEB_URL`` as the viewer's ``/langsmith`` path, so the trace URLs the product builds
(``{web_url}/o/{tenant}/projects/p/{project}/r/{run}?trace_id=…&start_time=…``, the SDK's own form) land here.
The run, the runs of its trace and its feedback are read from the LangSmith emulator's public API, in-process on
its ASGI app (never at an address a request could name), with ``X-Sandbox-Bypass: 1`` so looking is not counted.
Everything shown is text the template escapes; nothing of a run becomes a link but the viewer's own run pages.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from notion_feedback.sandbox.viewer.format import format_number

RUN_PATH = "/langsmith/o/{tenant}/projects/p/{project}/r/{run_id}"
MAX_TRACE_RUNS = 100  # one page of /runs/query: a trace's spans as the run page lists them


class RunNotFound(Exception):
    """The run (or the LangSmith emulator) is not there: the viewer answers 404 with these words."""


class SmithApi:
    """The LangSmith emulator's HTTP API, in-process, with its API key; one client per request."""

    def __init__(self, emulator: Any) -> None:
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=emulator.asgi),
            base_url="http://langsmith.sandbox.invalid",
            timeout=30,
            headers={"x-api-key": emulator.api_key, "X-Sandbox-Bypass": "1"},
        )

    async def __aenter__(self) -> SmithApi:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()

    async def get(self, path: str, **params: Any) -> Any:
        response = await self.client.get(path, params=params)
        if response.status_code == 404:
            raise RunNotFound("LangSmith has no such run")
        response.raise_for_status()
        return response.json()

    async def query(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        response = await self.client.post("/api/v1/runs/query", json=body)
        response.raise_for_status()
        return response.json().get("runs") or []


def _run_uuid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise RunNotFound("this is not a run id") from None


def _pretty(value: Any) -> str:
    return "" if value is None else json.dumps(value, indent=2, ensure_ascii=False, default=str)


def _depth(run: dict[str, Any]) -> int:
    return max(0, str(run.get("dotted_order") or "").count("."))


def _latency(run: dict[str, Any]) -> float | None:
    """Seconds from start to end (LangSmith's run answer has the two times, not their difference)."""
    try:
        start = datetime.fromisoformat(str(run["start_time"]).replace("Z", "+00:00"))
        end = datetime.fromisoformat(str(run["end_time"]).replace("Z", "+00:00"))
    except (KeyError, TypeError, ValueError):
        return None
    return (end - start).total_seconds()


def _summary(run: dict[str, Any]) -> dict[str, Any]:
    """The figures of one run, as display text."""
    cost = run.get("total_cost")
    latency = _latency(run)
    return {
        "status": run.get("status") or "",
        "type": run.get("run_type") or "",
        "start": str(run.get("start_time") or "").replace("T", " ")[:23],
        "latency": f"{float(latency):.2f} s" if latency is not None else "",
        "tokens": f"{int(run.get('total_tokens') or 0):,}",
        "prompt_tokens": f"{int(run.get('prompt_tokens') or 0):,}",
        "completion_tokens": f"{int(run.get('completion_tokens') or 0):,}",
        "cost": f"${float(cost):.6f}".rstrip("0").rstrip(".") if cost is not None else "",
    }


def _feedback_row(fb: dict[str, Any]) -> dict[str, str]:
    score, value = fb.get("score"), fb.get("value")
    shown = format_number(score, "number") if isinstance(score, (int, float)) and not isinstance(score, bool) else ""
    return {
        "key": str(fb.get("key") or ""),
        "score": shown,
        "value": "" if value is None else str(value),
        "comment": str(fb.get("comment") or ""),
        "source": str((fb.get("feedback_source") or {}).get("type") or ""),
    }


async def run_context(emulator: Any, tenant: str, project: str, run_id: str, link: Callable[[str], str]) -> dict:
    """What the run page shows: the run, its figures, its feedback and the runs below it in its trace.

    ``link`` turns a run id into the viewer's page for it (same tenant and project).
    """
    if emulator is None:
        raise RunNotFound("the LangSmith emulator is not running in this sandbox")
    run_id = _run_uuid(run_id)
    async with SmithApi(emulator) as api:
        run = await api.get(f"/api/v1/runs/{run_id}")
        if str(run.get("session_id")) != _run_uuid(project):
            raise RunNotFound("this run is not in that project")
        trace = await api.query({"trace": run.get("trace_id") or run_id, "limit": MAX_TRACE_RUNS})
        feedback = await api.get("/api/v1/feedback", run=run_id, limit=100)
    prefix = f"{run.get('dotted_order') or ''}."
    below = sorted((r for r in trace if str(r.get("dotted_order") or "").startswith(prefix)), key=_dotted)
    top = _depth(run)
    children = [
        {
            "name": str(r.get("name") or ""),
            "href": link(str(r["id"])),
            "indent": _depth(r) - top - 1,
            "error": str(r.get("error") or ""),
            **_summary(r),
        }
        for r in below
    ]
    parent = run.get("parent_run_id")
    return {
        "title": str(run.get("name") or "Run"),
        "run": run,
        "tenant": tenant,
        "figures": _summary(run),
        "inputs": _pretty(run.get("inputs")),
        "outputs": _pretty(run.get("outputs")),
        "error": str(run.get("error") or ""),
        "feedback": [_feedback_row(f) for f in feedback],
        "children": children,
        "parent_href": link(str(parent)) if parent else None,
    }


def _dotted(run: dict[str, Any]) -> str:
    return str(run.get("dotted_order") or "")


def run_link(root: str, tenant: str, project: str) -> Callable[[str], str]:
    """Run id -> the viewer's run page for it, in the same form as the trace URLs (path segments quoted)."""
    base = f"{root}/langsmith/o/{quote(tenant, safe='')}/projects/p/{quote(project, safe='')}/r/"
    return lambda run_id: base + quote(run_id, safe="")

"""The newest Notion API version is one setting away: every flow of the product works on 2026-03-11, where
objects carry ``in_trash`` and no ``archived``."""

from __future__ import annotations

from typing import Any

import pytest
from sdk_flows import product_flows

from notion_feedback import testing
from notion_feedback.testing import make_world

NEWEST = "2026-03-11"


def _with_archived(value: Any, where: str = "") -> list[str]:
    if isinstance(value, dict):
        found = [where or "."] if "archived" in value else []
        return found + [p for k, v in value.items() for p in _with_archived(v, f"{where}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _with_archived(v, f"{where}[{i}]")]
    return []


def test_every_flow_runs_on_the_newest_api_version(sandbox, settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTION_FEEDBACK_NOTION_API_VERSION", NEWEST)  # the CLI's commands
    monkeypatch.setattr(testing, "NOTION_VERSION", NEWEST)  # the people who rate rows
    sandbox.notion.control.exchanges.start()
    world = make_world(sandbox, settings.model_copy(update={"notion_api_version": NEWEST}))  # init, recorder
    product_flows(world, sandbox, monkeypatch)
    exchanges = sandbox.notion.control.exchanges.stop()
    assert len(exchanges) > 50
    assert [e for e in exchanges if e.status >= 400 and e.status != 429] == []
    answered = [(f"{e.method} {e.path}", p) for e in exchanges for p in _with_archived(e.response_json())]
    assert answered == [], "an answer in the 2025-09-03 shape: a request did not send the setting's version"
    wanted = {k: v for k, v in world.expected_feedback().items() if v["run_id"] != "not-a-run-id"}
    synced = world.feedback()  # (the reports' fixtures trace feedback of their own too)
    assert len(wanted) == 2
    assert {k: synced.get(k) for k in wanted} == wanted

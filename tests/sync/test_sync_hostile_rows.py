"""What people type into a row reaches LangSmith as they typed it, at and over Notion's limits and whatever it holds:
comments of one run and of many (up to the property's 100 runs of 2,000 characters), markup, bidi controls,
zero-width and astral characters; a Run ID too long to be one is written back as a problem the row can show."""

from __future__ import annotations

from typing import Any

import pytest

from notion_feedback.notion.limits import MAX_RUNS, MAX_TEXT_CHARS
from notion_feedback.notion.schema import SYNC_ERROR
from notion_feedback.sync.engine import run_sync
from notion_feedback.testing import World, make_world

BIDI = "\u202eevil\u202c \u2066isolated\u2069 \u200f"
MARKUP = "<script>alert(1)</script> **bold** [link](javascript:alert(1)) `code` | a | b |\n# heading\n> quote"


@pytest.fixture()
def world(sandbox, settings) -> World:
    return make_world(sandbox, settings)


def _runs(text: str) -> list[dict[str, Any]]:
    return [
        {"type": "text", "text": {"content": text[i : i + MAX_TEXT_CHARS]}} for i in range(0, len(text), MAX_TEXT_CHARS)
    ]


def _row(world: World, run_id: str, comment: str) -> str:
    """A person's row whose comment is ``comment`` in as many runs as it takes (Notion's own split)."""
    props = world.row_properties(run_id, rating="2")
    props[world.prop("comment")] = {"rich_text": _runs(comment)}
    return world.request("POST", "/v1/pages", {"parent": {"data_source_id": world.ds_id}, "properties": props})["id"]


COMMENTS = {
    "one full run": "a" * MAX_TEXT_CHARS,
    "one over a run": "b" * (MAX_TEXT_CHARS + 1),
    "every run full": ("c" * 1999 + "é") * MAX_RUNS,
    "markup": MARKUP,
    "bidi and zero-width": BIDI + "\u200b\u2060" + "👍🏽" * 10,
}


def test_hostile_and_long_comments_reach_langsmith_whole(world: World) -> None:
    run_ids = world.trace_runs(len(COMMENTS))
    pages = {name: _row(world, run_id, text) for (name, text), run_id in zip(COMMENTS.items(), run_ids, strict=True)}
    summary = run_sync(world.settings)
    assert summary.errors == 0 and summary.created == len(COMMENTS)
    feedback = world.feedback()
    for name, page in pages.items():
        assert feedback[world.fid(page)]["comment"] == COMMENTS[name], name
    assert world.feedback() == world.expected_feedback()
    assert all(world.shown(page) == (None, "") for page in pages.values())


def test_a_run_id_far_too_long_is_a_problem_on_the_row_in_one_run(world: World) -> None:
    page = world.add_row("9" * 5000, rating="4")
    summary = run_sync(world.settings)
    assert summary.errors == 1 and world.feedback() == {}
    status, error = world.shown(page)
    assert status == SYNC_ERROR and "Run ID" in error and len(error) <= MAX_TEXT_CHARS, error

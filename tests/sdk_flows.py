"""The product's Notion traffic, flow by flow, and a tour of every emulated route and error path.

``product_flows`` does what a team does in its first days: ``init``, ``doctor``, an agent recording interactions
(an error among them, and a question too long for one request), people rating rows, ``sync`` and ``sync --full``,
``learn`` and ``evaluate``, the daily report (with charts and an alert comment) and the weekly rollup, the
daemon's jobs, ``status``.
``emulator_tour`` calls what the product does not (yet), in the SDK's own shapes, and the error paths: an
unknown URL, a wrong token, a malformed body, an unknown id, a value over a limit, a rate limit, injected
faults. ``tests/sandbox/test_sdk_types.py`` records both and type-checks every exchange.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from cli_support import set_cli_env
from report_helpers import Interaction, trace
from typer.testing import CliRunner

from notion_feedback.capture import Recorder, interaction
from notion_feedback.cli.app import app
from notion_feedback.testing import NOTION_VERSION, World

QUESTIONS = ["Where is my order?", "Can I change the delivery address?", "Why was I charged twice?"]


def _cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    print(f"$ notion-feedback {' '.join(args)}\n{result.output}")
    assert result.exit_code in (0, 1), result.output  # 1: a check that found something (doctor, status)
    return result.output


def cli_env(world: World, sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's environment on the world's workspace, with budgets that never slow the test down."""
    settings = world.settings
    set_cli_env(settings, sandbox, monkeypatch, world.ds_id, settings.reports_data_source_id or "")


def record_interactions(world: World) -> None:
    """An agent answers four questions through the capture API: one fails, one question is very long."""
    questions = [*QUESTIONS, "Please read my whole complaint: " + "the parcel never came. " * 1500]
    with Recorder(world.settings) as recorder:
        for i, question in enumerate(questions):
            it = interaction("support-agent", variant="AB"[i % 2], model="gpt-4o-mini", user_id=f"user-{i}")
            try:
                with it:
                    it.end({"answer": f"answer {i}"})
                    if i == 1:
                        raise RuntimeError("the order service timed out")
            except RuntimeError:
                pass
            recorder.record(it, question=question, answer=f"answer {i}")
        assert recorder.flush(timeout=60)


def rate_rows(world: World) -> None:
    """People rate rows in Notion, one with a comment, and clear one rating again."""
    rows = list(world.rows())
    assert len(rows) >= 4
    world.edit(rows[0]["id"], rating="5", comment="quick and right")
    world.edit(rows[1]["id"], rating="1", comment="it failed")
    world.edit(rows[2]["id"], rating="3")
    world.edit(rows[2]["id"], rating=None)
    world.add_row("not-a-run-id", rating="4")  # the sync writes the problem on the row


def rows_rated_first(world: World) -> str:
    """The page id of a row the first sync sent to LangSmith."""
    return next(r["id"] for r in world.rows() if r["properties"][world.prop("rating")]["select"])


def product_flows(world: World, sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every flow of the product that talks to Notion, through its commands and its capture API."""
    cli_env(world, sandbox, monkeypatch)
    _cli("doctor")
    record_interactions(world)
    rate_rows(world)
    _cli("sync")
    monkeypatch.setenv("NOTION_FEEDBACK_SYNC_STATUS_WRITEBACK", "all")  # mark every synced row "Synced"
    world.edit(rows_rated_first(world), rating="4")
    _cli("sync", "--full")
    _cli("learn")  # the datasets and the review queue from the ratings
    monkeypatch.setenv("NOTION_FEEDBACK_PARENT_PAGE_ID", world.settings.parent_page_id or "")
    _cli("evaluate", "--target", "notion_feedback.demo.candidate:answer")  # an experiment, and its Notion page
    yesterday = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=1)
    trace(
        world.settings,
        [Interaction(yesterday + timedelta(minutes=i), 0.5 + i, 400, 0.002, rating=2, error=i == 0) for i in range(4)],
    )
    _cli("report", "--date", yesterday.date().isoformat())
    _cli("report", "--date", yesterday.date().isoformat())  # the same period again: an update, not a new page
    _cli("report", "--period", "week", "--date", yesterday.date().isoformat())
    from jobs import drain_spool, learn, sync_ratings, verify_ratings

    for job in (sync_ratings, verify_ratings, drain_spool, learn):
        job.run()
    _cli("status")


def _call(world: World, method: str, path: str, body: Any = None, **headers: str) -> httpx.Response:
    """One raw request to the Notion emulator as the integration (``headers`` override the defaults)."""
    sent = {"Authorization": f"Bearer {world.notion_token}", "Notion-Version": NOTION_VERSION} | {
        k.replace("_", "-"): v for k, v in headers.items()
    }
    content = body if isinstance(body, bytes) else None
    return httpx.request(
        method,
        f"{world.notion_url}{path}",
        json=None if content is not None else body,
        content=content,
        headers=sent | ({"Content-Type": "application/json"} if content is not None else {}),
        timeout=30,
    )


def error_paths(world: World, sandbox: Any) -> None:
    """What the emulator answers when a request is wrong, or the service will not take it."""
    unknown = "0" * 8 + "-0000-4000-8000-" + "0" * 12
    assert _call(world, "GET", "/v1/nothing-here").status_code == 400  # invalid_request_url
    assert _call(world, "GET", "/v1/users/me", Authorization="Bearer wrong").status_code == 401
    assert _call(world, "POST", "/v1/pages", b"{not json").status_code == 400  # invalid_json
    assert _call(world, "GET", f"/v1/pages/{unknown}").status_code == 404
    too_long = {"type": "text", "text": {"content": "x" * 2001}}
    body = {"parent": {"data_source_id": world.ds_id}, "properties": {"Question": {"title": [too_long]}}}
    assert _call(world, "POST", "/v1/pages", body).status_code == 400  # validation_error
    assert _call(world, "POST", f"/v1/data_sources/{world.ds_id}/query", {"page_size": 101}).status_code == 400
    control = sandbox.notion.control
    control.faults = type(control.faults).from_json({"status": {"503": 1.0}})
    assert _call(world, "GET", "/v1/users/me").status_code == 503
    control.faults = type(control.faults).from_json({"status": {"500": 1.0}})
    assert _call(world, "GET", "/v1/users/me").status_code == 500
    control.faults = type(control.faults).from_json({"storm_seconds": 5})
    assert _call(world, "GET", "/v1/users/me").status_code == 429
    control.faults = type(control.faults).from_json({})


def plain(rich: list[dict[str, Any]]) -> str:
    return "".join(t["plain_text"] for t in rich)


def _text(content: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": {"content": content}}]


def emulator_tour(world: World) -> None:
    """Each emulated route the product's flows leave out, called as the SDK's types declare it."""
    n = world.notion
    me = n.users.me()
    n.users.list(page_size=10)
    n.users.retrieve(me["id"])
    row = world.add_row(None, rating="4", comment="tour")
    n.pages.retrieve(row, filter_properties=[world.settings.property_map.get("rating", "Rating")])
    title = n.pages.retrieve(row)["properties"]
    n.pages.properties.retrieve(row, next(p["id"] for p in title.values() if p["type"] == "title"))
    parent = world.settings.parent_page_id
    page = n.pages.create(parent={"page_id": parent}, properties={"title": {"title": _text("Tour")}})
    n.request(path=f"pages/{page['id']}/markdown", method="GET")
    n.request(
        path=f"pages/{page['id']}/markdown",
        method="PATCH",
        body={"type": "insert_content", "insert_content": {"content": "Hello **tour**", "position": {"type": "end"}}},
    )
    other = n.pages.create(parent={"page_id": parent}, properties={"title": {"title": _text("Tour 2")}})
    n.request(path=f"pages/{other['id']}/move", method="POST", body={"parent": {"page_id": page["id"]}})
    appended = n.blocks.children.append(page["id"], children=[{"paragraph": {"rich_text": _text("a")}}])
    block = appended["results"][0]["id"]
    n.blocks.retrieve(block)
    n.blocks.update(block, paragraph={"rich_text": _text("b")})
    n.blocks.children.list(page["id"], page_size=5)
    n.blocks.delete(block)
    comment = n.comments.create(parent={"page_id": page["id"]}, rich_text=_text("a note"))
    n.comments.list(block_id=page["id"])
    n.comments.retrieve(comment["id"])
    n.comments.update(comment["id"], markdown="a **revised** note")
    n.comments.delete(comment["id"])
    n.data_sources.list_templates(world.ds_id, page_size=10)
    noted = n.pages.create(
        parent={"page_id": parent}, properties={"title": {"title": _text("Md")}}, markdown="# A\n\nb"
    )
    for body in (
        {"type": "update_content", "update_content": {"content_updates": [{"old_str": "b", "new_str": "c"}]}},
        {"type": "replace_content_range", "replace_content_range": {"content": "d", "content_range": "c"}},
        {"type": "replace_content", "replace_content": {"new_str": "# A\n\ne", "allow_deleting_content": True}},
    ):
        n.request(path=f"pages/{noted['id']}/markdown", method="PATCH", body=body)
    image = f"{world.notion_url}/_files/none/missing.png"  # the import fails: a failed upload's shape too
    imported = n.file_uploads.create(mode="external_url", filename="copy.png", external_url=image)
    n.file_uploads.retrieve(imported["id"])
    n.search(query="Tour", filter={"property": "object", "value": "page"}, page_size=5)
    ds = n.data_sources.retrieve(world.ds_id)
    n.databases.retrieve(ds["parent"]["database_id"])
    n.databases.update(ds["parent"]["database_id"], description=_text("Ratings of the agent's answers"))
    n.data_sources.update(world.ds_id, title=_text(plain(ds["title"])))
    db = n.databases.create(
        parent={"type": "page_id", "page_id": parent},
        title=_text("Tour database"),
        initial_data_source={"properties": {"Name": {"title": {}}}},
    )
    n.data_sources.create(
        parent={"type": "database_id", "database_id": db["id"]},
        title=_text("Second source"),
        properties={"Name": {"title": {}}, "Score": {"number": {"format": "number"}}},
    )
    n.data_sources.query(world.ds_id, filter={"property": "Rating", "select": {"equals": "4"}}, page_size=10)
    n.pages.update(row, properties={"Comment": {"rich_text": _text("tour, edited")}})
    upload = n.file_uploads.create(mode="multi_part", filename="big.txt", content_type="text/plain", number_of_parts=1)
    n.file_uploads.send(upload["id"], file=("big.txt", b"x" * 10, "text/plain"), part_number="1")
    n.file_uploads.complete(upload["id"])
    n.file_uploads.retrieve(upload["id"])
    n.file_uploads.list(page_size=5)
    view = n.request(path="views", method="POST", body={"data_source_id": world.ds_id, "name": "Tour", "type": "table"})
    views = n.request(path="views", method="GET", query={"data_source_id": world.ds_id})
    n.request(path=f"views/{view['id']}", method="GET")
    n.request(path=f"views/{view['id']}", method="PATCH", body={"name": "Tour, renamed"})
    n.request(path=f"views/{view['id']}", method="DELETE")
    assert [v["id"] for v in views["results"]] == [view["id"]]

"""A row Notion refuses for good is parked with its reason, said by `status` and `doctor`, never sent again by
itself (not at the next recorder start either), and written, whole, after the cause is fixed and
`notion-feedback spool --retry`."""

from __future__ import annotations

import pytest
from sdk_flows import cli_env
from typer.testing import CliRunner

from notion_feedback.capture import Recorder, interaction
from notion_feedback.capture.spool import SPOOL_FILE, read_summary
from notion_feedback.cli.app import app
from notion_feedback.testing import World, make_world


@pytest.fixture()
def world(sandbox, settings) -> World:
    return make_world(sandbox, settings)


def _rename(world: World, old: str, new: str) -> None:
    """A person renames a property of the Feedback data source in Notion."""
    world.request("PATCH", f"/v1/data_sources/{world.ds_id}", {"properties": {old: {"name": new}}})


def _record(world: World, question: str) -> str:
    with Recorder(world.settings) as recorder:
        with interaction("agent") as it:
            it.end({"answer": "42"})
        recorder.record(it, question=question, answer="42")
        recorder.flush(timeout=30)
    return it.run_id


def _cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert "Traceback" not in result.output
    return result.output


def test_a_refused_row_is_parked_shown_and_sent_after_retry(world: World, sandbox, monkeypatch) -> None:
    cli_env(world, sandbox, monkeypatch)
    run_id_prop = world.prop("run_id")
    _rename(world, run_id_prop, "Run")  # the rows' Run ID property is gone: Notion refuses every new row
    question = "Where is my parcel? " * 300
    run_id = _record(world, question)
    tries = sandbox.notion.control.count("POST /v1/pages")
    summary = read_summary(world.settings.home / SPOOL_FILE)
    assert summary is not None and summary.failed == 1 and summary.waiting == 0
    [(reason, n)] = summary.reasons
    assert n == 1
    assert run_id_prop in reason and "not a property that exists" in reason

    status = _cli("status")
    assert "1 parked" in status and run_id_prop in status and "spool --retry" in status
    doctor = _cli("doctor")
    assert "1 rows parked" in doctor and "notion-feedback spool --retry" in " ".join(doctor.split())

    _record(world, "another question")  # a recorder starting again does not resend the parked row
    assert sandbox.notion.control.count("POST /v1/pages") == tries + 1
    assert read_summary(world.settings.home / SPOOL_FILE).failed == 2  # type: ignore[union-attr]

    _rename(world, "Run", run_id_prop)  # fixed
    out = _cli("spool", "--retry")
    assert "retried 2 parked rows: 2 rows now in Notion" in " ".join(out.split()), out
    rows = {world.run_id_of(r): r for r in world.rows()}
    assert run_id in rows and len(rows) == 2
    body = world.notion.blocks.children.list(rows[run_id]["id"])["results"]
    kept = "".join(t["plain_text"] for b in body for t in b.get(b["type"], {}).get("rich_text", []))
    title = "".join(t["plain_text"] for t in rows[run_id]["properties"][world.prop("question")]["title"])
    assert question.strip() in title + kept  # nothing of the parked row was lost
    assert read_summary(world.settings.home / SPOOL_FILE).failed == 0  # type: ignore[union-attr]


def test_a_transient_refusal_is_retried_not_parked(world: World, sandbox) -> None:
    sandbox.notion.control.faults = type(sandbox.notion.control.faults).from_json({"status": {"503": 0.5}, "seed": 3})
    _record(world, "is this retried?")
    assert sandbox.notion.control.count("POST /v1/pages", status=503) > 0
    sandbox.notion.control.faults = type(sandbox.notion.control.faults).from_json({})
    with Recorder(world.settings) as recorder:
        assert recorder.flush(timeout=30)
    summary = read_summary(world.settings.home / SPOOL_FILE)
    assert summary is not None and summary.failed == 0 and summary.waiting == 0
    assert len(list(world.rows())) == 1

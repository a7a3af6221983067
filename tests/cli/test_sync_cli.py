"""``notion-feedback sync``: the summary table, the requests per service, and --dry-run writing nothing."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from notion_feedback.cli.app import app
from notion_feedback.testing import make_world


def _point_cli_at(world, sandbox, monkeypatch) -> None:
    """The CLI reads its settings from the environment: point it at this test's workspace."""
    env = sandbox.env() | {
        "LANGSMITH_PROJECT": world.settings.langsmith_project,
        "NOTION_FEEDBACK_HOME": str(world.settings.home),
        "NOTION_FEEDBACK_FEEDBACK_DATA_SOURCE_ID": world.ds_id,
    }
    if world.settings.state_url:
        env["NOTION_FEEDBACK_STATE_URL"] = world.settings.resolved_state_url
    for key, value in env.items():
        monkeypatch.setenv(key, value)


def test_sync_command_prints_summary_and_requests(sandbox, settings, monkeypatch) -> None:
    world = make_world(sandbox, settings)
    run = world.trace_runs(1)[0]
    world.add_row(run, rating="5")
    world.add_row("oops", rating="5")
    _point_cli_at(world, sandbox, monkeypatch)
    runner = CliRunner()
    dry = runner.invoke(app, ["sync", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "dry run" in dry.output and "would be created" in dry.output
    assert world.feedback() == {}
    result = runner.invoke(app, ["sync"])
    assert result.exit_code == 0, result.output
    for word in ("created", "updated", "removed", "unchanged", "errors", "Notion requests", "LangSmith requests"):
        assert word in result.output
    assert "is not a LangSmith run id" in result.output
    assert len(world.feedback()) == 1


def test_row_content_with_console_markup_is_printed_as_text(sandbox, settings, monkeypatch) -> None:
    """A Run ID or rating written by any Notion user is shown as typed, never read as console markup."""
    world = make_world(sandbox, settings)
    world.add_row("[/red] [bold]x[/bold] [link=javascript:alert(1)]", rating="5")
    _point_cli_at(world, sandbox, monkeypatch)
    for args in (["sync"], ["sync", "--full"], ["sync", "--dry-run"]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        assert "Traceback" not in result.output and "MarkupError" not in result.output
        assert "[/red] [bold]x[/bold]" in result.output


def _last_runs(runner: CliRunner) -> dict:
    result = runner.invoke(app, ["status", "--json"])
    assert result.exit_code == 0, result.output
    return {job["id"]: job["last_run"] for job in json.loads(result.stdout)["jobs"]}


def test_status_after_a_one_off_sync_shows_its_run(sandbox, settings, monkeypatch) -> None:
    """`sync` is a run of the daemon's job: `status` shows when it ran and what it did, not "never run"."""
    world = make_world(sandbox, settings)
    for run in world.trace_runs(2):
        world.add_row(run, rating="4")
    _point_cli_at(world, sandbox, monkeypatch)
    runner = CliRunner()
    assert runner.invoke(app, ["sync", "--dry-run"]).exit_code == 0
    assert _last_runs(runner)["sync_ratings"] is None, "a dry run writes nothing, so it is no run of the job"

    synced = runner.invoke(app, ["sync"])
    assert synced.exit_code == 0, synced.output
    assert "job sync_ratings ok" not in synced.output, "the table says it; no log line on top"
    last = _last_runs(runner)["sync_ratings"]
    assert last["outcome"] == "ok" and last["finished_at"]
    assert last["summary"]["created"] == 2 and last["summary"]["rows_seen"] == 2

    table = runner.invoke(app, ["status"], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    line = next(line for line in table.output.splitlines() if "sync_ratings" in line)
    assert "never run" not in line and "ok" in line and "created=2" in line, table.output
    assert "last successful sync —" not in " ".join(table.output.split()), table.output

    assert runner.invoke(app, ["sync", "--full"]).exit_code == 0
    assert _last_runs(runner)["verify_ratings"]["outcome"] == "ok", "a full pass is the verification job's run"


def test_a_failed_one_off_sync_is_a_failed_run_in_status(sandbox, settings, monkeypatch) -> None:
    world = make_world(sandbox, settings)
    _point_cli_at(world, sandbox, monkeypatch)
    monkeypatch.setenv("NOTION_TOKEN", "ntn_" + "x" * 46)
    runner = CliRunner()
    assert runner.invoke(app, ["sync"]).exit_code != 0
    last = _last_runs(runner)["sync_ratings"]
    assert last["outcome"] == "error" and last["error"]

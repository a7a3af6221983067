"""The mistakes a newcomer makes, driven through the CLI: each gets its exit code (2 for a setting, 1 for a failed
check), one line saying the cause, one saying the fix, and never a traceback."""

from __future__ import annotations

import socket
import time

import pytest
from typer.testing import CliRunner

from notion_feedback.cli.app import app
from notion_feedback.setup.workspace import init_workspace
from notion_feedback.testing import World, make_world


@pytest.fixture()
def world(sandbox, settings) -> World:
    return make_world(sandbox, settings)


def _env(monkeypatch: pytest.MonkeyPatch, world: World, sandbox, **extra: str) -> None:
    env = sandbox.env() | {
        "LANGSMITH_PROJECT": world.settings.langsmith_project,
        "NOTION_FEEDBACK_HOME": str(world.settings.home),
        "NOTION_FEEDBACK_FEEDBACK_DATA_SOURCE_ID": world.ds_id,
        "NOTION_FEEDBACK_LOG_LEVEL": "WARNING",
    }
    for key, value in (env | extra).items():
        monkeypatch.setenv(key, value)


def _one_error(output: str, cause: str, fix: str) -> None:
    """One "error:" paragraph with the cause, then one "fix:" paragraph (the console folds them at 80 columns,
    between words, never inside a URL)."""
    assert "Traceback" not in output, output
    text = output[output.index("error:") :] if "error:" in output else ""
    error, _, fixed = text.partition("\nfix:")
    assert output.count("error:") == 1 and cause in " ".join(error.split()), output
    assert output.count("fix:") == 1 and fix in " ".join(fixed.split()), output


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_report_with_a_wrong_notion_token_stops_before_any_langsmith_work(world, sandbox, monkeypatch) -> None:
    ids = init_workspace(world.settings, world.settings.parent_page_id)
    _env(monkeypatch, world, sandbox, NOTION_TOKEN="ntn_" + "x" * 46)
    monkeypatch.setenv("NOTION_FEEDBACK_REPORTS_DATA_SOURCE_ID", ids.reports_data_source_id)
    before = sandbox.langsmith.control.count()
    result = CliRunner().invoke(app, ["report"])
    assert result.exit_code == 2
    _one_error(result.output, "Notion refused the token", "notion.so/profile/integrations")
    assert sandbox.langsmith.control.count() == before, "nothing was asked of LangSmith"


@pytest.mark.parametrize(
    "form",
    [
        "https://www.notion.so/acme/{hex}?v=0123456789abcdef0123456789abcdef",
        "https://www.notion.so/Feedback-{hex}",
        "{hex}",
        "{dashed}",
    ],
)
def test_a_data_source_id_in_every_form_notion_shows(world, sandbox, monkeypatch, form: str) -> None:
    world.add_row(world.trace_runs(1)[0], rating="4")
    dashed = world.ds_id
    _env(monkeypatch, world, sandbox)
    monkeypatch.setenv(
        "NOTION_FEEDBACK_FEEDBACK_DATA_SOURCE_ID", form.format(hex=dashed.replace("-", ""), dashed=dashed)
    )
    result = CliRunner().invoke(app, ["sync"])
    assert result.exit_code == 0, result.output
    assert len(world.feedback()) == 1


def test_a_malformed_id_setting_says_which_variable(world, sandbox, monkeypatch) -> None:
    _env(monkeypatch, world, sandbox, NOTION_FEEDBACK_FEEDBACK_DATA_SOURCE_ID="https://example.com/not-notion")
    result = CliRunner().invoke(app, ["sync"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    said = " ".join(result.output.split())
    assert "NOTION_FEEDBACK_FEEDBACK_DATA_SOURCE_ID: 'example.com' is not a Notion address" in said


def test_a_database_id_where_the_data_source_id_belongs(world, sandbox, monkeypatch, caplog) -> None:
    ids = init_workspace(world.settings, world.settings.parent_page_id)
    world.add_row(world.trace_runs(1)[0], rating="5")
    _env(monkeypatch, world, sandbox, NOTION_FEEDBACK_FEEDBACK_DATA_SOURCE_ID=ids.feedback_database_id)
    result = CliRunner().invoke(app, ["sync"])
    assert result.exit_code == 0, result.output
    assert len(world.feedback()) == 1, "the database's data source was used"
    assert f"NOTION_FEEDBACK_FEEDBACK_DATA_SOURCE_ID={ids.feedback_data_source_id}" in caplog.text
    doctor = CliRunner().invoke(app, ["doctor"])
    assert doctor.exit_code == 1 and "Traceback" not in doctor.output
    assert f"NOTION_FEEDBACK_FEEDBACK_DATA_SOURCE_ID={ids.feedback_data_source_id}" in doctor.output


def test_notion_unreachable_is_named_with_its_setting_not_called_a_rate_limit(world, sandbox, monkeypatch) -> None:
    _env(monkeypatch, world, sandbox, NOTION_BASE_URL=f"http://127.0.0.1:{_closed_port()}")
    started = time.monotonic()
    result = CliRunner().invoke(app, ["sync"])
    assert time.monotonic() - started < 20, "a refused connection is not retried for a minute"
    assert result.exit_code == 1
    _one_error(result.output, "Notion is unreachable at http://127.0.0.1:", "NOTION_BASE_URL")
    assert "REQUESTS_PER_SECOND" not in result.output


def test_doctor_without_a_token_says_where_to_get_one(world, sandbox, monkeypatch) -> None:
    _env(monkeypatch, world, sandbox)
    monkeypatch.delenv("NOTION_TOKEN")
    monkeypatch.chdir(world.settings.home.parent)  # no .env here
    result = CliRunner().invoke(app, ["doctor"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "notion.so/profile/integrations" in result.output


def test_missing_credentials_message_is_a_whole_sentence(world, sandbox, monkeypatch) -> None:
    _env(monkeypatch, world, sandbox)
    monkeypatch.delenv("LANGSMITH_API_KEY")
    result = CliRunner().invoke(app, ["sync"])
    assert result.exit_code == 2
    _one_error(result.output, "missing settings: LANGSMITH_API_KEY", "run `notion-feedback demo`")

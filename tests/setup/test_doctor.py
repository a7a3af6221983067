"""`doctor` on the sandbox: healthy, then each way a set-up breaks, each with its own line and fix."""

from __future__ import annotations

import socket

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from notion_feedback.cli.app import app
from notion_feedback.notion.client import make_notion_client
from notion_feedback.notion.drift import verify_schema
from notion_feedback.notion.schema import FEEDBACK, SCALES
from notion_feedback.setup.doctor import run_checks
from notion_feedback.setup.workspace import init_workspace


@pytest.fixture()
def healthy(settings):
    ids = init_workspace(settings, settings.parent_page_id)
    return settings.model_copy(
        update={
            "feedback_data_source_id": ids.feedback_data_source_id,
            "reports_data_source_id": ids.reports_data_source_id,
        }
    )


def failing(results) -> dict[str, list]:
    out: dict[str, list] = {}
    for r in results:
        if not r.ok:
            out.setdefault(r.name, []).append(r)
    return out


def test_healthy_workspace_passes_every_check(healthy) -> None:
    results = run_checks(healthy)
    assert failing(results) == {}
    names = [r.name for r in results]
    for name in (
        "settings",
        "notion token",
        "feedback data source",
        "feedback schema",
        "reports data source",
        "langsmith endpoint",
        "langsmith key",
        "langsmith project",
        "feedback config",
    ):
        assert name in names


def test_wrong_notion_token(healthy) -> None:
    bad = healthy.model_copy(update={"notion_token": SecretStr("ntn_" + "wrong" * 5)})
    (problem,) = failing(run_checks(bad))["notion token"]
    assert "401" in problem.detail and "NOTION_TOKEN" in problem.fix
    assert "ntn_wrong" not in problem.detail + problem.fix


def test_unknown_or_unshared_data_source(healthy) -> None:
    bad = healthy.model_copy(update={"feedback_data_source_id": "01234567-89ab-cdef-0123-456789abcdef"})
    (problem,) = failing(run_checks(bad))["feedback data source"]
    assert "not shared" in problem.detail and "Connections" in problem.fix


def test_rating_renamed_to_score_is_explained_with_the_mapping(healthy) -> None:
    notion = make_notion_client(healthy)
    notion.data_sources.update(healthy.feedback_data_source_id, properties={"Rating": {"name": "Score"}})
    (problem,) = failing(run_checks(healthy))["feedback schema"]
    assert problem.detail == "Rating was renamed to Score"
    assert problem.fix == """set NOTION_FEEDBACK_PROPERTY_MAP='{"Rating": "Score"}'"""
    mapped = healthy.model_copy(update={"property_map": {"Rating": "Score"}})
    assert failing(run_checks(mapped)) == {}


def test_rating_changed_to_number(healthy) -> None:
    notion = make_notion_client(healthy)
    notion.data_sources.update(healthy.feedback_data_source_id, properties={"Rating": {"number": {}}})
    (problem,) = failing(run_checks(healthy))["feedback schema"]
    assert problem.detail == "Rating is a Number property; it must be Select" and "Select" in problem.fix


def test_options_for_the_wrong_scale(healthy) -> None:
    thumbs = healthy.model_copy(update={"rating_scale": "thumbs"})
    problems = failing(run_checks(thumbs))
    (schema,) = problems["feedback schema"]
    assert "thumbs scale" in schema.detail and "lacks 👍, 👎" in schema.detail
    assert "NOTION_FEEDBACK_RATING_SCALE" in schema.fix
    assert "feedback config" in problems  # LangSmith's config for the key is 1..5 too


def test_wrong_langsmith_key(healthy) -> None:
    bad = healthy.model_copy(update={"langsmith_api_key": SecretStr("lsv2_wrongwrongwrongwrongwrong")})
    problems = failing(run_checks(bad))
    assert list(problems) == ["langsmith key"] and "LANGSMITH_API_KEY" in problems["langsmith key"][0].fix


def test_unreachable_langsmith_endpoint(healthy) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once the block ends: nothing listens there
    bad = healthy.model_copy(update={"langsmith_endpoint": f"http://127.0.0.1:{port}"})
    problems = failing(run_checks(bad))
    assert list(problems) == ["langsmith endpoint"] and "LANGSMITH_ENDPOINT" in problems["langsmith endpoint"][0].fix


def test_unknown_langsmith_project(healthy) -> None:
    bad = healthy.model_copy(update={"langsmith_project": "no-such-project"})
    (problem,) = failing(run_checks(bad))["langsmith project"]
    assert "no-such-project" in problem.detail and "LANGSMITH_PROJECT" in problem.fix


def test_missing_settings(settings) -> None:
    (problem,) = failing(run_checks(settings))["settings"]
    assert "NOTION_FEEDBACK_FEEDBACK_DATA_SOURCE_ID" in problem.detail and "init" in problem.fix


def test_drift_is_pure_and_finds_missing_properties() -> None:
    props = {"Question": {"id": "title", "type": "title"}, "Run ID": {"id": "a", "type": "rich_text"}}
    drifts = verify_schema(props, FEEDBACK.all(), {}, scale=SCALES["1-5"])
    kinds = {d.key: d.kind for d in drifts}
    assert kinds["rating"] == "missing" and "question" not in kinds and "run_id" not in kinds
    assert not next(d for d in drifts if d.key == "created").blocking


def test_doctor_command_exit_status(healthy, monkeypatch) -> None:
    env = {
        "NOTION_TOKEN": healthy.notion_token.get_secret_value(),
        "NOTION_BASE_URL": healthy.notion_base_url,
        "LANGSMITH_API_KEY": healthy.langsmith_api_key.get_secret_value(),
        "LANGSMITH_ENDPOINT": healthy.langsmith_endpoint,
        "LANGSMITH_PROJECT": healthy.langsmith_project,
        "NOTION_FEEDBACK_HOME": str(healthy.home),
        "NOTION_FEEDBACK_FEEDBACK_DATA_SOURCE_ID": healthy.feedback_data_source_id,
        "NOTION_FEEDBACK_REPORTS_DATA_SOURCE_ID": healthy.reports_data_source_id,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    ok = runner.invoke(app, ["doctor"])
    assert ok.exit_code == 0, ok.output
    monkeypatch.setenv("NOTION_FEEDBACK_PROPERTY_MAP", '{"Rating": "Stars"}')
    bad = runner.invoke(app, ["doctor"])
    assert bad.exit_code == 1 and "Stars" in bad.stdout and "fix:" in bad.stdout


def test_the_state_store_is_checked_without_being_created(healthy) -> None:
    (check,) = [r for r in run_checks(healthy) if r.name == "state store"]
    assert check.ok and "not created yet" in check.detail
    assert not (healthy.home / "state.sqlite3").exists(), "doctor changes nothing"


def test_a_reachable_store_shows_its_schema_and_leader(healthy) -> None:
    from notion_feedback.daemon.lease import Lease
    from notion_feedback.state import open_state

    Lease(open_state(healthy.resolved_state_url), 60, holder="host-1:42").acquire()
    (check,) = [r for r in run_checks(healthy) if r.name == "state store"]
    assert check.ok and "schema 1" in check.detail and "daemon host-1:42 leads" in check.detail


@pytest.fixture()
def read_only_home(healthy, tmp_path):
    """NOTION_FEEDBACK_HOME on a read-only file system (root ignores file modes, so a read-only mount)."""
    import os
    import subprocess

    home = tmp_path / "ro-home"
    home.mkdir()
    if os.geteuid() == 0:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,ro", "tmpfs", str(home)], check=True)
    else:
        home.chmod(0o500)
    yield healthy.model_copy(update={"home": home, "state_url": None})
    if os.geteuid() == 0:
        subprocess.run(["umount", str(home)], check=True)
    else:
        home.chmod(0o700)


def test_a_read_only_home_fails_the_check_with_the_fix(read_only_home) -> None:
    (problem,) = failing(run_checks(read_only_home))["state store"]
    assert "not writable" in problem.detail and "NOTION_FEEDBACK_HOME" in problem.fix

"""Settings: names, defaults, and errors that name the variable and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from notion_feedback.config import Settings, env_name, load_settings, require
from notion_feedback.errors import ConfigError


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in list(__import__("os").environ):
        if name.startswith(("NOTION_", "LANGSMITH_")):
            monkeypatch.delenv(name)


def test_service_settings_keep_their_sdk_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTION_TOKEN", "ntn_" + "abcdefghijklmnopqrstuvwxyz")
    monkeypatch.setenv("LANGSMITH_ENDPOINT", "http://127.0.0.1:9/")
    monkeypatch.setenv("NOTION_FEEDBACK_RATING_SCALE", "thumbs")
    s = load_settings()
    assert s.notion_token is not None and s.notion_token.get_secret_value().startswith("ntn_")
    assert s.langsmith_endpoint == "http://127.0.0.1:9"  # trailing slash removed
    assert s.rating_scale == "thumbs"
    assert env_name("notion_token") == "NOTION_TOKEN"
    assert env_name("sync_interval_minutes") == "NOTION_FEEDBACK_SYNC_INTERVAL_MINUTES"


def test_dotenv_file_is_read(tmp_path) -> None:
    (tmp_path / ".env").write_text("NOTION_FEEDBACK_REPORT_TIME=6:05\nLANGSMITH_PROJECT=support-bot\n")
    s = load_settings()
    assert s.report_time == "06:05"
    assert s.langsmith_project == "support-bot"


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("NOTION_FEEDBACK_RATING_SCALE", "7", "'1-5', '1-10' or 'thumbs'"),
        ("NOTION_FEEDBACK_REPORT_TIME", "25:00", "HH:MM"),
        ("NOTION_FEEDBACK_TIMEZONE", "Mars/Olympus", "IANA time zone"),
        ("NOTION_BASE_URL", "api.notion.com", "http://"),
        ("NOTION_FEEDBACK_SAMPLE_RATE", "2", "less than or equal to 1"),
    ],
)
def test_a_bad_value_names_the_variable_and_the_fix(monkeypatch, name: str, value: str, words: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    text = str(err.value)
    assert name in text and words in text and "fix:" in text


def test_secrets_never_show_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTION_TOKEN", "ntn_" + "supersecretvalue1234567890")
    s = load_settings()
    assert "supersecret" not in repr(s) and "supersecret" not in str(s.model_dump())
    assert s.secrets() == ["ntn_" + "supersecretvalue1234567890"]


def test_require_says_what_to_set() -> None:
    with pytest.raises(ConfigError) as err:
        require(Settings(_env_file=None), "notion_token", "feedback_data_source_id")
    assert "NOTION_TOKEN" in str(err.value) and "NOTION_FEEDBACK_FEEDBACK_DATA_SOURCE_ID" in str(err.value)


def test_every_setting_is_documented() -> None:
    undocumented = [name for name, field in Settings.model_fields.items() if not field.description]
    assert undocumented == []


def test_env_example_is_current_and_loads_as_defaults(tmp_path) -> None:
    from notion_feedback.envfile import render_env_example

    shipped = (Path(__file__).resolve().parents[1] / ".env.example").read_text()
    assert shipped == render_env_example(), "regenerate with: notion-feedback config --example > .env.example"
    (tmp_path / ".env").write_text(shipped)
    loaded, defaults = load_settings(), Settings(_env_file=None)
    assert loaded.model_dump() == defaults.model_dump()


def test_update_env_file_keeps_other_lines(tmp_path) -> None:
    from notion_feedback.envfile import update_env_file

    env = tmp_path / ".env"
    env.write_text("# mine\nNOTION_TOKEN=abc\nNOTION_FEEDBACK_FEEDBACK_DATA_SOURCE_ID=old\n")
    update_env_file(
        env, {"NOTION_FEEDBACK_FEEDBACK_DATA_SOURCE_ID": "new", "NOTION_FEEDBACK_REPORTS_DATA_SOURCE_ID": "r"}
    )
    assert env.read_text().splitlines() == [
        "# mine",
        "NOTION_TOKEN=abc",
        "NOTION_FEEDBACK_FEEDBACK_DATA_SOURCE_ID=new",
        "NOTION_FEEDBACK_REPORTS_DATA_SOURCE_ID=r",
    ]

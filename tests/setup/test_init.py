"""`init` on the sandbox: both databases with every property, the LangSmith side, idempotent, URL forms."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from notion_feedback.cli.app import app
from notion_feedback.errors import ConfigError, NotionAccessError
from notion_feedback.notion.client import make_notion_client
from notion_feedback.notion.drift import verify_schema
from notion_feedback.notion.schema import FEEDBACK, REPORTS, SCALES
from notion_feedback.setup.workspace import init_workspace, parse_notion_id
from notion_feedback.smith.client import make_langsmith_client

HEX = "0123456789abcdef0123456789abcdef"
DASHED = "01234567-89ab-cdef-0123-456789abcdef"


@pytest.mark.parametrize(
    "given",
    [
        HEX,
        DASHED,
        HEX.upper(),
        f"https://www.notion.so/My-team-page-{HEX}",
        f"https://www.notion.so/acme/{HEX}?v=fedcba9876543210fedcba9876543210",
        f"https://app.notion.com/p/{HEX}",
        f"https://app.notion.com/p/Roadmap-{HEX}#abc",
        f"notion.so/acme/Page-{HEX}",
        f"https://acme.notion.site/Public-{HEX}",
        f"https://www.notion.so/acme/fedcba9876543210fedcba9876543210?v=1&p={HEX}&pm=s",
    ],
)
def test_parse_notion_id_accepts_what_users_copy(given: str) -> None:
    assert parse_notion_id(given) == DASHED


@pytest.mark.parametrize("given", ["", "not-an-id", "https://example.com/" + HEX, "https://www.notion.so/Page-abc"])
def test_parse_notion_id_rejects_with_a_fix(given: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_notion_id(given)
    assert err.value.fix


@pytest.mark.parametrize("scale", ["1-5", "thumbs"])
def test_init_creates_everything_then_changes_nothing(settings, sandbox, scale) -> None:
    settings = settings.model_copy(update={"rating_scale": scale})
    url = "https://app.notion.com/p/" + settings.parent_page_id.replace("-", "")
    ids = init_workspace(settings, url)
    # both databases, the Reports view by date, the LangSmith feedback config, the dashboard, both datasets, the
    # review queue
    assert len(ids.created) == 8
    notion = make_notion_client(settings)
    feedback = notion.data_sources.retrieve(ids.feedback_data_source_id)
    assert verify_schema(feedback["properties"], FEEDBACK.all(), {}, scale=SCALES[scale]) == []
    options = [o["name"] for o in feedback["properties"]["Rating"]["select"]["options"]]
    assert options == [name for name, _, _ in SCALES[scale].options]
    reports = notion.data_sources.retrieve(ids.reports_data_source_id)
    assert verify_schema(reports["properties"], REPORTS.all(), {}) == []
    smith = make_langsmith_client(settings)
    (config,) = [c for c in smith.list_feedback_configs() if c.feedback_key == settings.rating_key]
    assert dict(config.feedback_config)["max"] == SCALES[scale].max
    assert ids.langsmith_project_id == str(smith.read_project(project_name=settings.langsmith_project).id)
    for kind in ("low", "high"):
        assert smith.has_dataset(dataset_name=settings.dataset_name(kind))
    (queue,) = smith.list_annotation_queues(name=settings.review_queue_name)
    rubric = smith.read_annotation_queue(queue.id).rubric_items or []
    assert [item["feedback_key"] for item in rubric] == [settings.rating_key]

    writes_before = sandbox.notion.control.stats()
    again = init_workspace(settings, settings.parent_page_id)  # found by title under the page
    assert again.created == [] and again.env() == ids.env()
    with_ids = settings.model_copy(
        update={
            "feedback_data_source_id": ids.feedback_data_source_id,
            "reports_data_source_id": ids.reports_data_source_id,
        }
    )
    assert init_workspace(with_ids, settings.parent_page_id).env() == ids.env()  # found by the ids in settings
    after = sandbox.notion.control.stats()
    for route in ("POST /v1/databases", "PATCH /v1/data_sources/{id}", "POST /v1/pages"):
        assert after["routes"].get(route) == writes_before["routes"].get(route), route


def test_init_on_an_unshared_page_says_how_to_share(settings) -> None:
    with pytest.raises(NotionAccessError) as err:
        init_workspace(settings, HEX)
    assert "Connections" in err.value.fix


def test_init_command_prints_env_lines_or_writes_them(settings, tmp_path, monkeypatch) -> None:
    for name, value in {
        "NOTION_TOKEN": settings.notion_token.get_secret_value(),
        "NOTION_BASE_URL": settings.notion_base_url,
        "LANGSMITH_API_KEY": settings.langsmith_api_key.get_secret_value(),
        "LANGSMITH_ENDPOINT": settings.langsmith_endpoint,
        "NOTION_FEEDBACK_HOME": str(settings.home),
    }.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    printed = runner.invoke(app, ["init", "--parent", settings.parent_page_id])
    assert printed.exit_code == 0, printed.output
    lines = [line for line in printed.stdout.splitlines() if line.startswith("NOTION_FEEDBACK_")]
    assert {line.split("=")[0] for line in lines} == {
        "NOTION_FEEDBACK_PARENT_PAGE_ID",
        "NOTION_FEEDBACK_FEEDBACK_DATA_SOURCE_ID",
        "NOTION_FEEDBACK_REPORTS_DATA_SOURCE_ID",
    }
    env_file = tmp_path / "custom.env"
    env_file.write_text("# mine\nOTHER=1\nNOTION_FEEDBACK_FEEDBACK_DATA_SOURCE_ID=old\n")
    written = runner.invoke(
        app, ["init", "--parent", settings.parent_page_id, "--write-env", "--env-file", str(env_file)]
    )
    assert written.exit_code == 0, written.output
    text = env_file.read_text()
    assert "# mine\nOTHER=1\n" in text and "=old" not in text
    assert all(line in text.splitlines() for line in lines)
    unshared = runner.invoke(app, ["init", "--parent", HEX])
    assert unshared.exit_code == 2 and "Connections" in unshared.output

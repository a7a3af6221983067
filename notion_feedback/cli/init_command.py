"""``notion-feedback init``: create (or find) the Feedback and Reports data sources and the LangSmith side."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from notion_feedback.cli.common import console, friendly_errors, settings_or_exit


def init(
    parent: str = typer.Option(
        ...,
        "--parent",
        "-p",
        metavar="PAGE",
        help="The Notion page to create the databases under: its id, or its URL copied from the browser "
        "(notion.so/…, app.notion.com/p/…). Share the page with your integration first.",
    ),
    write_env: bool = typer.Option(
        False,
        "--write-env",
        help="Write the ids into the .env file (other lines are kept) instead of printing them.",
    ),
    env_file: Path = typer.Option(Path(".env"), metavar="PATH", help="The .env file --write-env updates."),
    skip_langsmith: bool = typer.Option(
        False, "--skip-langsmith", help="Only set up Notion (no LangSmith project or feedback config)."
    ),
) -> None:
    """Set up the workspace: "Agent feedback" and "Agent reports" databases under a page, and LangSmith.

    Creates each database with every property the product uses and the Rating options of the configured scale
    (NOTION_FEEDBACK_RATING_SCALE: 1-5, 1-10 or thumbs), the LangSmith project (LANGSMITH_PROJECT) if missing,
    and the feedback config of the rating key. Run again, it finds what exists and changes nothing.

    Examples:

        notion-feedback init --parent https://www.notion.so/My-team-0123456789abcdef0123456789abcdef

        notion-feedback init --parent 0123456789abcdef0123456789abcdef --write-env
    """
    from notion_feedback.envfile import update_env_file
    from notion_feedback.setup.workspace import init_workspace

    settings = settings_or_exit()
    with friendly_errors(settings):
        ids = init_workspace(settings, parent, langsmith=not skip_langsmith)
    for what in ids.created:
        console.print(f"[green]created[/] {escape(what)}", highlight=False)
    if not ids.created:
        console.print("everything already exists: nothing changed", highlight=False)
    if ids.langsmith_project_id:
        project = f"LangSmith project {settings.langsmith_project!r}: {ids.langsmith_project_id}"
        console.print(escape(project), highlight=False)
    if write_env:
        update_env_file(env_file, ids.env())
        console.print(escape(f"wrote {', '.join(ids.env())} to {env_file}"), highlight=False)
    else:
        for line in ids.env_lines():
            typer.echo(line)


def register(app: typer.Typer) -> None:
    app.command("init", rich_help_panel="Set up")(init)

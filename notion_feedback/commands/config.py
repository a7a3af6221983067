"""``notion-feedback config``: what the product will use, and the documented example of every setting."""

from __future__ import annotations

import typer
from rich.table import Table

from notion_feedback.commands.common import settings_or_exit
from notion_feedback.envfile import describe, render_env_example


def config(
    example: bool = typer.Option(False, "--example", metavar="", help="Print the documented .env.example instead."),
) -> None:
    """Show the effective settings (environment and .env), secrets hidden.

    Every setting is an environment variable; `notion-feedback config --example > .env` starts a .env with
    all of them documented.
    """
    if example:
        typer.echo(render_env_example(), nl=False)
        return
    settings = settings_or_exit()
    table = Table("variable", "value", title="notion-feedback settings")
    for name, value in describe(settings):
        table.add_row(name, value)
    from rich.console import Console

    Console().print(table)


def register(app: typer.Typer) -> None:
    app.command(rich_help_panel="Set up")(config)

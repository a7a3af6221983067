"""``notion-feedback config``: what the product will use, and the documented example of every setting."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from notion_feedback.cli.common import settings_or_exit
from notion_feedback.envfile import describe, render_env_example


def config(
    example: bool = typer.Option(False, "--example", help="Print the documented .env.example instead."),
) -> None:
    """Show the effective settings (environment and .env), secrets hidden.

    Every setting is an environment variable; `notion-feedback config --example > .env` starts a .env with
    all of them documented.
    """
    if example:
        typer.echo(render_env_example(), nl=False)
        return
    settings = settings_or_exit()
    show(describe(settings), Console())


def show(rows: list[tuple[str, str]], console: Console) -> None:
    """A table when it fits; on a narrower console one ``NAME  value`` line each, so no variable name or value (a
    path, a URL) is cut or folded in the middle."""
    names = max((len(name) for name, _ in rows), default=0)
    if names + max((len(value) for _, value in rows), default=0) + 7 <= console.width:
        table = Table("variable", "value", title="notion-feedback settings")
        for name, value in rows:
            table.add_row(Text(name), Text(value))
        console.print(table)
        return
    console.print("[bold]notion-feedback settings[/]")
    for name, value in rows:
        console.print(Text(f"{name:<{names}}  {value}"), soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command(rich_help_panel="Set up")(config)

"""The ``notion-feedback`` command. Each sub-command lives in ``notion_feedback/commands/<name>.py``."""

from __future__ import annotations

import importlib

import typer

from notion_feedback import __version__

# Order is the order of `--help`: first what a newcomer runs.
COMMAND_MODULES = ("demo", "sandbox", "init", "doctor", "config", "sync", "run", "report", "status")

app = typer.Typer(
    name="notion-feedback",
    help=(
        "Users rate your LLM agent's answers in Notion; ratings become LangSmith feedback, and daily KPI "
        "reports land back in Notion.\n\n"
        "Start with `notion-feedback demo` (no accounts needed: it runs on local emulators of both APIs)."
    ),
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish, PowerShell
    pretty_exceptions_show_locals=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"notion-feedback {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """Users rate your agent's answers in Notion; ratings reach LangSmith; reports come back to Notion."""


for _name in COMMAND_MODULES:
    importlib.import_module(f"notion_feedback.commands.{_name}").register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()

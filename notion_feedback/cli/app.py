"""The ``notion-feedback`` command: the Typer app. Each sub-command lives in ``cli/<name>_command.py``."""

from __future__ import annotations

import typer
from typer._click import Context, Parameter
from typer.core import TyperCommand, TyperGroup

from notion_feedback import __version__
from notion_feedback.cli import (
    config_command,
    demo_command,
    doctor_command,
    evaluate_command,
    init_command,
    learn_command,
    report_command,
    run_command,
    sandbox_command,
    spool_command,
    status_command,
    sync_command,
)

# Order is the order of `--help`: first what a newcomer runs.
COMMAND_MODULES = (
    demo_command,
    sandbox_command,
    init_command,
    doctor_command,
    config_command,
    sync_command,
    learn_command,
    evaluate_command,
    run_command,
    report_command,
    status_command,
    spool_command,
)


def _untyped_flags(params: list[Parameter]) -> list[Parameter]:
    """A flag takes no value, so `--help` shows no type beside it (Typer would print `<bool>`); options that take a
    value keep theirs."""
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
    return params


class Command(TyperCommand):
    def get_params(self, ctx: Context) -> list[Parameter]:
        return _untyped_flags(super().get_params(ctx))


class Group(TyperGroup):
    def get_params(self, ctx: Context) -> list[Parameter]:
        return _untyped_flags(super().get_params(ctx))


app = typer.Typer(
    name="notion-feedback",
    cls=Group,
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


for _module in COMMAND_MODULES:
    _module.register(app)
for _info in app.registered_commands:
    if _info.cls in (None, TyperCommand):
        _info.cls = Command


def main() -> None:
    app()


if __name__ == "__main__":
    main()

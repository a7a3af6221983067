"""``notion-feedback doctor``: check settings, Notion and LangSmith, one line each with the fix."""

from __future__ import annotations

import typer

from notion_feedback.cli.common import settings_or_exit


def doctor() -> None:
    """Check everything the product depends on; exit status 1 when anything is wrong.

    Checks, in the order you would fix them: settings; the Notion token (which integration it is); access to
    the Feedback and Reports data sources; their schema (a property missing, renamed or of another type, Rating
    options that do not match the scale); the LangSmith endpoint, key and project; the rating key's feedback
    config; rows waiting in the recorder's local spool. Nothing is changed.

    Example:

        notion-feedback doctor
    """
    from notion_feedback.setup.doctor import run_checks

    settings = settings_or_exit()
    results = run_checks(settings)
    width = max(len(r.name) for r in results)
    for r in results:
        mark = typer.style("ok  ", fg="green") if r.ok else typer.style("FAIL", fg="red", bold=True)
        line = f"{mark} {r.name.ljust(width)}  {r.detail}"
        if not r.ok and r.fix:
            line += typer.style(f"  → fix: {r.fix}", fg="yellow")
        typer.echo(line)
    problems = sum(not r.ok for r in results)
    if problems:
        typer.echo(f"{problems} problem(s) found", err=True)
        raise typer.Exit(1)
    typer.echo("all good", err=True)


def register(app: typer.Typer) -> None:
    app.command("doctor", rich_help_panel="Set up")(doctor)

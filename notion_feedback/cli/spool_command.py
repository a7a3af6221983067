"""``notion-feedback spool``: the rows a recorder keeps on disk until Notion has them, and the parked ones."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from notion_feedback.cli.common import friendly_errors, settings_or_exit


def spool(
    retry: bool = typer.Option(
        False, "--retry", help="Send the parked rows again (after fixing what Notion refused), now."
    ),
) -> None:
    """Show the recorder's spool: rows waiting for Notion, and rows parked because Notion refused them.

    A row Notion refuses for good (400: a property the data source no longer has, a value it does not take) is
    parked whole with Notion's reason instead of being sent again and again. Fix the cause — `notion-feedback
    doctor` checks the schema — then send the parked rows:

        notion-feedback spool              # what waits, what is parked and why
        notion-feedback spool --retry      # send the parked rows again, now
    """
    from notion_feedback.capture.sender import drain_spool
    from notion_feedback.capture.spool import SPOOL_FILE, Spool

    settings = settings_or_exit()
    console = Console()
    path = settings.home / SPOOL_FILE
    if not path.exists():
        console.print(escape(f"no spool at {path}: no recorder has used this NOTION_FEEDBACK_HOME yet"))
        return
    with friendly_errors():
        store = Spool(path)
        try:
            summary = store.summary()
            parked = store.parked()
            revived = store.retry_failed() if retry else 0
        finally:
            store.close()
        console.print(escape(f"{summary.waiting} rows waiting, {summary.failed} parked ({path})"), highlight=False)
        for row in parked:
            console.print(escape(f"  parked: run {row.run_id}: {row.last_error}"), highlight=False)
        if summary.failed > len(parked):
            console.print(f"  … and {summary.failed - len(parked)} more")
        if not retry:
            if summary.failed:
                console.print("fix the cause, then `notion-feedback spool --retry` sends them")
            return
        sent = drain_spool(settings, time.monotonic() + 300)
        console.print(escape(f"retried {revived} parked rows: {sent} rows now in Notion"), highlight=False)
        after = _still_parked(path)
        if sent < revived and not after:
            console.print("the others wait in the spool: a running recorder (or the daemon's drain job) sends them")
        if after:
            console.print(escape(f"{after} rows were refused again: `notion-feedback spool` says why"))
            raise typer.Exit(1)


def _still_parked(path: Path) -> int:
    from notion_feedback.capture.spool import read_summary

    summary = read_summary(path)
    return summary.failed if summary else 0


def register(app: typer.Typer) -> None:
    app.command(rich_help_panel="Run")(spool)

"""``notion-feedback sync``: one sync pass now, with a progress bar, a summary and the requests it cost."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from notion_feedback.cli.common import console, friendly_errors, settings_or_exit
from notion_feedback.daemon.jobruns import SYNC_JOB, VERIFY_JOB, run_recorded
from notion_feedback.notion.links import page_link
from notion_feedback.sync.engine import SyncSummary, run_sync
from notion_feedback.sync.retry import SyncIncompleteError


def _table(s: SyncSummary) -> Table:
    verb = "would be " if s.dry_run else ""
    table = Table(title=f"Rating sync{' (dry run: nothing written)' if s.dry_run else ''}", show_edge=False)
    table.add_column("", style="bold")
    table.add_column("rows", justify="right")
    for label, value in (
        (f"{verb}created", s.created),
        (f"{verb}updated", s.updated),
        (f"{verb}removed", s.removed),
        ("unchanged", s.unchanged),
        ("errors (shown on the row)", s.errors),
        ("rows read", s.rows_seen),
    ):
        table.add_row(label, f"{value:,}")
    table.add_section()
    table.add_row("Notion requests", f"{s.notion_requests:,}  ({s.status_writes} status write-backs)")
    table.add_row("LangSmith requests", f"{s.langsmith_requests:,}")
    table.add_row("cursor", escape(f"{s.cursor_before or '(first pass)'} → {s.cursor_after or '-'}"))
    table.add_row("time", f"{s.duration:.1f} s")
    return table


def _report(s: SyncSummary, notion_base_url: str) -> None:
    console.print(_table(s))
    for problem in s.problems[:10]:
        where = escape(page_link(notion_base_url, problem.page_id, problem.url))
        console.print(f"[yellow]•[/] {where}", highlight=False, soft_wrap=True)
        console.print(f"  {escape(problem.message)}", highlight=False)
    if len(s.problems) > 10 or s.errors > len(s.problems[:10]):
        console.print(f"  … {s.errors} rows need attention in all: filter the Feedback table on Sync status.")
    for line in s.planned[:20]:
        console.print(f"[cyan]would[/] {escape(line)}", highlight=False)
    if len(s.planned) > 20:
        console.print(f"  … and {len(s.planned) - 20} more")


def sync(
    full: bool = typer.Option(
        False, "--full", help="Read every row and compare with LangSmith itself, repairing any drift."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Read and compare only; write nothing anywhere."),
) -> None:
    """Send new, changed and cleared Notion ratings to LangSmith as feedback, now (the daemon does it every
    NOTION_FEEDBACK_SYNC_INTERVAL_MINUTES).

    Incremental by default: only rows edited since the last pass are read (plus a short overlap, because Notion
    rounds edit times to the minute). Each rated row has exactly one feedback (key NOTION_FEEDBACK_RATING_KEY,
    score from the rating scale, the comment, the rater and the row's link); re-running is always safe.
    Problems (no or malformed Run ID, unknown run, a rating not on the scale) are written on the row in
    "Sync status" / "Sync error", and cleared once fixed.

    Examples:

        notion-feedback sync              # what changed since the last pass
        notion-feedback sync --dry-run    # what it would do, writing nothing
        notion-feedback sync --full       # re-check every row against LangSmith (after an outage, or edits there)
    """
    settings = settings_or_exit()
    with friendly_errors(settings):
        progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]syncing ratings[/]"),
            BarColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        with progress:
            task = progress.add_task("sync", total=None, detail="")

            def update(s: SyncSummary) -> None:
                detail = f"{s.rows_seen:,} rows · {s.changed:,} changed · {s.errors:,} errors"
                progress.update(task, detail=detail)

            def work() -> SyncSummary:
                return run_sync(settings, full=full, dry_run=dry_run, progress=update)

            try:  # a dry run changes nothing, so it is no run of the job `status` reports
                job = VERIFY_JOB if full else SYNC_JOB
                summary = work() if dry_run else run_recorded(settings, job, work, SyncSummary.counts)
            except SyncIncompleteError as exc:
                if exc.summary is not None:
                    _report(exc.summary, settings.notion_base_url)
                raise
        _report(summary, settings.notion_base_url)


def register(app: typer.Typer) -> None:
    app.command(rich_help_panel="Run")(sync)

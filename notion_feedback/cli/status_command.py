"""``notion-feedback status``: each job's last and next run, the sync lag, the lease, and recent errors."""

from __future__ import annotations

import json
from datetime import datetime

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from notion_feedback.cli.common import friendly_errors, settings_or_exit
from notion_feedback.daemon.status import Status, ago, collect_status, status_as_dict

OUTCOME_STYLE = {"ok": "green", "error": "bold red", "missed": "yellow", "running": "cyan", "skipped": "yellow"}


def _when(status: Status, moment: datetime | None) -> str:
    if moment is None:
        return "—"
    return f"{moment.astimezone():%Y-%m-%d %H:%M:%S} ({ago((status.now - moment).total_seconds())})"


def _summary(summary: dict[str, object]) -> str:
    """The counts that say something (non-zero numbers, short texts); the full summary is in `--json`."""
    parts = []
    for key, value in summary.items():
        if key in ("duration", "cursor_before", "cursor_after") or value in (None, False, 0, ""):
            continue
        if isinstance(value, int | float) or (isinstance(value, str) and len(value) <= 24):
            parts.append(f"{key}={value}")
    return ", ".join(parts)[:160]


WIDE = 120  # narrower than this, each summary goes under the table instead of a column too thin for its words


def _jobs_table(status: Status, console: Console) -> None:
    """One row per job; cells wrap between words. On a narrow console the summaries follow the table, one line
    each, so no count is cut in the middle."""
    wide = console.width >= WIDE
    table = Table(title="Jobs", title_justify="left", expand=False)
    table.add_column("job", no_wrap=True)
    columns = ("last run", "outcome", "duration", *(["summary"] if wide else []), "next run")
    for column in columns:
        table.add_column(column, overflow="fold", no_wrap=column in ("outcome", "duration"))
    below = []
    for job in status.jobs:
        last = job.last
        outcome = last.outcome if last else "never run"
        style = OUTCOME_STYLE.get(outcome, "dim")
        summary = escape(_summary(last.summary)) if last else ""
        if summary and not wide:
            below.append(f"  [bold]{escape(job.id)}[/]: {summary}")
        table.add_row(
            escape(job.id),
            _when(status, last.started_at) if last else "—",
            f"[{style}]{outcome}[/]",
            f"{last.duration_seconds:.1f} s" if last and last.duration_seconds is not None else "—",
            *([summary] if wide else []),
            _when(status, job.next_run) if job.next_run else ("paused" if job.scheduled else "not scheduled"),
        )
    console.print(table)
    for line in below:
        console.print(line, highlight=False)


def render(status: Status, console: Console) -> None:
    _jobs_table(status, console)
    if status.lease is None:
        console.print("Daemon: [yellow]none running[/] (no lease held) — start one with `notion-feedback run`")
    elif status.daemon_active:
        console.print(
            f"Daemon: [green]active[/], lease held by {escape(status.lease.holder)} "
            f"until {status.lease.expires_at.astimezone():%H:%M:%S}"
        )
    else:
        console.print(
            f"Daemon: [yellow]not running[/] (last holder {escape(status.lease.holder)}; "
            f"lease expired {ago((status.now - status.lease.expires_at).total_seconds())})"
        )
    lag = status.sync_lag_seconds
    lag_text = ago(lag).removesuffix(" ago") if lag is not None else "—"
    in_error = f"[red]{status.rows_in_error}[/]" if status.rows_in_error else "0"
    console.print(
        f"Sync: cursor {_when(status, status.cursor)}, lag {lag_text}; "
        f"last successful sync {_when(status, status.last_sync_ok)}; rows in error: {in_error}"
    )
    if (spool := status.spool) is not None:
        dropped = f"[bold red]{spool.dropped} dropped[/] (the disk was full)" if spool.dropped else "0 dropped"
        parked = f"[bold red]{spool.failed} parked[/] (refused by Notion)" if spool.failed else "0 parked"
        console.print(
            f"Recorder spool: {spool.waiting} rows waiting (oldest {ago(spool.oldest_age_seconds)}), "
            f"{parked}, {dropped}"
        )
        for reason, n in spool.reasons:
            console.print(escape(f"  parked: {n} × {reason}"), highlight=False)
        if spool.failed:
            console.print("  fix the cause, then `notion-feedback spool --retry` sends them")
    _recent_errors(status, console)


def _recent_errors(status: Status, console: Console) -> None:
    """A table on a wide console; on a narrow one each error under its time and job, on a line the console does not
    wrap, so an address in the message stays whole."""
    if not status.recent_errors:
        console.print("Recent errors: none")
        return
    firsts = [((run.error or "").splitlines() or [""])[0][:200] for run in status.recent_errors]
    if console.width < WIDE:
        console.print("[bold]Recent errors[/]")
        for run, first_line in zip(status.recent_errors, firsts, strict=True):
            console.print(f"  {_when(status, run.started_at)}  {escape(run.job)}", highlight=False)
            console.print(f"    {escape(first_line)}", highlight=False, soft_wrap=True)
        return
    errors = Table(title="Recent errors", title_justify="left")
    for column in ("when", "job", "error"):
        errors.add_column(column, overflow="fold")
    for run, first_line in zip(status.recent_errors, firsts, strict=True):
        errors.add_row(_when(status, run.started_at), escape(run.job), escape(first_line))
    console.print(errors)


def status(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document instead of tables."),
    errors: int = typer.Option(5, "--errors", metavar="N", min=0, help="How many recent failed job runs to show."),
) -> None:
    """Show each scheduled job's last run (time, outcome, duration, summary) and next run, the rating sync's lag,
    which daemon holds the lease, and recent errors.

    Reads the state store only, so it works whether or not a daemon is running (and from another machine when the
    state store is a shared database).

        notion-feedback status
        notion-feedback status --json | jq .sync.lag_seconds
    """
    settings = settings_or_exit()
    with friendly_errors(settings):
        current = collect_status(settings, errors=errors)
    if as_json:
        typer.echo(json.dumps(status_as_dict(current), indent=2, default=str))
        return
    render(current, Console())


def register(app: typer.Typer) -> None:
    app.command(rich_help_panel="Run")(status)

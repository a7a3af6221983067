"""``notion-feedback report``: publish (or refresh) report pages now, for one period or a run of past ones."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import partial
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from notion_feedback.cli.common import ReportProgress, console, friendly_errors, settings_or_exit
from notion_feedback.daemon.jobruns import REPORT_JOBS, run_recorded
from notion_feedback.notion.client import make_notion_client
from notion_feedback.notion.links import page_link
from notion_feedback.report.kpi import PERIODS, last_complete, period_range, previous_range
from notion_feedback.report.publish import ReportResult, publish_report
from notion_feedback.smith.client import make_langsmith_client, observe_rate_limit_waits


def _columns() -> tuple[ProgressColumn, ...]:
    return SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()


def _anchors(period: str, last: date, count: int) -> list[date]:
    """First days of ``count`` consecutive periods ending with the one containing ``last``, oldest first."""
    out = [period_range(period, last)[0]]
    while len(out) < count:
        out.append(previous_range(period, out[-1])[0])
    return out[::-1]


def report(
    day: datetime | None = typer.Option(
        None,
        "--date",
        metavar="YYYY-MM-DD",
        formats=["%Y-%m-%d"],
        help="A day inside the period to report (default: the last complete one).",
    ),
    period: str = typer.Option(
        "day", "--period", metavar="day|week|month", help="day, week (ISO, Monday first) or month."
    ),
    backfill: int = typer.Option(
        1,
        "--backfill",
        metavar="N",
        min=1,
        max=400,
        help="Publish this many consecutive periods, ending with --date's.",
    ),
) -> None:
    """Publish the KPI report page for a period to the Reports data source in Notion.

    KPIs (volume, success and error rate, latency p50/p95/p99, tokens, cost by model, ratings, active users,
    A/B variants) come from LangSmith's server-side aggregates, beside the targets in your settings; charts are
    uploaded to Notion. Publishing a period again updates its page instead of adding one.

    Examples:

        notion-feedback report                          # yesterday (in NOTION_FEEDBACK_TIMEZONE)
        notion-feedback report --date 2026-11-02        # that day
        notion-feedback report --period week            # last week, with the change against the week before
        notion-feedback report --period day --backfill 30   # the last 30 days, oldest first (fills the trend cache)
    """
    if period not in PERIODS:
        console.print(f"[bold red]error:[/] --period must be one of {', '.join(PERIODS)}, not {period!r}")
        raise typer.Exit(2)
    settings = settings_or_exit()
    with friendly_errors(settings):
        today = datetime.now(UTC).astimezone(ZoneInfo(settings.timezone)).date()
        last = day.date() if day else last_complete(period, today)
        anchors = _anchors(period, last, backfill)
        notion, smith = make_notion_client(settings), make_langsmith_client(settings)
        with Progress(*_columns(), console=console, transient=False) as bar:
            shown = ReportProgress(bar, bar.add_task("reports", total=len(anchors)))
            observe_rate_limit_waits(smith, shown.waiting)
            for anchor in anchors:
                step = partial(shown.step, f"{period} {anchor}")
                publish = partial(publish_report, settings, period, anchor, notion=notion, smith=smith, progress=step)
                result = run_recorded(settings, REPORT_JOBS[period], publish, ReportResult.as_dict)
                bar.advance(shown.task)
                link = page_link(settings.notion_base_url, result.page_id, result.url)
                console.print(f"[green]✓[/] {escape(result.summary())}", highlight=False)
                console.print(f"  {escape(link)}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command(rich_help_panel="Run")(report)

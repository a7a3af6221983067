"""``notion-feedback run``: the daemon (rating sync, daily report, weekly and monthly rollups)."""

from __future__ import annotations

import typer

from notion_feedback.cli.common import friendly_errors, settings_or_exit
from notion_feedback.config import require
from notion_feedback.daemon.scheduler import run_daemon


def run(
    quick: bool = typer.Option(
        False,
        "--quick",
        help="Demo schedule: sync every 20 s, reports every few minutes (not for production).",
    ),
) -> None:
    """Run the scheduled jobs until stopped: the rating sync every NOTION_FEEDBACK_SYNC_INTERVAL_MINUTES (5),
    the daily report at NOTION_FEEDBACK_REPORT_TIME (07:00) in NOTION_FEEDBACK_TIMEZONE, the weekly rollup on
    Mondays and the monthly rollup on the 1st.

    Start as many as you like (e.g. two replicas): one holds the lease in the state store and runs the jobs,
    the others stand by and take over within NOTION_FEEDBACK_LEASE_SECONDS if it dies. Ctrl-C or SIGTERM stops
    after the current step. Logs are one line per job run (NOTION_FEEDBACK_LOG_FORMAT=json for structured lines).

        notion-feedback run
        NOTION_FEEDBACK_LOG_FORMAT=json notion-feedback run
        notion-feedback status        # from another shell: last and next runs, lag, errors
    """
    settings = settings_or_exit()
    with friendly_errors(settings):
        require(settings, "notion_token", "langsmith_api_key", "feedback_data_source_id", "reports_data_source_id")
        run_daemon(settings, quick=quick)


def register(app: typer.Typer) -> None:
    app.command(rich_help_panel="Run")(run)

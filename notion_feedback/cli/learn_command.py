"""``notion-feedback learn``: bring the low- and high-rated datasets up to date now, with a progress bar."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from notion_feedback.cli.common import console, friendly_errors, settings_or_exit
from notion_feedback.daemon.jobruns import LEARN_JOB, run_recorded
from notion_feedback.learn import LearnResult, run_learn


def _table(result: LearnResult) -> Table:
    verb = "would be " if result.dry_run else ""
    title = f"Datasets from {result.ratings:,} ratings" + (" (dry run: nothing written)" if result.dry_run else "")
    table = Table(title=title, show_edge=False)
    table.add_column("dataset", style="bold")
    for label in (f"{verb}created", f"{verb}updated", f"{verb}removed", "unchanged", "examples"):
        table.add_column(label, justify="right")
    for r in result.datasets.values():
        name = escape(r.name) + ("" if r.dataset_id else " [dim](new)[/]")
        table.add_row(name, *(f"{n:,}" for n in (r.created, r.updated, r.deleted, r.unchanged, r.examples)))
    table.caption = f"{result.langsmith_requests:,} LangSmith requests · {result.duration:.1f} s · no Notion requests"
    return table


def learn(
    dry_run: bool = typer.Option(False, "--dry-run", help="Read and compare only; write and create nothing."),
) -> None:
    """Bring the two LangSmith datasets in step with the ratings now (the daemon does it every
    NOTION_FEEDBACK_LEARN_EVERY_MINUTES).

    Runs rated low in Notion (default: 2 or less on 1-5, 4 or less on 1-10, 👎) are examples of the low-rated
    dataset, runs rated high (5, 9 or more, 👍) of the high-rated one: one example per run, with the run's inputs
    and outputs (redacted as the recorder redacts rows) and the rating, comment, variant, model, user and the
    Notion row's link as metadata. A changed rating moves or updates the example, a cleared one removes it; the
    ratings are read from LangSmith as the sync wrote them, so run `notion-feedback sync` first for the latest.
    Examples you add to the datasets yourself are never touched. Re-running is always safe.

    Examples:

        notion-feedback learn --dry-run    # what would change, writing nothing
        notion-feedback learn              # create, update and remove examples now
    """
    settings = settings_or_exit()
    with friendly_errors(settings):
        progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}[/]"),
            BarColumn(),
            TextColumn("{task.completed:,.0f} examples"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        with progress:
            task = progress.add_task("reading ratings and datasets", total=None)

            def tick(step: str, n: int) -> None:
                progress.update(task, description=f"writing examples ({step})", advance=n)

            def work() -> LearnResult:
                return run_learn(settings, dry_run=dry_run, progress=tick)

            result = work() if dry_run else run_recorded(settings, LEARN_JOB, work, LearnResult.counts)
        console.print(_table(result))


def register(app: typer.Typer) -> None:
    app.command(rich_help_panel="Run")(learn)

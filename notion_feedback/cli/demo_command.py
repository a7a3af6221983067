"""``notion-feedback demo``: the whole product on local emulators, no accounts needed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from notion_feedback.cli.common import console, friendly_errors
from notion_feedback.logs import setup_logging

if TYPE_CHECKING:
    from notion_feedback.demo import DemoOptions, DemoResult


def demo(
    data_dir: Path = typer.Option(
        Path("demo-data"),
        "--data-dir",
        metavar="DIR",
        help="Where the emulated workspace and the product's state are kept.",
    ),
    once: bool = typer.Option(False, "--once", help="Run one cycle and exit (for scripts and CI)."),
    days: int = typer.Option(14, "--days", metavar="DAYS", min=1, max=90, help="Days of synthetic history."),
    per_day: int = typer.Option(
        10, "--interactions-per-day", metavar="N", min=1, max=500, help="Interactions per day (±30 %)."
    ),
    seed: int = typer.Option(
        7, "--seed", metavar="N", help="Seed of the synthetic traffic (same seed, same interactions)."
    ),
    notion_port: int = typer.Option(
        0, "--notion-port", metavar="PORT", help="Port of the Notion emulator; 0 picks a free one."
    ),
    langsmith_port: int = typer.Option(
        0, "--langsmith-port", metavar="PORT", help="Port of the LangSmith emulator; 0: a free one."
    ),
    no_rate_limit: bool = typer.Option(
        False,
        "--no-rate-limit",
        help="Turn off the emulated rate limits (faster, less like the real services).",
    ),
    json_out: bool = typer.Option(False, "--json", help="With --once: print the result as JSON on stdout."),
) -> None:
    """Run the product end to end on local emulators of Notion and LangSmith: no accounts, no network.

    1. starts both emulators, with their state in --data-dir;
    2. creates the Feedback and Reports data sources (`init`);
    3. generates two weeks of agent traffic through the capture API (two variants, two models, tool calls,
       some failures), traced in LangSmith and recorded as rows in Notion; variant B looks up few-shot examples
       among the answers rated 5 on earlier days;
    4. rates part of the rows as people would in Notion, by what they see (failures, slow answers and generic
       replies rated low; the variant is never an input), many rows left unrated;
    5. syncs the ratings to LangSmith feedback, fills the datasets and the review queue, and publishes the last
       daily reports and the weekly rollup;
    6. prints where to look (a workspace viewer in your browser) and keeps the daemon running on a quick
       schedule (sync every 20 s) until Ctrl-C. Change a rating in the viewer and watch the next sync take it.

    Running it again on the same --data-dir reuses everything (nothing is duplicated).

        notion-feedback demo
        notion-feedback demo --once --days 3 --interactions-per-day 10     # CI: one cycle, then exit
        notion-feedback sandbox --data-dir demo-data                        # the same workspace, later
    """
    from notion_feedback.config import load_settings
    from notion_feedback.demo import Demo, DemoOptions

    with friendly_errors():
        base = load_settings()
    setup_logging("WARNING" if base.log_level == "INFO" else base.log_level, base.log_format)
    options = DemoOptions(
        data_dir=data_dir,
        once=once,
        days=days,
        per_day=per_day,
        seed=seed,
        notion_port=notion_port,
        langsmith_port=langsmith_port,
        rate_limit=not no_rate_limit,
    )
    with friendly_errors():
        result = Demo(options, console).run()
    if once:
        _print_once(result, options, json_out)


def register(app: typer.Typer) -> None:
    app.command(rich_help_panel="Try it")(demo)


def _print_once(result: DemoResult, options: DemoOptions, json_out: bool) -> None:
    """What one cycle did, where to look, and (``--json``) the whole result for scripts."""
    sync, learned = result.sync, result.learn
    console.print(
        f"[green]✓[/] {result.interactions} interactions ({result.new_interactions} new), "
        f"{result.ratings} ratings; sync: {sync.get('created', 0)} created, {sync.get('updated', 0)} updated, "
        f"{sync.get('errors', 0)} errors; datasets: {learned.get('low_examples', 0)} low-rated and "
        f"{learned.get('high_examples', 0)} high-rated examples, {learned.get('review_in_queue', 0)} runs in the "
        f"review queue; {len(result.reports)} report pages; timings {result.seconds}"
    )
    from notion_feedback.demo.runner import show_where_to_look

    show_where_to_look(console, result, options)
    console.print("(--once: the sandbox has stopped; run without --once to keep it and the daemon running)")
    if json_out:
        typer.echo(json.dumps({k: v for k, v in result.__dict__.items() if k != "env"}, default=str))

"""``notion-feedback evaluate``: a candidate agent over the questions people rated low, as a LangSmith experiment,
compared with the production ratings on a Notion page."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from notion_feedback.cli.common import console, friendly_errors, settings_or_exit
from notion_feedback.learn.evaluate import Evaluation, run_evaluation
from notion_feedback.references import load_callable


def _table(ev: Evaluation) -> Table:
    table = Table(title=f"Experiment {escape(ev.experiment)}: {len(ev.cases)} low-rated questions", show_edge=False)
    table.add_column("", style="bold")
    table.add_column("average", justify="right")
    production = ev.production_mean()
    table.add_row("production rating", "—" if production is None else f"{production:.2f}")
    for key in ev.score_keys():
        score = ev.mean_score(key)
        table.add_row(f"candidate: {escape(key)}", "—" if score is None else f"{score:.2f}")
    return table


def evaluate(
    target: str = typer.Option(
        ...,
        "--target",
        metavar="MODULE:FUNCTION",
        help='The candidate agent, "package.module:function" (inputs → outputs).',
    ),
    evaluator: list[str] = typer.Option(
        [],
        "--evaluator",
        metavar="MODULE:FUNCTION",
        help='A judge, "package.module:function" (run, example → {key, score}); repeatable.',
    ),
    page: bool = typer.Option(True, "--page/--no-page", help="Publish the comparison page in Notion."),
    concurrency: int = typer.Option(
        0, "--concurrency", min=0, metavar="N", help="Questions answered at once (0: one by one)."
    ),
) -> None:
    """Run a candidate agent over the low-rated dataset as a LangSmith experiment (langsmith.evaluate) and publish a
    Notion page that sets its scores beside the production ratings of the same questions, in total and question by
    question.

    Without --evaluator the built-in judge decides, question by question, whether the new answer still has the
    problem the person's comment names: it has when the candidate failed, gave the very answer people rated low,
    or (for a comment about slowness) took longer than 3 s. It is a plain rule; plug in your own LLM judge with
    --evaluator. The page goes under NOTION_FEEDBACK_PARENT_PAGE_ID (set by `init --write-env`).

    Examples:

        notion-feedback evaluate --target my_agent.candidate:answer
        notion-feedback evaluate --target my_agent.candidate:answer --evaluator my_agent.judges:helpful
    """
    settings = settings_or_exit()
    with friendly_errors(settings):
        candidate = load_callable(target, "--target")
        judges = [load_callable(ref, "--evaluator") for ref in evaluator]
        with console.status("the candidate answers the low-rated questions…"):
            ev = run_evaluation(settings, candidate, judges, publish=page, concurrency=concurrency)
        if not ev.cases:
            console.print(
                escape(f"Nothing to evaluate yet: the low-rated dataset {ev.dataset!r} is empty.")
                + " It fills as people rate answers low: `notion-feedback sync`, then `notion-feedback learn`.",
                highlight=False,
            )
            return
        console.print(_table(ev))
        if ev.experiment_url:
            console.print(f"Experiment: {escape(ev.experiment_url)}", soft_wrap=True, highlight=False)
        if ev.page_url:
            console.print(f"Notion page: {escape(ev.page_url)}", soft_wrap=True, highlight=False)


def register(app: typer.Typer) -> None:
    app.command(rich_help_panel="Run")(evaluate)

"""Regression evaluation: a candidate over the low-rated questions, an experiment in LangSmith, a Notion page that
compares it with the production ratings."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from notion_feedback.cli.app import app
from notion_feedback.errors import ConfigError
from notion_feedback.learn import run_learn
from notion_feedback.learn.evaluate import FIXED_KEY, run_evaluation, still_has_the_problem
from notion_feedback.references import load_callable
from notion_feedback.sync.engine import run_sync
from notion_feedback.testing import World, make_world

sys.path.insert(0, str(Path(__file__).parent))
import candidates  # noqa: E402


def _run(answer: str | None, error: str | None = None, seconds: float = 1.0) -> SimpleNamespace:
    from datetime import UTC, datetime, timedelta

    start = datetime(2026, 12, 1, tzinfo=UTC)
    outputs = {"answer": answer} if answer is not None else {}
    return SimpleNamespace(outputs=outputs, error=error, start_time=start, end_time=start + timedelta(seconds=seconds))


def _example(old: str, comment: str) -> SimpleNamespace:
    return SimpleNamespace(outputs={"answer": old}, metadata={"comment": comment})


@pytest.mark.parametrize(
    ("run", "comment", "fixed"),
    [
        (_run("A better answer"), "it was wrong", 1),
        (_run(None, error="boom"), "it was wrong", 0),
        (_run("   "), "it was wrong", 0),
        (_run("The OLD answer!"), "it was wrong", 0),  # the same words
        (_run("A new answer", seconds=5), "Too slow, I waited", 0),
        (_run("A new answer", seconds=1), "Too slow, I waited", 1),
        (_run("A new answer", seconds=5), "vague", 1),  # slowness only counts when the comment names it
    ],
)
def test_the_built_in_judge_follows_its_four_rules(run, comment: str, fixed: int) -> None:
    verdict = still_has_the_problem(run, _example("the old answer", comment))
    assert verdict["key"] == FIXED_KEY and verdict["score"] == fixed and verdict["comment"]


@pytest.fixture()
def world(sandbox, settings) -> World:
    return make_world(sandbox, settings)


def _low_rated(world: World) -> list[str]:
    runs = world.trace_runs(4)
    for run, (rating, comment) in zip(
        runs, [("1", "wrong"), ("2", "too slow"), ("1", ""), ("5", "great")], strict=True
    ):
        world.add_row(run, rating=rating, comment=comment or None)
    run_sync(world.settings)
    run_learn(world.settings)
    return runs


def _page_text(world: World, url: str) -> str:
    page_id = url.rstrip("/").rsplit("-", 1)[-1]
    rows = world.notion.blocks.children.list(page_id, page_size=100)["results"]
    out = []
    for b in rows:
        body = b[b["type"]]
        out.append("".join(t["plain_text"] for t in body.get("rich_text", [])))
        if b["type"] == "table":
            for row in world.notion.blocks.children.list(b["id"], page_size=100)["results"]:
                out.append(" | ".join("".join(t["plain_text"] for t in cell) for cell in row["table_row"]["cells"]))
    return "\n".join(out)


def test_a_better_candidate_fixes_the_low_rated_questions(world: World) -> None:
    _low_rated(world)
    ev = run_evaluation(world.settings, candidates.better)
    assert len(ev.cases) == 3 and ev.mean_score(FIXED_KEY) == 1.0
    assert ev.production_mean() == pytest.approx((1 + 2 + 1) / 3)
    text = _page_text(world, ev.page_url or "")
    assert "average rating 1.33" in text and "problem_fixed: 1.00 — 100% of the questions" in text
    assert "too slow" in text and "A new, complete answer to q" in text
    experiment = world.langsmith.read_project(project_name=ev.experiment)
    assert str(experiment.reference_dataset_id) == str(
        world.langsmith.read_dataset(dataset_name=world.settings.dataset_name("low")).id
    )
    scores = [f.score for f in world.langsmith.list_feedback(feedback_key=[FIXED_KEY])]
    assert sorted(scores) == [1.0, 1.0, 1.0]  # the judge's verdicts are feedback on the experiment's runs


def test_a_candidate_that_repeats_or_fails_keeps_the_problems(world: World) -> None:
    _low_rated(world)
    assert run_evaluation(world.settings, candidates.unchanged, publish=False).mean_score(FIXED_KEY) == 0.0
    assert run_evaluation(world.settings, candidates.broken, publish=False).mean_score(FIXED_KEY) == 0.0


def test_a_team_s_own_judge_replaces_the_built_in_one(world: World) -> None:
    _low_rated(world)
    ev = run_evaluation(world.settings, candidates.better, [candidates.length_judge], publish=False)
    assert ev.score_keys() == ["long_enough"] and ev.mean_score("long_enough") == 1.0


def test_nothing_to_evaluate_is_no_experiment_and_says_what_fills_the_dataset(
    world: World, sandbox, monkeypatch
) -> None:
    from cli_support import set_cli_env

    before = len(list(world.langsmith.list_projects()))
    ev = run_evaluation(world.settings, candidates.better)
    assert ev.cases == [] and ev.page_url is None and len(list(world.langsmith.list_projects())) == before
    set_cli_env(world.settings, sandbox, monkeypatch, world.ds_id, "")
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    result = CliRunner().invoke(app, ["evaluate", "--target", "candidates:better"])
    assert (
        result.exit_code == 0
        and "Nothing to evaluate yet" in result.output
        and "notion-feedback learn" in result.output
    )


def test_the_command_loads_the_candidate_and_prints_the_links(world: World, sandbox, monkeypatch) -> None:
    from cli_support import set_cli_env

    _low_rated(world)
    set_cli_env(world.settings, sandbox, monkeypatch, world.ds_id, world.settings.reports_data_source_id or "")
    monkeypatch.setenv("NOTION_FEEDBACK_PARENT_PAGE_ID", world.settings.parent_page_id or "")
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    result = CliRunner().invoke(app, ["evaluate", "--target", "candidates:better"])
    assert result.exit_code == 0, result.output
    assert "Experiment: http" in result.output and "Notion page: http" in result.output
    bad = CliRunner().invoke(app, ["evaluate", "--target", "candidates:nope"])
    assert bad.exit_code != 0 and "--target='candidates:nope' cannot be loaded" in bad.output
    assert "Traceback" not in bad.output


def test_a_reference_without_a_function_is_refused() -> None:
    with pytest.raises(ConfigError):
        load_callable("candidates", "--target")

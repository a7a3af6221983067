"""The demo: believable synthetic traffic, and one end-to-end cycle that a re-run does not duplicate."""

from __future__ import annotations

import json
import statistics
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from notion_client import Client
from typer.testing import CliRunner

from notion_feedback.cli.app import app
from notion_feedback.demo.traffic import FAILED_ANSWER, MODELS, VARIANTS, deterministic_run_id, generate
from notion_feedback.sandbox.server import Sandbox, SandboxOptions


def test_traffic_has_the_patterns_a_report_should_reveal() -> None:
    items = generate(days=14, per_day=60, seed=3, today=date(2026, 11, 24))
    assert generate(days=14, per_day=60, seed=3, today=date(2026, 11, 24)) == items, "a pure function of the seed"
    assert {i.start.date() for i in items} >= {date(2026, 11, 10), date(2026, 11, 23)}
    assert all(i.start.date() < date(2026, 11, 24) for i in items), "history only: nothing from today"
    assert [i.start for i in items] == sorted(i.start for i in items)
    assert {i.variant for i in items} == set(VARIANTS) and {i.model for i in items} == set(MODELS)
    assert all(i.tools and i.tools[0].start >= i.start and i.tools[-1].end <= i.end for i in items)
    failed = [i for i in items if i.error]
    assert 0.02 < len(failed) / len(items) < 0.12 and all(i.answer == FAILED_ANSWER for i in failed)
    rated = [i for i in items if i.rating is not None]
    assert 0.45 < len(rated) / len(items) < 0.8, "many rows stay unrated"
    assert any(i.comment for i in rated) and not any(i.comment for i in items if i.rating is None)

    def mean(values: list[int | None]) -> float:
        return statistics.mean(v for v in values if v is not None)

    ok = [i for i in rated if not i.error]
    assert mean([i.rating for i in ok if i.variant == "B"]) > mean([i.rating for i in ok if i.variant == "A"]) + 0.15
    assert mean([i.rating for i in failed]) < 2.0
    fast = [i.rating for i in ok if i.latency_s < 2.5]
    slow = [i.rating for i in ok if i.latency_s > 4.5]
    assert slow and mean(slow) < mean(fast) - 0.3
    assert mean([i.input_tokens for i in items if i.variant == "B"]) > mean(
        [i.input_tokens for i in items if i.variant == "A"]
    )


def test_run_ids_are_uuid7_at_the_run_start_and_stable() -> None:
    start = datetime(2026, 11, 20, 9, 30, 12, 345000, tzinfo=UTC)
    run_id = deterministic_run_id(start, 7, 42)
    parsed = uuid.UUID(run_id)
    assert parsed.version == 7 and parsed.variant == uuid.RFC_4122
    assert parsed.int >> 80 == int(start.timestamp() * 1000)
    assert run_id == deterministic_run_id(start, 7, 42) != deterministic_run_id(start, 7, 43)


def _text(prop: dict) -> str:
    return "".join(t["plain_text"] for t in prop.get("rich_text", []))


def _rows_and_feedback(data_dir: Path, env: dict[str, str]) -> dict[str, object]:
    """Reopen the demo's sandbox from its data directory: rows, rated rows and feedback counted, and what the
    datasets and the review queue hold beside what the rows call for."""
    with Sandbox(SandboxOptions(data_dir=data_dir, rate_limit=False)) as sb:
        notion = Client(auth=sb.notion.token, base_url=sb.notion_url)
        rows = []
        cursor = None
        while True:
            page = notion.data_sources.query(
                env["NOTION_FEEDBACK_FEEDBACK_DATA_SOURCE_ID"],
                page_size=100,
                **({"start_cursor": cursor} if cursor else {}),
            )
            rows += page["results"]
            if not page["has_more"]:
                break
            cursor = page["next_cursor"]
        rated = [r["properties"] for r in rows if r["properties"]["Rating"]["select"]]
        import langsmith

        smith = langsmith.Client(api_url=sb.langsmith_url, api_key=sb.langsmith.api_key)
        feedback = list(smith.list_feedback(feedback_key=["user_rating"]))
        score = {_text(p["Run ID"]): float(p["Rating"]["select"]["name"]) for p in rated}
        held = {}
        for kind in ("low", "high"):
            dataset = smith.read_dataset(dataset_name=f"{env['LANGSMITH_PROJECT']} · {kind}-rated")
            held[kind] = sorted(str(e.source_run_id) for e in smith.list_examples(dataset_id=dataset.id))
        from notion_feedback.config import Settings
        from notion_feedback.learn import FewShotExamples

        options = {"langsmith_endpoint": sb.langsmith_url, "langsmith_api_key": sb.langsmith.api_key}
        shots = FewShotExamples(Settings(_env_file=None, langsmith_project=env["LANGSMITH_PROJECT"], **options))
        assert shots.wait_ready(30) and shots.last_error is None
        asked = next((p.question for p in shots.pairs), "")
        found = shots.examples(asked, k=3)
        shots.close()
        from notion_feedback.smith import dashboard

        board = dashboard.find_dashboard(smith, Settings(_env_file=None, langsmith_project=env["LANGSMITH_PROJECT"]))
        (queue,) = smith.list_annotation_queues(name=f"{env['LANGSMITH_PROJECT']} · review")
        queued = sorted(str(r.id) for r in smith.list_runs_from_annotation_queue(queue.id))
        return {
            "rows": len(rows),
            "rated": len(rated),
            "feedback": len(feedback),
            "low": (held["low"], sorted(run for run, s in score.items() if s <= 2)),
            "high": (held["high"], sorted(run for run, s in score.items() if s >= 5)),
            "examples": (len(found), min(3, len(held["high"]))),
            "dashboard charts": (board.charts if board else 0, len(dashboard.CHARTS)),
            "queue": (
                queued,
                sorted(_text(p["Run ID"]) for p in rated if _text(p["Comment"]) and score[_text(p["Run ID"])] <= 2),
            ),
        }


def _demo(data_dir: Path, *args: str) -> dict:
    result = CliRunner().invoke(
        app, ["demo", "--once", "--json", "--data-dir", str(data_dir), "--seed", "11", *args], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def _status_with(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict:
    """`status --json` as a person runs it after the demo, with the settings of `DIR/demo.env`."""
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(app, ["status", "--json"])
    assert result.exit_code == 0, result.output
    return {job["id"]: job["last_run"] for job in json.loads(result.stdout)["jobs"]}


def test_demo_once_end_to_end_and_a_rerun_duplicates_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data_dir = tmp_path / "demo"
    small = ("--days", "2", "--interactions-per-day", "5", "--no-rate-limit")
    first = _demo(data_dir, *small)
    assert first["interactions"] == first["new_interactions"] > 0
    assert first["ratings"] > 0 and first["sync"]["created"] == first["ratings"] and first["sync"]["errors"] == 0
    assert [r["period"] for r in first["reports"]] == ["day", "day", "day", "week"]
    learned = first["learn"]
    assert learned["low_examples"] + learned["high_examples"] > 0
    assert learned["low_created"] == learned["low_examples"] and learned["high_created"] == learned["high_examples"]
    assert all(r["charts"] >= 2 and r["page_id"] for r in first["reports"])
    env = dict(line.split("=", 1) for line in (data_dir / "demo.env").read_text().splitlines())
    assert env["NOTION_FEEDBACK_FEEDBACK_DATA_SOURCE_ID"] and env["NOTION_FEEDBACK_REPORTS_DATA_SOURCE_ID"]

    again = _demo(data_dir, *small)
    assert again["new_interactions"] == 0 and again["ratings"] == 0
    assert again["sync"]["created"] == 0 and again["sync"]["errors"] == 0
    assert again["learn"]["low_created"] == again["learn"]["high_created"] == again["learn"]["review_added"] == 0
    assert [r["page_id"] for r in again["reports"]] == [r["page_id"] for r in first["reports"]], "same report pages"
    env_again = dict(line.split("=", 1) for line in (data_dir / "demo.env").read_text().splitlines())
    assert env_again["NOTION_FEEDBACK_FEEDBACK_DATA_SOURCE_ID"] == env["NOTION_FEEDBACK_FEEDBACK_DATA_SOURCE_ID"]

    seen = _rows_and_feedback(data_dir, env)
    assert seen["rows"] == first["interactions"] and seen["rated"] == first["ratings"] == seen["feedback"]
    for part in (
        "low",
        "high",
        "queue",
        "examples",
    ):  # the datasets and the queue hold exactly the runs the rows put there
        held, wanted = seen[part]
        assert held == wanted, part
    assert seen["low"][0] or seen["high"][0], "a small demo still rates some runs low or high"

    last = _status_with(env_again, monkeypatch)  # the demo's sync and reports are runs of the daemon's jobs
    assert last["sync_ratings"]["outcome"] == "ok" and last["sync_ratings"]["summary"]["rows_seen"] > 0
    assert last["daily_report"]["outcome"] == "ok" and last["weekly_rollup"]["outcome"] == "ok"
    assert last["learn"]["outcome"] == "ok" and last["learn"]["summary"]["ratings"] == first["ratings"]
    assert last["weekly_rollup"]["summary"]["page_id"] == first["reports"][-1]["page_id"]


@pytest.mark.slow
def test_demo_once_with_the_rate_limits_on(tmp_path: Path) -> None:
    """The CI size with the emulated rate limits, as `scripts/demo --once` runs it (about a minute)."""
    result = _demo(tmp_path / "demo", "--days", "3", "--interactions-per-day", "10")
    assert result["new_interactions"] == result["interactions"] > 15
    assert result["sync"]["created"] == result["ratings"] and result["sync"]["errors"] == 0
    assert len(result["reports"]) == 4

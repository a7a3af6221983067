"""What users complain about: low-rated comments grouped by shared phrases, pure and through the weekly report."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from report_helpers import Interaction, trace

from notion_feedback.config import Settings
from notion_feedback.notion import blocks
from notion_feedback.notion.client import make_notion_client
from notion_feedback.notion.schema import SCALES
from notion_feedback.notion.text import plain_text
from notion_feedback.report import kpi, themes
from notion_feedback.report import publish as report
from notion_feedback.report.themes import Comment
from notion_feedback.sandbox.server import Sandbox

# The shipped template of this checkout (an editable install may map the package data to another one).
SHIPPED = Path(__file__).parents[2] / "templates" / report.TEMPLATE_NAME


def _c(*texts: str) -> list[Comment]:
    return [Comment(t, f"https://notion.test/row-{i}", f"run-{i}") for i, t in enumerate(texts)]


SLOW_AND_WRONG = _c(
    "The answer was slow to arrive",
    "So SLOW!!! really, really slow.",
    "Slow answer and wrong numbers",
    "Wrong numbers in the table",
    "wrong numbers again...",
    "The link is broken",
    "broken link to the docs",
    "meh",
)


# -- the method ---------------------------------------------------------------------------------------------------


def test_known_comments_give_known_themes_counts_and_other() -> None:
    last_week = _c("slow again", "so slow", "slow", "wrong numbers", "a broken page", "fine otherwise")
    got = themes.summarise(SLOW_AND_WRONG, last_week)
    assert got is not None
    # "slow" and "wrong numbers" both reach 3 comments: the word pair wins the tie and takes the shared comment
    assert [(t.label, t.count, t.previous, t.trend) for t in got.themes] == [
        ("wrong numbers", 3, 1, "▲ 2"),
        ("broken", 2, 1, "▲ 1"),  # "broken" and "link" tie at 2: alphabetical
        ("slow", 2, 3, "▼ 1"),
    ]
    assert (got.total, got.other, got.previous_total) == (8, 1, 6)
    assert got.themes[0].example == "Slow answer and wrong numbers" and got.themes[0].url.endswith("row-2")
    assert got.in_queue is None and got.queue_share is None  # the review queue is unknown: no share


def test_the_same_comments_in_any_order_give_the_same_themes() -> None:
    orders = [SLOW_AND_WRONG, SLOW_AND_WRONG[::-1], SLOW_AND_WRONG[3:] + SLOW_AND_WRONG[:3]]
    assert len({_labels(order) for order in orders}) == 1
    assert _labels(SLOW_AND_WRONG) == (("wrong numbers", 3), ("broken", 2), ("slow", 2))


def _labels(comments: list[Comment]) -> tuple[tuple[str, int], ...]:
    got = themes.summarise(comments, [])
    assert got is not None
    return tuple((t.label, t.count) for t in got.themes)


def test_ties_go_to_the_word_pair_then_the_alphabet() -> None:
    assert themes.cluster(["zebra apple", "apple zebra"]) == [("apple", [0, 1])]
    assert themes.cluster(["late reply", "late reply"]) == [("late reply", [0, 1])]


def test_a_theme_needs_two_comments_and_at_most_n_themes_are_made() -> None:
    assert themes.cluster(["slow", "broken", "ugly"]) == []
    got = themes.summarise(_c("slow", "broken", "ugly"), [])
    assert got is not None and got.themes == [] and got.other == 3
    many = [f"word{i} x{i}" for i in range(10) for _ in range(2)]
    assert len(themes.cluster(many)) == themes.MAX_THEMES and len(themes.cluster(many, max_themes=2)) == 2
    assert themes.cluster(["a b", "c d", "c d"], min_size=3) == []


def test_no_comment_means_no_section() -> None:
    assert themes.summarise([], _c("slow", "slow")) is None
    assert themes.summarise(_c("", "   "), []) is None


def test_the_review_queue_share_counts_this_weeks_rows_in_it() -> None:
    got = themes.summarise(SLOW_AND_WRONG, [], queue={"run-0", "run-3", "not-this-week"})
    assert got is not None and got.in_queue == 2 and got.queue_share == pytest.approx(0.25)
    assert themes.summarise(SLOW_AND_WRONG, [], queue=set()).queue_share == 0.0  # type: ignore[union-attr]


def test_low_ratings_per_scale() -> None:
    assert themes.low_options(SCALES["1-5"]) == ["1", "2"]
    assert themes.low_options(SCALES["1-10"]) == ["1", "2", "3", "4"]
    assert themes.low_options(SCALES["thumbs"]) == ["👎"]


# -- hostile text ---------------------------------------------------------------------------------------------------


def test_a_million_character_comment_runs_in_bounded_time() -> None:
    huge = "slow " * 200_000 + "[" * 200_000 + "<" * 200_000
    t0 = time.perf_counter()
    got = themes.summarise(_c(huge, huge, "fine"), _c(huge) * 50)
    assert time.perf_counter() - t0 < 2.0
    assert got is not None and [(t.label, t.count, t.previous) for t in got.themes] == [("slow", 2, 50)]
    assert len(got.themes[0].example) <= themes.EXAMPLE_CHARS and got.themes[0].example.endswith("…")


def test_bidi_controls_and_markup_never_reach_the_label_or_the_example() -> None:
    evil = "\u202etxet\u202c **Broken** <script>alert(1)</script> [login](javascript:alert(1)) `x` \u2066 # |a|"
    got = themes.summarise(_c(evil, "\u202ebroken\u202c again"), [])
    assert got is not None
    [theme] = got.themes
    assert theme.label == "broken"
    for text in (theme.label, theme.example):
        assert not any(ch in text for ch in "\u202e\u202c\u2066*<>[]()`#|")
    assert "javascript" not in theme.example and "login" in theme.example
    # what reaches the page goes through the template's `md` filter: its special characters show as typed
    assert blocks.inline(blocks.escape("a*b*_c_")) == blocks.inline("a\\*b\\*\\_c\\_")


def test_the_daily_report_has_no_section_and_asks_nothing() -> None:
    k = kpi.Kpis("day", date(2026, 12, 1), date(2026, 12, 1))
    data = report.ReportData("day", k.start, k.end, k, None, kpi.Series([], [], 0), [])
    assert report.complaint_themes(None, Settings(_env_file=None), data, None) is None  # type: ignore[arg-type, call-arg]


# -- through the weekly report on the sandbox ---------------------------------------------------------------------


def _rate(notion: Any, ws: Settings, when: datetime, rating: str, comment: str, run_id: str) -> dict[str, Any]:
    """A Feedback row as the recorder writes it and a user rates it."""
    rich = [{"type": "text", "text": {"content": comment}}] if comment else []
    return notion.pages.create(  # type: ignore[no-any-return]
        parent={"type": "data_source_id", "data_source_id": ws.feedback_data_source_id},
        properties={
            "Question": {"title": [{"type": "text", "text": {"content": f"question {run_id}"}}]},
            "Rating": {"select": {"name": rating}},
            "Comment": {"rich_text": rich},
            "Run ID": {"rich_text": [{"type": "text", "text": {"content": run_id}}]},
            "Run start": {"date": {"start": when.isoformat()}},
        },
    )


def _texts_and_links(notion: Any, page_id: str) -> list[tuple[str, str, list[str]]]:
    out = []
    for b in notion.blocks.children.list(page_id, page_size=100)["results"]:
        rich = b[b["type"]].get("rich_text")
        if rich is not None:
            out.append((b["type"], plain_text(rich), [r["text"]["link"]["url"] for r in rich if r["text"].get("link")]))
    return out


def test_the_weekly_report_shows_the_themes_with_counts_and_an_example_link(ws: Settings, sandbox: Sandbox) -> None:
    tz = ZoneInfo(ws.timezone)
    monday = kpi.period_range("week", kpi.last_complete("week", datetime.now(tz).date()))[0]

    def at(days: int, hour: int) -> datetime:
        return datetime.combine(monday + timedelta(days=days), datetime.min.time(), tz).replace(hour=hour)

    trace(ws, [Interaction(at(1, 9).astimezone(UTC), 1.0, 400, 0.002, rating=1)])
    notion = make_notion_client(ws)
    rows = [
        _rate(notion, ws, at(0, 10), "1", "Slow answer, I waited a minute", "r1"),
        _rate(notion, ws, at(2, 10), "2", "**slow answer** again", "r2"),
        _rate(notion, ws, at(4, 10), "1", "Such a slow answer <b>today</b>", "r3"),  # the newest: the example
        _rate(notion, ws, at(3, 10), "2", "The numbers are wrong", "r4"),
        _rate(notion, ws, at(5, 10), "1", "numbers wrong twice", "r5"),
        _rate(notion, ws, at(6, 10), "1", "meh", "r6"),
        _rate(notion, ws, at(6, 11), "5", "slow answer but fine", "r7"),  # rated well: not a complaint
        _rate(notion, ws, at(6, 12), "1", "", "r8"),  # no comment: nothing to group
        _rate(notion, ws, at(-3, 10), "2", "slow answer last week", "p1"),
        _rate(notion, ws, at(-6, 10), "1", "wrong numbers, last week", "p2"),
        _rate(notion, ws, at(-12, 10), "1", "slow answer two weeks ago", "p3"),  # outside both weeks
    ]
    before = sandbox.notion.control.count("POST /v1/data_sources/{id}/query")
    settings = ws.model_copy(update={"report_template": str(SHIPPED)})
    result = report.publish_report(settings, "week", notify=False, review_queue={"r1", "r4", "p1"})
    queries = sandbox.notion.control.count("POST /v1/data_sources/{id}/query") - before
    assert queries == 3  # the page searched in Reports (no state yet), the lowest rows, the low comments

    lines = _texts_and_links(notion, result.page_id)
    at_heading = lines.index(("heading_3", "What users complain about", []))
    intro, *section = lines[at_heading + 1 : at_heading + 5]
    assert intro[1] == (
        "6 low-rated interactions with a comment this week (2 last week), grouped by the phrase they share.\n"
        "2 of them (33.3 %) are in the review queue."
    )
    assert [(kind, text.split(" · e.g. ")[0]) for kind, text, _ in section] == [
        ("bulleted_list_item", "slow answer: 3 this week, 1 last week (▲ 2)"),
        ("bulleted_list_item", "numbers wrong: 2 this week, 0 last week (new)"),  # word order counts
        ("bulleted_list_item", "Other: 1 this week"),
    ]
    assert section[0][1].endswith("e.g. Such a slow answer today") and section[0][2] == [rows[2]["url"]]
    assert section[1][2] == [rows[4]["url"]]


def test_a_user_template_without_the_section_still_renders(ws: Settings, tmp_path: Path) -> None:
    custom = tmp_path / "t.md.j2"
    custom.write_text("# {{ title }}\n{% if complaints %}{{ complaints.total }}{% endif %}\n", encoding="utf-8")
    settings = ws.model_copy(update={"report_template": str(custom)})
    assert report.load_template(settings).render(title="x", complaints=None) == "# x\n"


def test_a_month_of_complaints_is_read_100_rows_a_request_and_filtered_by_notion(
    ws: Settings, sandbox: Sandbox
) -> None:
    tz = ZoneInfo(ws.timezone)
    first = kpi.period_range("month", kpi.last_complete("month", datetime.now(tz).date()))[0]
    noon = datetime.combine(first, datetime.min.time(), tz).replace(hour=12)
    notion = make_notion_client(ws)
    for i in range(101):
        _rate(notion, ws, noon + timedelta(minutes=i), "2" if i % 2 else "1", f"late reply number{i}", f"m{i}")
    _rate(notion, ws, noon, "3", "late reply, but rated 3", "ok")  # not low on 1-5
    _rate(notion, ws, noon - timedelta(days=3), "1", "late reply last month", "prev")
    k = kpi.Kpis("month", first, kpi.period_range("month", first)[1])
    data = report.ReportData("month", k.start, k.end, k, None, kpi.Series([], [], 0), [])
    before = sandbox.notion.control.count("POST /v1/data_sources/{id}/query")
    got = report.complaint_themes(notion, ws, data, None)
    assert sandbox.notion.control.count("POST /v1/data_sources/{id}/query") - before == 2  # 102 rows: 100 + 2
    assert got is not None and (got.total, got.previous_total, got.other) == (101, 1, 0)
    assert [(t.label, t.count, t.previous, t.trend) for t in got.themes] == [("late reply", 101, 1, "▲ 100")]
    assert got.themes[0].example == "late reply number100"  # the newest

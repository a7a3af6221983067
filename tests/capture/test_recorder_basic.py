"""The recorder on the sandbox: rows arrive with every property, redacted, sampled, never blocking, never twice."""

from __future__ import annotations

import time

import langsmith
import pytest

from notion_feedback.capture import Recorder, interaction, sampled
from notion_feedback.capture.rows import ANSWER_PROPERTY_RUNS, RowValues, feedback_children, feedback_properties
from notion_feedback.capture.spool import Spool
from notion_feedback.config import Settings
from notion_feedback.notion.client import make_notion_client
from notion_feedback.notion.text import plain_text
from notion_feedback.setup.workspace import init_workspace


@pytest.fixture()
def ws_settings(settings: Settings) -> Settings:
    ids = init_workspace(settings, settings.parent_page_id, langsmith=False)
    return settings.model_copy(
        update={"feedback_data_source_id": ids.feedback_data_source_id, "recorder_backoff_seconds": 0.05}
    )


def rows(settings: Settings) -> list[dict]:
    client = make_notion_client(settings)
    out, cursor = [], None
    while True:
        kwargs = {"start_cursor": cursor} if cursor else {}
        page = client.data_sources.query(settings.feedback_data_source_id, page_size=100, **kwargs)
        out += page["results"]
        if not page.get("has_more"):
            return out
        cursor = page["next_cursor"]


def run_ids(settings: Settings) -> list[str]:
    return [plain_text(r["properties"]["Run ID"]["rich_text"]) for r in rows(settings)]


def test_row_has_every_property_and_text_is_redacted(ws_settings, sandbox) -> None:
    env = sandbox.env()
    client = langsmith.Client(
        api_url=env["LANGSMITH_ENDPOINT"],
        api_key=env["LANGSMITH_API_KEY"],
        web_url=env["LANGSMITH_WEB_URL"],  # as the product's own clients are configured on the sandbox
        auto_batch_tracing=False,
    )
    recorder = Recorder(ws_settings)
    long_answer = "word " * 2000  # 10,000 characters: several runs
    with interaction(
        "agent",
        variant="B, the bold one",
        model="gpt-4o-mini",
        user_id="u-42",
        client=client,
        project_name="rec-tests",
        enabled=True,
    ) as it:
        it.llm(input_tokens=100, output_tokens=50).end()
        recorder.record(
            it,
            question="Mail ada@example.com or call +44 20 7946 0958, key sk-abcdefghijklmnopqrstuv",
            answer=long_answer,
        )
    assert recorder.flush(10)
    recorder.close()
    (row,) = rows(ws_settings)
    p = row["properties"]
    question = plain_text(p["Question"]["title"])
    assert "ada@example.com" not in question and "7946" not in question and "sk-abc" not in question
    assert "[email]" in question and "[phone]" in question
    assert plain_text(p["Answer"]["rich_text"]) == long_answer
    assert plain_text(p["Run ID"]["rich_text"]) == it.run_id
    assert plain_text(p["Project ID"]["rich_text"]) == it.project_id
    assert p["Variant"]["select"]["name"] == "B  the bold one".replace("  ", " ")  # no commas in Notion selects
    assert p["Model"]["select"]["name"] == "gpt-4o-mini"
    assert p["Tokens"]["number"] == 150 and p["Cost (USD)"]["number"] == pytest.approx(it.cost_usd)
    assert p["Latency (ms)"]["number"] == pytest.approx(it.latency_ms, abs=0.1)
    assert p["Trace"]["url"] == it.trace_url
    assert p["Run start"]["date"]["start"][:19] == it.start_time.isoformat()[:19]
    assert plain_text(p["User"]["rich_text"]) == "u-42"
    assert p["Rating"]["select"] is None


def test_title_is_cut_with_an_ellipsis_and_runs_are_bounded() -> None:
    props = feedback_properties(RowValues(run_id="r", question="q" * 5000, answer="a" * 300_000), {})
    (title,) = props["Question"]["title"]
    assert len(title["text"]["content"]) == 2000 and title["text"]["content"].endswith("…")
    runs = props["Answer"]["rich_text"]
    assert len(runs) == ANSWER_PROPERTY_RUNS and all(len(r["text"]["content"]) <= 2000 for r in runs)
    assert feedback_properties(RowValues(run_id="r"), {"Run ID": "Trace id"})["Trace id"]["rich_text"]


def test_sampling_is_deterministic_and_respected(ws_settings) -> None:
    settings = ws_settings.model_copy(update={"sample_rate": 0.3})
    recorder = Recorder(settings)
    its = []
    for i in range(60):
        with interaction("agent", enabled=False) as it:
            pass
        recorder.record(it, question=f"q{i}", answer="a")
        its.append(it)
    assert recorder.flush(10)
    recorder.close()
    expected = {it.run_id for it in its if sampled(it.run_id, 0.3)}
    assert 5 < len(expected) < 40
    assert set(run_ids(settings)) == expected
    assert all(sampled(i, 0.3) == sampled(i, 0.3) for i in expected)


def test_full_memory_queue_spills_to_the_spool_without_blocking(ws_settings) -> None:
    settings = ws_settings.model_copy(update={"recorder_queue_size": 5})
    recorder = Recorder(settings, start=False)  # nobody drains: memory fills up
    for i in range(20):
        with interaction("agent", enabled=False) as it:
            pass
        recorder.record(it, question=f"q{i}", answer="a")
    assert len(recorder._queue) == 5 and recorder.stats.overflowed == 15
    assert recorder.spool.undelivered() == 15
    recorder.start()
    assert recorder.flush(10)
    recorder.close()
    assert len(run_ids(settings)) == 20


def test_no_row_waits_in_memory_longer_than_the_durability_bound(ws_settings) -> None:
    """Memory holds only what the intake writes in half the bound, and nothing older than the bound: past either,
    record() puts the row on disk itself before it returns."""
    settings = ws_settings.model_copy(update={"recorder_max_unsaved_seconds": 0.2})
    recorder = Recorder(settings, start=False)  # nobody drains: only record() itself can write
    its = []
    for i in range(600):
        with interaction("agent", enabled=False) as it:
            pass
        recorder.record(it, question=f"q{i}", answer="a")
        its.append(it)
    assert len(recorder._queue) == 200  # what the intake is first assumed to write in half the bound (2,000/s)
    assert recorder.stats.overflowed == 400 and recorder.spool.undelivered() == 400
    time.sleep(0.25)  # the oldest queued row is now older than the bound
    with interaction("agent", enabled=False) as late:
        pass
    recorder.record(late, question="late", answer="a")
    assert recorder.stats.overflowed == 401 and recorder.spool.undelivered() == 401
    recorder.start()
    assert recorder.flush(30)
    recorder.close()
    assert sorted(run_ids(settings)) == sorted([it.run_id for it in its] + [late.run_id])


def test_unknown_outcome_is_checked_by_run_id_before_resending(ws_settings) -> None:
    """A row marked 'sending' (the process died after the request) that Notion has is not written again."""
    with interaction("agent", enabled=False) as done_it:
        pass
    with interaction("agent", enabled=False) as lost_it:
        pass
    client = make_notion_client(ws_settings)
    client.pages.create(
        parent={"type": "data_source_id", "data_source_id": ws_settings.feedback_data_source_id},
        properties=feedback_properties(RowValues(run_id=done_it.run_id, question="q"), {}),
    )
    spool = Spool(ws_settings.home / "spool.sqlite3")
    spool.add_many(
        [
            (done_it.run_id, RowValues(run_id=done_it.run_id, question="q").to_json()),
            (lost_it.run_id, RowValues(run_id=lost_it.run_id, question="q").to_json()),
        ]
    )
    for row in spool.next_rows():
        spool.mark_sending(row.seq)
    spool.close()
    recorder = Recorder(ws_settings)
    assert recorder.flush(10)
    recorder.close()
    assert sorted(run_ids(ws_settings)) == sorted([done_it.run_id, lost_it.run_id])
    assert recorder.stats.found_existing == 1 and recorder.stats.delivered == 1


def test_record_is_cheap_and_never_raises(ws_settings) -> None:
    recorder = Recorder(ws_settings)
    with interaction("agent", enabled=False) as it:
        pass
    recorder.record(object(), question="q")  # type: ignore[arg-type] - a wrong argument is logged, not raised
    t0 = time.perf_counter()
    for _ in range(200):
        recorder.record(it, question="same run", answer="a")
    assert time.perf_counter() - t0 < 1.0
    assert recorder.flush(10)
    recorder.close()
    assert run_ids(ws_settings) == [it.run_id]  # the same run recorded 200 times is one row


def test_a_long_question_is_kept_whole_in_the_row_body(ws_settings) -> None:
    question = "Why " + "so " * 3000 + "long?"  # 9,009 characters: the title keeps 2,000
    with Recorder(ws_settings) as recorder:
        with interaction("agent", enabled=False) as it:
            recorder.record(it, question=question, answer="because")
        assert recorder.flush(10)
    (row,) = rows(ws_settings)
    assert plain_text(row["properties"]["Question"]["title"]).endswith("…")
    blocks = make_notion_client(ws_settings).blocks.children.list(row["id"])["results"]
    body = "".join(plain_text(b["paragraph"]["rich_text"]) for b in blocks if b["type"] == "paragraph")
    assert body == question
    assert feedback_children(RowValues(run_id="r", question="short")) == []


def test_memory_is_bounded_by_text_too(ws_settings) -> None:
    settings = ws_settings.model_copy(update={"recorder_queue_mb": 0.01})  # 10,000 characters
    recorder = Recorder(settings, start=False)
    for i in range(6):
        with interaction("agent", enabled=False) as it:
            pass
        recorder.record(it, question=f"q{i}", answer="a" * 3000)
    assert len(recorder._queue) == 3 and recorder.stats.overflowed == 3  # the 4th row would pass 10,000
    recorder.start()
    assert recorder.flush(10)
    recorder.close()
    assert len(run_ids(settings)) == 6
    assert recorder._queued_chars == 0  # what the queue holds is accounted back as it drains

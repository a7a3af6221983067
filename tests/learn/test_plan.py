"""The datasets' difference, decided without I/O: which runs belong where, and what to create, update, delete."""

from __future__ import annotations

import uuid

import pytest

from notion_feedback.learn.plan import HIGH, LOW, SOURCE, by_kind, new_example, plan, redact_value, thresholds
from notion_feedback.smith.datasets import ExampleDoc, Rated, RunContent, example_id

DS = str(uuid.uuid4())


def _rated(score: float, comment: str | None = None, run_id: str | None = None) -> Rated:
    return Rated(run_id or str(uuid.uuid4()), score, str(int(score)), comment, "https://app.notion.com/p/x")


@pytest.mark.parametrize(("scale", "low", "high"), [("1-5", 2.0, 5.0), ("1-10", 4.0, 9.0), ("thumbs", 0.0, 1.0)])
def test_each_scale_has_its_defaults_and_settings_win(scale: str, low: float, high: float) -> None:
    t = thresholds(scale)
    assert (t.low, t.high) == (low, high)
    assert thresholds(scale, 1.0, 4.0).low == 1.0
    assert t.kind(low) == LOW and t.kind(high) == HIGH
    assert scale == "thumbs" or t.kind((low + high) / 2) is None


def test_a_run_rated_twice_counts_once_and_the_lower_score_decides() -> None:
    run = str(uuid.uuid4())
    kinds = by_kind([_rated(5, run_id=run), _rated(1, run_id=run), _rated(3)], thresholds("1-5"))
    assert list(kinds[LOW]) == [run] and kinds[HIGH] == {}


def _existing(rated: Rated, **meta: object) -> ExampleDoc:
    base = {"source": SOURCE, "rating": rated.label, "score": rated.score, "comment": rated.comment}
    base |= {"notion_url": rated.row_url, "variant": "A"}
    return ExampleDoc(example_id(rated.run_id, DS), rated.run_id, {"q": "x"}, {"a": "y"}, base | meta)


def test_the_difference_creates_updates_deletes_and_leaves_the_rest() -> None:
    same, changed, new = _rated(1, "slow"), _rated(2, "wrong"), _rated(1)
    gone = _rated(1)
    existing = {e.id: e for e in (_existing(same), _existing(changed, comment="old"), _existing(gone))}
    mine = ExampleDoc(str(uuid.uuid4()), "", {"q": "team's own"}, None, {"added_by": "a person"})
    existing[mine.id] = mine
    p = plan(DS, {r.run_id: r for r in (same, changed, new)}, existing)
    assert [r.run_id for r in p.create] == [new.run_id]
    assert [u.id for u in p.update] == [example_id(changed.run_id, DS)]
    assert p.update[0].metadata["comment"] == "wrong" and p.update[0].metadata["variant"] == "A"
    assert p.update[0].inputs == {"q": "x"}  # the run's content is kept as it was copied
    assert p.delete == [example_id(gone.run_id, DS)]  # and never the team's own example
    assert p.unchanged == 1
    assert plan(DS, {r.run_id: r for r in (same,)}, {e.id: e for e in [_existing(same)]}).changes == 0


def test_ids_depend_on_run_and_dataset_only() -> None:
    run = str(uuid.uuid4())
    assert example_id(run, DS) == example_id(run.upper(), DS)
    assert example_id(run, DS) != example_id(run, str(uuid.uuid4()))


def test_a_new_example_is_redacted_like_a_row() -> None:
    rated = _rated(5, "great")
    content = RunContent(
        {"question": "mail me at ann@example.com", "history": [{"text": "call +44 20 7946 0958"}]},
        {"answer": "done"},
        {"variant": "B", "ls_model_name": "gpt-4o-mini", "user_id": "ann@example.com"},
    )
    from notion_feedback.redaction import Redactor

    ex = new_example(DS, rated, content, Redactor())
    assert ex.inputs == {"question": "mail me at [email]", "history": [{"text": "call [phone]"}]}
    assert ex.metadata["user"] == "[email]" and ex.metadata["model"] == "gpt-4o-mini"
    assert ex.metadata["variant"] == "B" and ex.metadata["source"] == SOURCE
    assert ex.source_run_id == rated.run_id and ex.id == example_id(rated.run_id, DS)
    assert redact_value(3, str.upper) == 3

"""Regression evaluation: a candidate agent answers the questions people rated low, as a LangSmith experiment, and
a Notion page sets the experiment's scores beside the production ratings of the same questions.

The candidate is any function ``inputs -> outputs`` (what ``langsmith.evaluate`` calls); the judges are
LangSmith evaluators ``(run, example) -> {"key", "score", "comment"}``. Without one, ``still_has_the_problem``
judges: a plain heuristic that says whether the new answer still has the problem the person's comment names.
Teams plug in their own LLM judge with ``--evaluator``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from statistics import mean
from typing import Any

import langsmith
import notion_client
from langsmith import evaluate

from notion_feedback.config import Settings, require
from notion_feedback.learn.fewshot import ANSWER_KEYS, QUESTION_KEYS, first_text
from notion_feedback.learn.plan import LOW
from notion_feedback.notion import blocks
from notion_feedback.notion.client import make_notion_client
from notion_feedback.notion.text import title_text
from notion_feedback.smith import datasets
from notion_feedback.smith.client import make_langsmith_client
from notion_feedback.smith.projects import project

FIXED_KEY = "problem_fixed"
"""The built-in judge's feedback key: 1 when the new answer no longer shows the problem, 0 when it still does."""
SLOW_SECONDS = 3.0
"""An answer slower than this still has a "too slow" problem (the report's latency target is the same idea)."""
_SLOW = re.compile(r"\b(slow|slowly|forever|waited|waiting|took (?:too )?long|ages|timeout|timed out)\b", re.I)
_CELL = 120


def _normal(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def still_has_the_problem(run: Any, example: Any) -> dict[str, Any]:
    """The built-in judge, in four plain rules, the first that applies deciding:

    1. the candidate failed (an error, or no answer) → the problem remains;
    2. the candidate gave the very answer people rated low (the example's output) → it remains;
    3. the comment says the answer was slow and the candidate took longer than 3 s → it remains;
    4. otherwise the answer changed, and the problem is taken as fixed (score 1).
    """
    answer = first_text(run.outputs or {}, ANSWER_KEYS)
    old = first_text(example.outputs or {}, ANSWER_KEYS)
    comment = str((example.metadata or {}).get("comment") or "")
    seconds = (run.end_time - run.start_time).total_seconds() if run.end_time and run.start_time else 0.0
    if run.error or not answer.strip():
        return {"key": FIXED_KEY, "score": 0, "comment": "the candidate failed: " + (run.error or "no answer")[:200]}
    if old and _normal(answer) == _normal(old):
        return {"key": FIXED_KEY, "score": 0, "comment": "the same answer people rated low"}
    if _SLOW.search(comment) and seconds > SLOW_SECONDS:
        return {"key": FIXED_KEY, "score": 0, "comment": f"still slow: {seconds:.1f} s (the comment: {comment[:80]})"}
    return {
        "key": FIXED_KEY,
        "score": 1,
        "comment": "a different answer" + (" in time" if _SLOW.search(comment) else ""),
    }


@dataclass(frozen=True)
class Case:
    """One low-rated question: what production got, what the candidate did."""

    question: str
    rating: str | None
    production_score: float | None
    comment: str
    notion_url: str | None
    answer: str
    scores: dict[str, float | None]


@dataclass
class Evaluation:
    experiment: str
    experiment_url: str | None
    dataset: str
    cases: list[Case] = field(default_factory=list)
    page_url: str | None = None

    def score_keys(self) -> list[str]:
        return sorted({k for c in self.cases for k in c.scores})

    def mean_score(self, key: str) -> float | None:
        values = [c.scores[key] for c in self.cases if c.scores.get(key) is not None]
        return mean(values) if values else None  # type: ignore[type-var]

    def production_mean(self) -> float | None:
        values = [c.production_score for c in self.cases if c.production_score is not None]
        return mean(values) if values else None

    def counts(self) -> dict[str, Any]:
        out: dict[str, Any] = {"experiment": self.experiment, "examples": len(self.cases)}
        out |= {f"mean_{k}": self.mean_score(k) for k in self.score_keys()}
        return out | {"production_mean_rating": self.production_mean(), "page_url": self.page_url}


def _case(row: Any) -> Case:
    example, run = row["example"], row["run"]
    meta = example.metadata or {}
    results = row["evaluation_results"]["results"]
    return Case(
        question=first_text(example.inputs or {}, QUESTION_KEYS),
        rating=meta.get("rating"),
        production_score=meta.get("score"),
        comment=str(meta.get("comment") or ""),
        notion_url=meta.get("notion_url"),
        answer=first_text(run.outputs or {}, ANSWER_KEYS) or (f"(failed: {run.error})" if run.error else ""),
        scores={r.key: (float(r.score) if isinstance(r.score, (int, float)) else None) for r in results},
    )


def run_evaluation(
    settings: Settings,
    target: Callable[..., Any],
    evaluators: Sequence[Callable[..., Any]] = (),
    *,
    client: langsmith.Client | None = None,
    notion: notion_client.Client | None = None,
    publish: bool = True,
    concurrency: int = 0,
    prefix: str = "candidate",
) -> Evaluation:
    """Run ``target`` over the low-rated dataset as an experiment and (``publish``) write the comparison page.

    An empty (or missing) dataset is no error, only nothing to do yet: the result has no cases and no experiment.
    """
    client = client or make_langsmith_client(settings)
    name = settings.dataset_name(LOW)
    if datasets.find_dataset(client, name) is None or not any(
        True for _ in client.list_examples(dataset_name=name, limit=1)
    ):
        return Evaluation("", None, name)
    results = evaluate(
        target,
        data=name,
        evaluators=list(evaluators) or [still_has_the_problem],
        client=client,
        experiment_prefix=prefix,
        description=f"Candidate agent over the runs people rated low in Notion ({settings.langsmith_project}).",
        metadata={"source": "notion-feedback", "production_project": settings.langsmith_project},
        max_concurrency=concurrency,
    )
    cases = sorted((_case(row) for row in results), key=lambda c: (c.production_score or 0, c.question))
    client.flush()
    url = project(client, results.experiment_name, fresh=True).url
    out = Evaluation(results.experiment_name, url, name, cases)
    if publish:
        out.page_url = publish_page(settings, out, notion or make_notion_client(settings))
    return out


def _cell(text: str | None) -> str:
    text = " ".join(str(text or "").split())
    return blocks.escape(text[:_CELL] + ("…" if len(text) > _CELL else "")).replace("|", "\\|")


def _fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def page_markdown(ev: Evaluation) -> str:
    """The comparison page: totals first, then one table row per example."""
    keys = ev.score_keys()
    lines = [
        f"Experiment **{blocks.escape(ev.experiment)}** over the {len(ev.cases)} questions of the low-rated dataset"
        f" *{blocks.escape(ev.dataset)}*."
        + (f" [Open it in LangSmith]({ev.experiment_url})" if ev.experiment_url else ""),
        "",
        "## In total",
        f"- Production: average rating {_fmt(ev.production_mean())} on these questions (the ratings people gave).",
    ]
    for key in keys:
        score = ev.mean_score(key)
        share = f" — {score:.0%} of the questions" if key == FIXED_KEY and score is not None else ""
        lines.append(f"- Candidate, {blocks.escape(key)}: {_fmt(score)}{share}")
    if FIXED_KEY in keys:
        lines.append(f"- {blocks.escape(FIXED_KEY)} is the built-in judge: {blocks.escape(_JUDGE_NOTE)}")
    lines += ["", "## Question by question", ""]
    header = ["Question", "Production rating", "Comment", "Candidate's answer", *keys]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    for c in ev.cases:
        question = f"[{_cell(c.question)}]({c.notion_url})" if c.notion_url else _cell(c.question)
        cells = [question, _cell(c.rating or _fmt(c.production_score, 0)), _cell(c.comment), _cell(c.answer)]
        lines.append("| " + " | ".join(cells + [_fmt(c.scores.get(k)) for k in keys]) + " |")
    return "\n".join(lines) + "\n"


_JUDGE_NOTE = (
    "1 when the candidate answered, differently from the answer people rated low, and in time if they said it was "
    "slow; 0 otherwise."
)


def publish_page(settings: Settings, ev: Evaluation, notion: notion_client.Client) -> str:
    """A new page under the product's parent page (each experiment is new); returns its URL."""
    require(settings, "parent_page_id")
    content = blocks.render(page_markdown(ev))
    groups = list(blocks.batches(content))
    title = f"Evaluation · {ev.experiment} · {datetime.now(UTC):%Y-%m-%d}"
    page = notion.pages.create(
        parent={"type": "page_id", "page_id": settings.parent_page_id},
        properties={"title": {"title": title_text(title)}},
        children=groups[0] if groups else [],
    )
    for group in groups[1:]:
        notion.blocks.children.append(page["id"], children=group)  # type: ignore[index]
    return str(page.get("url") or "")  # type: ignore[union-attr]

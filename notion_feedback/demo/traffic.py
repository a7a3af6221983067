"""Synthetic agent traffic with believable patterns, sent through the product's own capture API.

A support agent answers questions over ``days`` days: two A/B variants, two models, tool calls (knowledge-base
search, order lookup), some failures. The agent does not know every topic: about a third of the time it falls back
to a generic reply. Variant B learns: before answering it asks the few-shot index (``learn.fewshot.ExampleIndex``,
what ``learn.examples()`` ranks with) over the interactions people rated 5 on earlier days, and with a close match
it answers as that rated answer did. People rate part of the rows by what they see — a failure, the wait, whether
the answer addresses their question — and never by the variant, so any lead B shows in the report comes from what
it learned. Many rows stay unrated.
Everything is a pure function of the seed, so a re-run produces the same interactions (and the same run ids,
which is how an interrupted demo resumes without duplicating rows).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import langsmith

from notion_feedback.capture import Recorder, interaction
from notion_feedback.learn.fewshot import ExampleIndex, Pair

AGENT = "support-agent"
VARIANTS = ("A", "B")
MODELS = ("gpt-4o-mini", "claude-haiku-4-5")

# (question, answer, tool) — the tool the agent calls before answering.
TOPICS: tuple[tuple[str, str, str], ...] = (
    (
        "How do I reset my password?",
        "Open Settings → Security → Reset password; a link arrives by e-mail within "
        "a minute. The link is valid for 30 minutes.",
        "search_kb",
    ),
    (
        "Where is my order #{n}?",
        "Order #{n} left our warehouse yesterday and should arrive within 2 business days. "
        "Tracking: Settings → Orders.",
        "lookup_order",
    ),
    (
        "Can I change the delivery address for order #{n}?",
        "Yes, until it ships: Orders → #{n} → Change address. "
        "Order #{n} has not shipped yet, so you can still change it.",
        "lookup_order",
    ),
    (
        "What is your refund policy?",
        "Refunds are accepted within 30 days of delivery for unused items; the money "
        "is back on your card 5–7 days after we receive the parcel.",
        "search_kb",
    ),
    (
        "How do I export my invoices as PDF?",
        "Billing → Invoices → select the months → Export PDF. Invoices older "
        "than 2 years are archived; ask us and we send them.",
        "search_kb",
    ),
    (
        "Do you ship to Canada?",
        "Yes: standard shipping to Canada takes 5–8 business days; duties are included at checkout.",
        "search_kb",
    ),
    (
        "My discount code SPRING{n} does not work",
        "Code SPRING{n} expired last week. I have applied a 10 % goodwill discount to your next order instead.",
        "lookup_order",
    ),
    (
        "How do I add a team member to my account?",
        "Settings → Team → Invite, enter their e-mail and pick a role "
        "(Viewer, Editor, Admin). They get an invite link valid for 7 days.",
        "search_kb",
    ),
    (
        "Why was I charged twice?",
        "One of the two charges is a pre-authorisation that drops off within 3 days; "
        "only one charge of your order was captured.",
        "lookup_order",
    ),
    (
        "Can I pause my subscription?",
        "Yes, for up to 3 months: Billing → Subscription → Pause. You keep your data and can resume any time.",
        "search_kb",
    ),
)
FAILURES = (
    "TimeoutError: order service did not answer within 10 s",
    "ToolError: knowledge base search returned HTTP 503",
    "RateLimitError: model provider returned 429 (quota exceeded)",
)
FAILED_ANSWER = "Sorry, something went wrong on our side while I looked this up. Please try again in a moment."
GENERIC_ANSWER = "Thanks for asking! Please have a look at our Help Center, or reply here and a colleague will help."
KNOWS_TOPIC = 0.65
"""How often the agent answers a topic specifically on its own (else the generic reply)."""
LEARNED_MATCH = 0.5
"""The few-shot similarity from which variant B answers as the rated example did."""
COMMENTS = {
    1: ("Didn't answer my question at all.", "Error again, useless.", "It failed and I had to call support."),
    2: ("Too slow, and the answer was vague.", "Partly right, but missed the order status.", "Took forever."),
    3: ("OK, but I had to ask twice.", "Fine, a bit generic.", "Correct but slow."),
    4: ("Helpful, thanks.", "Good answer, quick.", "Solved it, the link was useful."),
    5: ("Perfect, exactly what I needed!", "Fast and precise.", "Great, solved in one go."),
}


@dataclass(frozen=True)
class ToolCall:
    name: str
    start: datetime
    end: datetime
    inputs: dict[str, Any]
    outputs: dict[str, Any]


@dataclass(frozen=True)
class Synthetic:
    """One interaction as it happened, and how its user rated it (``rating`` None: never rated)."""

    index: int
    run_id: str
    start: datetime
    end: datetime
    variant: str
    model: str
    user: str
    question: str
    answer: str
    error: str | None
    input_tokens: int
    output_tokens: int
    tools: tuple[ToolCall, ...] = field(default_factory=tuple)
    rating: int | None = None
    comment: str | None = None

    @property
    def latency_s(self) -> float:
        return (self.end - self.start).total_seconds()


def deterministic_run_id(start: datetime, seed: int, index: int) -> str:
    """A UUIDv7 whose time part is the run's start (as LangSmith's own ids) and whose random part is the seed's."""
    millis = int(start.timestamp() * 1000)
    rand = random.Random(f"{seed}:{index}").getrandbits(74)
    value = (millis << 80) | (0x7 << 76) | ((rand >> 62) << 64) | (0b10 << 62) | (rand & ((1 << 62) - 1))
    return str(uuid.UUID(int=value))


def _hour(rng: random.Random) -> float:
    """Support traffic: office hours, a lunch dip, a thin evening tail."""
    return min(23.9, max(0.0, rng.choice((rng.gauss(10.5, 1.6), rng.gauss(15.0, 1.8), rng.gauss(20.0, 1.5)))))


def _rating(rng: random.Random, model: str, latency_s: float, failed: bool, specific: bool) -> int | None:
    """What people express, from what they see: failures ~1–2, a generic reply ~1.4 stars less than an answer to their
    question, each second beyond 3 s ~0.35 stars less. The variant is not an input: people cannot see it."""
    if rng.random() > (0.75 if failed else 0.62):
        return None  # most people do not rate
    if failed:
        return 1 if rng.random() < 0.7 else 2
    score = (4.0 if specific else 2.6) + (0.1 if model == MODELS[1] else 0.0)
    score -= 0.35 * max(0.0, latency_s - 3.0)
    return int(min(5, max(1, round(rng.gauss(score, 0.75)))))


def _learned(items: list[Synthetic]) -> ExampleIndex:
    """What variant B can draw on: the answers people rated 5 so far (the high-rated dataset of the simulation)."""
    rated = [i for i in items if i.rating == 5 and not i.error and i.answer != GENERIC_ANSWER]
    return ExampleIndex(Pair(i.question, i.answer, "5", i.run_id) for i in rated)


def _answer(
    rng: random.Random, variant: str, question: str, answer: str, learned: ExampleIndex, t0: datetime
) -> tuple[str, list[ToolCall]]:
    """The agent's reply and, for variant B, its look-up of few-shot examples."""
    knows = rng.random() < KNOWS_TOPIC
    if variant != "B":
        return (answer if knows else GENERIC_ANSWER), []
    shots = learned.search(question, k=3)
    found = {"examples": [{"run_id": s.run_id, "similarity": s.similarity} for s in shots]}
    call = ToolCall("few_shot_examples", t0, t0 + timedelta(milliseconds=1), {"question": question, "k": 3}, found)
    matched = bool(shots) and shots[0].similarity >= LEARNED_MATCH
    return (answer if knows or matched else GENERIC_ANSWER), [call]


def _interaction(
    rng: random.Random, seed: int, index: int, start: datetime, users: list[str], learned: ExampleIndex
) -> Synthetic:
    variant = VARIANTS[rng.random() < 0.5]
    model = MODELS[rng.random() < 0.4]
    question, answer, tool_name = TOPICS[rng.randrange(len(TOPICS))]
    number = rng.randrange(10000, 99999)
    question, answer = question.format(n=number), answer.format(n=number)
    failed = rng.random() < 0.06
    slow = rng.random() < 0.15
    tool_ms = rng.uniform(150, 900) * (6 if slow else 1)
    llm_ms = rng.lognormvariate(7.1, 0.35) * (1.25 if model == MODELS[0] else 1.0) * (1.8 if slow else 1)
    t0 = start.astimezone(UTC)
    answer, shots = _answer(rng, variant, question, answer, learned, t0)
    tool_end = t0 + timedelta(milliseconds=tool_ms)
    lookup = ToolCall(
        tool_name,
        t0 + timedelta(milliseconds=40),
        tool_end,
        {"query": question} if tool_name == "search_kb" else {"order": number},
        {"hits": rng.randint(1, 5)} if tool_name == "search_kb" else {"status": "shipped"},
    )
    end = tool_end + timedelta(milliseconds=llm_ms)
    error = FAILURES[rng.randrange(len(FAILURES))] if failed else None
    examples = len(shots[0].outputs["examples"]) if shots else 0
    input_tokens = rng.randint(450, 1400) + 120 * examples  # the examples ride along in B's prompt
    rating = _rating(rng, model, (end - t0).total_seconds(), failed, answer != GENERIC_ANSWER)
    comment = rng.choice(COMMENTS[rating]) if rating is not None and rng.random() < 0.4 else None
    return Synthetic(
        index=index,
        run_id=deterministic_run_id(t0, seed, index),
        start=t0,
        end=end,
        variant=variant,
        model=model,
        user=users[rng.randrange(len(users))],
        question=question,
        answer=FAILED_ANSWER if failed else answer,
        error=error,
        input_tokens=input_tokens,
        output_tokens=0 if failed else rng.randint(60, 260),
        tools=(*shots, lookup),
        rating=rating,
        comment=comment,
    )


def generate(days: int, per_day: int, seed: int, timezone: str = "UTC", today: date | None = None) -> list[Synthetic]:
    """``per_day`` interactions (±30 %) on each of the ``days`` days before ``today``, oldest first. Variant B
    learns from the days before each day (the daemon refreshes the few-shot copy well within a day)."""
    tz = ZoneInfo(timezone)
    today = today or datetime.now(tz).date()
    rng = random.Random(seed)
    out: list[Synthetic] = []
    users = [f"user-{rng.randrange(16**6):06x}" for _ in range(max(8, per_day * 2))]
    for day_offset in range(days, 0, -1):
        day = today - timedelta(days=day_offset)
        count = max(1, round(per_day * rng.uniform(0.7, 1.3)))
        starts = sorted(datetime.combine(day, time(), tz) + timedelta(hours=_hour(rng)) for _ in range(count))
        learned = _learned(out)
        for start in starts:
            out.append(_interaction(rng, seed, len(out), start, users, learned))
    return out


class AgentFailure(Exception):
    """How a synthetic failure surfaces inside the traced interaction (recorded on the run, then caught)."""


def send(
    items: Iterable[Synthetic],
    recorder: Recorder,
    smith: langsmith.Client,
    project: str,
    on_each: Callable[[Synthetic], None] | None = None,
) -> int:
    """Trace each interaction in LangSmith and record its row, exactly as an agent using the library would."""
    sent = 0
    for item in items:
        try:
            with interaction(
                AGENT,
                variant=item.variant,
                model=item.model,
                user_id=item.user,
                inputs={"question": item.question},
                client=smith,
                project_name=project,
                start_time=item.start,
                end_time=item.end,
                run_id=item.run_id,
                enabled=True,
                tags=["demo"],
            ) as it:
                for call in item.tools:
                    it.tool(call.name, call.inputs, outputs=call.outputs, start_time=call.start, end_time=call.end)
                last_tool = item.tools[-1].end if item.tools else item.start
                it.llm(
                    item.model,
                    inputs={"messages": [{"role": "user", "content": item.question}]},
                    outputs=None if item.error else {"content": item.answer},
                    input_tokens=item.input_tokens,
                    output_tokens=item.output_tokens,
                    start_time=last_tool,
                    end_time=item.end,
                )
                recorder.record(it, question=item.question, answer=item.answer)
                if item.error:
                    raise AgentFailure(item.error)
                it.end({"answer": item.answer})
        except AgentFailure:
            pass  # recorded on the run as its error; the row still shows what the user saw
        sent += 1
        if on_each:
            on_each(item)
    return sent

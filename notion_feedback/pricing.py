"""What tokens cost: the product's one price table, so a row in Notion shows a cost before LangSmith prices the run,
and the report's cost advice compares models on the same figures.

USD per million tokens, providers' public list prices (2025). LangSmith prices runs from its own workspace price
map; this table only gives the agent side a figure at once. The sandbox's LangSmith emulator keeps its own copy of
the same facts (``sandbox/langsmith/constants.py``) because the product must not import the sandbox;
``tests/test_facts_agree.py`` says the two agree.
"""

from __future__ import annotations

import re
from functools import lru_cache

MILLION = 1_000_000.0

# model -> (input, output) USD per million tokens. Dated snapshots ("gpt-4o-mini-2024-07-18") price as the alias.
PRICES: dict[str, tuple[float, float]] = {
    # OpenAI
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
    "o1": (15.00, 60.00),
    "o1-mini": (1.10, 4.40),
    "o3": (2.00, 8.00),
    "o3-mini": (1.10, 4.40),
    "o4-mini": (1.10, 4.40),
    "gpt-4-turbo": (10.00, 30.00),
    "gpt-3.5-turbo": (0.50, 1.50),
    # Anthropic
    "claude-opus-4-1": (15.00, 75.00),
    "claude-opus-4": (15.00, 75.00),
    "claude-opus-4-5": (5.00, 25.00),
    "claude-sonnet-4-5": (3.00, 15.00),
    "claude-sonnet-4": (3.00, 15.00),
    "claude-3-7-sonnet": (3.00, 15.00),
    "claude-3-5-sonnet": (3.00, 15.00),
    "claude-haiku-4-5": (1.00, 5.00),
    "claude-3-5-haiku": (0.80, 4.00),
    "claude-3-haiku": (0.25, 1.25),
}

PROVIDERS: dict[str, str] = {"gpt": "openai", "o1": "openai", "o3": "openai", "o4": "openai", "claude": "anthropic"}

_SNAPSHOT = re.compile(r"(-\d{4}-\d{2}-\d{2}|-\d{8}|-latest|-0)$")


@lru_cache(maxsize=256)
def _row(model: str) -> tuple[float, float] | None:
    name = model.strip().lower()
    while name not in PRICES:
        stripped = _SNAPSHOT.sub("", name)
        if stripped == name:
            return None
        name = stripped
    return PRICES[name]


def price_usd(model: str | None, input_tokens: int, output_tokens: int) -> float | None:
    """Cost of one call at list price, or None when the model is not in the table (unknown, not free)."""
    row = _row(model) if model else None
    if row is None:
        return None
    return (input_tokens * row[0] + output_tokens * row[1]) / MILLION


def provider_of(model: str | None) -> str | None:
    """The ``ls_provider`` LangSmith expects for a model name, when it can be told from the name."""
    if not model:
        return None
    head = model.strip().lower().split("-", 1)[0]
    return PROVIDERS.get(head)

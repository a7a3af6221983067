"""Model prices, so the emulator can price runs from tokens the way LangSmith's workspace price map does.

LangSmith matches a run's ``ls_model_name`` (and ``ls_provider``) against a table of per-token prices and
multiplies; costs a client sends directly in ``usage_metadata`` win over the table. This module holds the one
default table and the lookup; tests and the demo can swap the table with ``PriceMap.set``.

Prices are USD per million tokens, list prices of the providers' public pricing pages (2025): they only need
to be plausible and stable, not current to the cent.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

MILLION = 1_000_000.0


@dataclass(frozen=True)
class ModelPrice:
    """One row of the price map. ``match_pattern`` is a regex on the model name, as in LangSmith's UI."""

    name: str
    match_pattern: str
    input_per_million: float
    output_per_million: float
    cache_read_per_million: float | None = None
    provider: str | None = None

    def matches(self, model: str, provider: str | None) -> bool:
        if self.provider and provider and self.provider != provider.lower():
            return False
        return re.fullmatch(self.match_pattern, model, flags=re.IGNORECASE) is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "match_pattern": self.match_pattern,
            "provider": self.provider,
            "prompt_cost": self.input_per_million / MILLION,
            "completion_cost": self.output_per_million / MILLION,
            "prompt_cost_details": (
                {"cache_read": self.cache_read_per_million / MILLION} if self.cache_read_per_million else {}
            ),
        }


def _p(name: str, provider: str, inp: float, out: float, cache: float | None, pattern: str | None = None) -> ModelPrice:
    # Dated snapshots ("gpt-4o-mini-2024-07-18", "claude-sonnet-4-20250514") and "-latest" price as the alias.
    pat = pattern or re.escape(name) + r"(-\d{4}-\d{2}-\d{2}|-\d{8}|-latest)?"
    return ModelPrice(name, pat, inp, out, cache, provider)


DEFAULT_PRICES: tuple[ModelPrice, ...] = (
    # OpenAI
    _p("gpt-4o", "openai", 2.50, 10.00, 1.25),
    _p("gpt-4o-mini", "openai", 0.15, 0.60, 0.075),
    _p("gpt-4.1", "openai", 2.00, 8.00, 0.50),
    _p("gpt-4.1-mini", "openai", 0.40, 1.60, 0.10),
    _p("gpt-4.1-nano", "openai", 0.10, 0.40, 0.025),
    _p("gpt-5", "openai", 1.25, 10.00, 0.125),
    _p("gpt-5-mini", "openai", 0.25, 2.00, 0.025),
    _p("gpt-5-nano", "openai", 0.05, 0.40, 0.005),
    _p("o1", "openai", 15.00, 60.00, 7.50),
    _p("o1-mini", "openai", 1.10, 4.40, 0.55),
    _p("o3", "openai", 2.00, 8.00, 0.50),
    _p("o3-mini", "openai", 1.10, 4.40, 0.55),
    _p("o4-mini", "openai", 1.10, 4.40, 0.275),
    _p("gpt-4-turbo", "openai", 10.00, 30.00, None),
    _p("gpt-3.5-turbo", "openai", 0.50, 1.50, None, r"gpt-3\.5-turbo(-\d{4})?(-\d{4}-\d{2}-\d{2})?"),
    # Anthropic
    _p("claude-opus-4-1", "anthropic", 15.00, 75.00, 1.50),
    _p("claude-opus-4", "anthropic", 15.00, 75.00, 1.50, r"claude-opus-4(-0)?(-\d{8})?"),
    _p("claude-opus-4-5", "anthropic", 5.00, 25.00, 0.50),
    _p("claude-sonnet-4-5", "anthropic", 3.00, 15.00, 0.30),
    _p("claude-sonnet-4", "anthropic", 3.00, 15.00, 0.30, r"claude-sonnet-4(-0)?(-\d{8})?"),
    _p("claude-3-7-sonnet", "anthropic", 3.00, 15.00, 0.30),
    _p("claude-3-5-sonnet", "anthropic", 3.00, 15.00, 0.30),
    _p("claude-haiku-4-5", "anthropic", 1.00, 5.00, 0.10),
    _p("claude-3-5-haiku", "anthropic", 0.80, 4.00, 0.08),
    _p("claude-3-haiku", "anthropic", 0.25, 1.25, 0.03),
)


@dataclass(frozen=True)
class Costs:
    prompt_cost: float
    completion_cost: float
    total_cost: float
    prompt_cost_details: dict[str, float]
    completion_cost_details: dict[str, float]


class PriceMap:
    """The workspace's model price map. Exact names win over patterns; later rows win over earlier ones."""

    def __init__(self, prices: tuple[ModelPrice, ...] | list[ModelPrice] = DEFAULT_PRICES) -> None:
        self._lock = threading.Lock()
        self.set(prices)

    def set(self, prices: tuple[ModelPrice, ...] | list[ModelPrice] | dict[str, tuple[float, float]]) -> None:
        """Replace the table. A dict ``{model: (input_per_million, output_per_million)}`` is accepted too."""
        if isinstance(prices, dict):
            prices = [_p(name, "", inp, out, None) for name, (inp, out) in prices.items()]
        with self._lock:
            self._prices = list(prices)
            self._cache: dict[tuple[str, str | None], ModelPrice | None] = {}

    def add(self, price: ModelPrice) -> None:
        with self._lock:
            self._prices.append(price)
            self._cache.clear()

    def lookup(self, model: str | None, provider: str | None = None) -> ModelPrice | None:
        if not model:
            return None
        key = (model.lower(), (provider or "").lower() or None)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
            found = next((p for p in reversed(self._prices) if p.name.lower() == key[0]), None)
            if found is None:
                found = next((p for p in reversed(self._prices) if p.matches(key[0], key[1])), None)
            self._cache[key] = found
            return found

    def to_json(self) -> list[dict[str, Any]]:
        with self._lock:
            return [p.to_json() for p in self._prices]

    def price(
        self,
        model: str | None,
        provider: str | None,
        prompt_tokens: int,
        completion_tokens: int,
        prompt_details: dict[str, Any] | None = None,
    ) -> Costs | None:
        """Token costs, or None when the model is not in the map (LangSmith then leaves costs empty)."""
        row = self.lookup(model, provider)
        if row is None:
            return None
        cached = int((prompt_details or {}).get("cache_read") or 0) if row.cache_read_per_million else 0
        cached = max(0, min(cached, prompt_tokens))
        uncached_cost = (prompt_tokens - cached) * row.input_per_million / MILLION
        cached_cost = cached * (row.cache_read_per_million or 0.0) / MILLION
        prompt_cost = uncached_cost + cached_cost
        completion_cost = completion_tokens * row.output_per_million / MILLION
        return Costs(
            prompt_cost=prompt_cost,
            completion_cost=completion_cost,
            total_cost=prompt_cost + completion_cost,
            prompt_cost_details={"cache_read": cached_cost} if cached else {},
            completion_cost_details={},
        )

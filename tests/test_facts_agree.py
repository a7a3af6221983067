"""Facts the product and its emulators each keep on purpose (the sandbox is an independent check): the copies
agree. And facts the product keeps once: one name, used by everyone who needs it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from notion_feedback import pricing as costs
from notion_feedback.capture import rows
from notion_feedback.daemon import jobruns, status
from notion_feedback.daemon import scheduler as daemon
from notion_feedback.notion import blocks, limits, text
from notion_feedback.sandbox.langsmith.models import pricing as langsmith_pricing
from notion_feedback.sandbox.notion import constants as notion_constants

PACKAGE = Path(costs.__file__).resolve().parent


def test_the_price_tables_name_the_same_models_at_the_same_prices() -> None:
    emulated = {p.name: (p.input_per_million, p.output_per_million) for p in langsmith_pricing.DEFAULT_PRICES}
    assert emulated == costs.PRICES


@pytest.mark.parametrize("price", langsmith_pricing.DEFAULT_PRICES, ids=lambda p: p.name)
def test_each_model_has_the_same_provider_in_both_tables(price) -> None:
    assert costs.provider_of(price.name) == price.provider


@pytest.mark.parametrize(
    "model",
    ["gpt-4o-mini-2024-07-18", "gpt-4o-latest", "claude-sonnet-4-20250514", "claude-opus-4-0", "claude-3-5-haiku"],
)
def test_a_dated_snapshot_costs_the_same_in_both(model: str) -> None:
    found = langsmith_pricing.PriceMap().lookup(model, costs.provider_of(model))
    assert found is not None
    expected = (1000 * found.input_per_million + 500 * found.output_per_million) / 1_000_000
    assert costs.price_usd(model, 1000, 500) == pytest.approx(expected)


def test_notion_limits_agree_with_the_emulator() -> None:
    assert limits.MAX_TEXT_CHARS == notion_constants.MAX_TEXT == 2000
    assert limits.MAX_REQUEST_BYTES == notion_constants.MAX_BODY == 512_000
    assert limits.REQUEST_BUDGET_BYTES < limits.MAX_REQUEST_BYTES
    assert limits.MAX_RUNS == notion_constants.MAX_ARRAY == 100
    assert limits.MAX_NESTING == notion_constants.MAX_NESTING == 3


def test_text_is_split_and_cut_at_notions_limit() -> None:
    runs = text.rich_text("x" * (limits.MAX_TEXT_CHARS * 2 + 1))
    assert [len(r["text"]["content"]) for r in runs] == [limits.MAX_TEXT_CHARS, limits.MAX_TEXT_CHARS, 1]
    cut = text.rich_text("y" * limits.MAX_TEXT_CHARS * (limits.MAX_RUNS + 1))
    assert len(cut) == limits.MAX_RUNS and len(cut[-1]["text"]["content"]) == limits.MAX_TEXT_CHARS
    assert cut[-1]["text"]["content"].endswith(text.ELLIPSIS)
    title = text.title_text("z" * (limits.MAX_TEXT_CHARS + 5))
    assert len(title) == 1 and len(title[0]["text"]["content"]) == limits.MAX_TEXT_CHARS
    many = blocks.inline(" ".join(f"**b{i}**" for i in range(limits.MAX_RUNS)))
    assert len(many) == limits.MAX_RUNS and many[-1]["text"]["content"].endswith(text.ELLIPSIS)


def _int_literals(path: Path) -> list[tuple[int, int]]:
    tree = ast.parse(path.read_text())
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and type(node.value) is int and node.value == 2000
    ]


def test_notions_text_limit_is_never_a_bare_number_in_the_notion_package() -> None:
    found = {
        path.name: hits
        for path in (PACKAGE / "notion").glob("*.py")
        if path.name != "limits.py" and (hits := _int_literals(path))
    }
    assert found == {}
    assert rows.MAX_URL_CHARS is limits.MAX_URL_CHARS


def test_the_sync_job_id_is_one_constant() -> None:
    assert status.SYNC_JOB is daemon.SYNC_JOB is jobruns.SYNC_JOB
    assert [spec.ref for spec in daemon.JOBS if spec.id == daemon.SYNC_JOB] == ["notion_feedback.jobs.sync_ratings:run"]
    literal = [
        path.name
        for path in PACKAGE.rglob("*.py")
        if "sandbox" not in path.parts and path.name != "jobruns.py" and '"sync_ratings"' in path.read_text()
    ]
    assert literal == []


def test_the_product_speaks_the_notion_versions_the_emulator_serves() -> None:
    from typing import get_args

    from notion_feedback.config import NotionApiVersion

    assert get_args(NotionApiVersion) == notion_constants.SUPPORTED_VERSIONS
    assert get_args(NotionApiVersion)[-1] == notion_constants.NEW_VERSION

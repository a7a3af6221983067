"""Cost advice and the cost forecast, with figures worked out by hand."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest

from notion_feedback.report import costs
from notion_feedback.report.kpi import GroupKpis, Kpis

NOV = date(2026, 11, 1)


def _g(name: str, runs: int, cpi: float, rating: float | None, n: int, tpi: float = 800.0) -> GroupKpis:
    return GroupKpis(name, runs, 0.01, 800.0, 2000.0, tpi, cpi * runs, cpi, rating, n, 1.0)


def _kpis(models: list[GroupKpis], variants: list[GroupKpis], tpi: float = 900.0) -> Kpis:
    runs = sum(g.runs for g in models)
    return Kpis(
        "day",
        NOV,
        NOV,
        runs=runs,
        tokens_per_interaction=tpi,
        cost_total=sum(g.cost_total or 0 for g in models),
        by_model=models,
        by_variant=variants,
    )


def test_model_advice_names_the_variant_and_the_monthly_saving() -> None:
    dear, cheap = _g("gpt-4o", 1000, 0.012, 4.2, 300), _g("gpt-4o-mini", 1000, 0.001, 4.3, 300)
    k = _kpis([dear, cheap], [_g("A", 1000, 0.012, 4.2, 300), _g("B", 1000, 0.001, 4.3, 300)])
    [advice] = costs.model_advice(k, period_days=1, scale_span=4.0)
    saving = (0.012 - 0.001) * 1000 * 365.25 / 12  # per interaction x interactions a month
    assert advice.monthly_saving_usd == pytest.approx(saving)
    assert advice.text.startswith("gpt-4o costs 12× gpt-4o-mini per interaction ($0.0120 vs $0.0010) with a rating")
    assert "0.10 lower (4.20 vs 4.30; not significant" in advice.text
    assert advice.text.endswith(f"moving variant A to gpt-4o-mini would save ≈${saving:,.0f}/month.")


def test_no_advice_to_move_to_a_model_rated_clearly_worse() -> None:
    dear, cheap = _g("gpt-4o", 7000, 0.012, 4.5, 3000), _g("gpt-4o-mini", 7000, 0.001, 3.9, 3000)
    assert costs.model_advice(_kpis([dear, cheap], []), period_days=7, scale_span=4.0) == []
    # within the tolerance, but with enough ratings to show it is worse: no advice either
    worse = _g("gpt-4o-mini", 7000, 0.001, 4.35, 3000)
    assert costs.model_advice(_kpis([dear, worse], []), period_days=7, scale_span=4.0) == []


def test_model_advice_without_a_matching_variant_speaks_of_the_model_traffic() -> None:
    dear, cheap = _g("claude-sonnet-4", 700, 0.02, 4.0, 10), _g("claude-haiku-4-5", 300, 0.006, 4.0, 5)
    [advice] = costs.model_advice(_kpis([dear, cheap], [_g("A", 1000, 0.0158, 4.0, 15)]), 7, 4.0)
    assert "moving claude-sonnet-4's traffic (100 interactions/day)" in advice.text
    assert "the same average rating (4.00 vs 4.00; few ratings, 5 and 10: try it as a variant first)" in advice.text


def test_token_advice_finds_the_variant_that_drives_the_excess() -> None:
    a, b = _g("A", 600, 0.004, 4.0, 10, tpi=1500), _g("B", 400, 0.002, 4.0, 10, tpi=1100)
    k = _kpis([_g("gpt-4o-mini", 1000, 0.0032, 4.0, 20, tpi=1340)], [a, b], tpi=1340)
    out = costs.token_advice(k, target=1000, period_days=1)
    assert [x.text.split(";")[1].split(" drives")[0].strip() for x in out] == ["variant A", "variant B"]
    # A: 500 excess tokens x 600 runs = 300k of 340k excess; its cost per token 0.004/1500
    assert "drives 88% of the excess" in out[0].text
    assert out[0].monthly_saving_usd == pytest.approx(300_000 * 0.004 / 1500 * 365.25 / 12)
    assert costs.token_advice(_kpis([a], [a], tpi=900), target=1000, period_days=1) == []


def _line(days: int, a: float, b: float) -> list[tuple[date, float | None]]:
    return [(NOV + timedelta(days=i), a + b * i) for i in range(days)]


def test_forecast_of_an_exact_line_has_no_band() -> None:
    fc = costs.forecast_cost(_line(14, 10.0, 2.0), NOV + timedelta(days=13))
    assert fc.method == "trend" and fc.slope_per_day == pytest.approx(2.0)
    assert fc.month_to_date == pytest.approx(14 * 10 + 2 * 91)  # 322
    # the 16 remaining November days continue the line: 160 + 2 * (14 + ... + 29)
    assert fc.month_total == pytest.approx(322 + 160 + 2 * sum(range(14, 30)))
    assert fc.month_low == pytest.approx(fc.month_total) and fc.month_high == pytest.approx(fc.month_total)
    assert fc.projection[0].cost == pytest.approx(38.0) and len(fc.projection) == 30
    assert fc.next_30 == pytest.approx(sum(10 + 2 * x for x in range(14, 44)))
    assert fc.lines[1].startswith("Projected November total: ≈$1,170 (95 % band $1,170–$1,170; trend +$2.00/day")


def test_run_rate_band_by_hand_and_budget() -> None:
    daily: list[tuple[date, float | None]] = [(NOV + timedelta(days=i), 9.0 if i % 2 else 11.0) for i in range(10)]
    fc = costs.forecast_cost(daily, NOV + timedelta(days=9), budget=290.0)
    assert fc.method == "run-rate" and fc.slope_per_day == 0.0
    s2 = 10 * 1.0 / 9  # sample variance of ±1 around 10
    half = 1.959964 * math.sqrt(s2 * (20 * 20 / 10 + 20))  # 20 days left: mean uncertainty + daily noise
    assert fc.month_total == pytest.approx(100 + 200)
    assert fc.month_high - fc.month_total == pytest.approx(half)
    assert fc.lines[-1] == "Likely over the $290 monthly budget by ≈$10.00."


def test_too_little_history_is_said_and_quiet_days_count_as_zero() -> None:
    fc = costs.forecast_cost(_line(5, 3.0, 0.0), NOV + timedelta(days=4))
    assert fc.method == "none" and fc.month_total is None and fc.projection == []
    assert "Too little history for a forecast: 5 day(s)" in fc.lines[-1]
    # leading quiet days are not history; a quiet day in the middle is a day that cost 0
    daily: list[tuple[date, float | None]] = [(NOV, None), (NOV + timedelta(days=1), 0.0)]
    daily += [(NOV + timedelta(days=i), None if i == 5 else 4.0) for i in range(2, 16)]
    fc2 = costs.forecast_cost(daily, NOV + timedelta(days=15))
    assert len(fc2.history) == 14 and fc2.history[3] == (NOV + timedelta(days=5), 0.0)


def test_a_complete_month_says_so() -> None:
    daily = [(NOV + timedelta(days=i), 2.0) for i in range(30)]
    fc = costs.forecast_cost(daily, date(2026, 11, 30), budget=100)
    assert fc.month_complete and fc.month_total == pytest.approx(60.0)
    assert "November is complete: $60.00." in fc.lines and fc.lines[-1].startswith("Within the $100 monthly budget")

"""What the report says about cost: advice with estimated monthly savings, and a forecast.

Prices come from the product's one price table, ``notion_feedback/pricing.py``.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from notion_feedback.report.experiments import MIN_RATINGS, NO_VARIANT, welch

if TYPE_CHECKING:
    from notion_feedback.report.kpi import GroupKpis, Kpis

# -- cost-optimization advice -------------------------------------------------------------------------------------
# From the per-model and per-variant aggregates the report already has: no extra request, no run downloaded.

DAYS_PER_MONTH = 365.25 / 12
CHEAPER_BY = 1.2  # a model must cost at least 20 % less per interaction to be worth a move
RATING_TOLERANCE = 0.0625  # of the scale's span (0.25 on 1-5): a cheaper model rated lower than that is not advised
MIN_SAVING_USD = 1.0  # a month: below that, advice is noise


@dataclass(frozen=True)
class Advice:
    """One saving in words, with its estimated monthly amount (USD) so advice can be ranked."""

    kind: str  # model | tokens
    text: str
    monthly_saving_usd: float


def per_month(count: float, period_days: int) -> float:
    return count / max(period_days, 1) * DAYS_PER_MONTH


def money(v: float) -> str:
    return f"${v:,.0f}" if abs(v) >= 100 else f"${v:,.2f}"


def _real(groups: Sequence[GroupKpis]) -> list[GroupKpis]:
    return [g for g in groups if g.runs > 0 and g.name.strip().lower() not in NO_VARIANT]


def variant_on(model: GroupKpis, variants: Sequence[GroupKpis]) -> str | None:
    """The variant whose traffic is exactly this model's (same interactions and cost): a cross-tab for free."""
    if model.cost_total is None:
        return None
    for v in _real(variants):
        if v.runs == model.runs and v.cost_total is not None and math.isclose(v.cost_total, model.cost_total):
            return v.name
    return None


def _significance(cheap: GroupKpis, dear: GroupKpis, scale_span: float) -> tuple[bool, str]:
    """(is the cheaper model significantly worse, a note on what the ratings can tell)."""
    if min(cheap.rating_count, dear.rating_count) < MIN_RATINGS:
        return False, f"; few ratings, {cheap.rating_count} and {dear.rating_count}: try it as a variant first"
    sd = [
        (g.rating_stdev * math.sqrt(g.rating_count / (g.rating_count - 1)))
        if g.rating_stdev is not None
        else scale_span / 2.0
        for g in (dear, cheap)
    ]
    test = welch(dear.rating_count, dear.rating_avg or 0.0, sd[0], cheap.rating_count, cheap.rating_avg or 0.0, sd[1])
    if test is None:
        return False, ""
    if test.significant:
        return test.diff < 0, f"; significant, {'p<0.001' if test.p < 0.001 else f'p={test.p:.3f}'}"
    return False, f"; not significant, p={test.p:.2f}"


def model_advice(k: Kpis, period_days: int, scale_span: float) -> list[Advice]:
    """Move traffic from a dearer model to a cheaper one rated about as well, largest saving first."""
    usable = [g for g in _real(k.by_model) if g.cost_per_interaction and g.rating_avg is not None]
    out: list[Advice] = []
    for dear in usable:
        best: tuple[GroupKpis, str] | None = None
        for cheap in sorted(usable, key=lambda g: g.cost_per_interaction or 0.0):
            if (cheap.cost_per_interaction or 0.0) * CHEAPER_BY > (dear.cost_per_interaction or 0.0):
                continue
            if (cheap.rating_avg or 0.0) < (dear.rating_avg or 0.0) - RATING_TOLERANCE * scale_span:
                continue
            worse, note = _significance(cheap, dear, scale_span)
            if not worse:
                best = (cheap, note)
                break
        if best is None:
            continue
        cheap, note = best
        dear_cpi, cheap_cpi = dear.cost_per_interaction or 0.0, cheap.cost_per_interaction or 0.0
        saving = (dear_cpi - cheap_cpi) * per_month(dear.runs, period_days)
        gap = (dear.rating_avg or 0.0) - (cheap.rating_avg or 0.0)
        rated = (
            "the same average rating"
            if abs(gap) < 0.005
            else f"a rating {abs(gap):.2f} {'higher' if gap > 0 else 'lower'}"
        ) + f" ({dear.rating_avg:.2f} vs {cheap.rating_avg:.2f}{note})"
        variant = variant_on(dear, k.by_variant)
        who = (
            f"moving variant {variant}"
            if variant
            else f"moving {dear.name}'s traffic ({dear.runs / max(period_days, 1):,.0f} interactions/day)"
        )
        out.append(
            Advice(
                "model",
                f"{dear.name} costs {dear_cpi / cheap_cpi:.0f}× {cheap.name} per interaction (${dear_cpi:.4f} vs "
                f"${cheap_cpi:.4f}) with {rated}: {who} to {cheap.name} would save ≈{money(saving)}/month.",
                saving,
            )
        )
    return sorted((a for a in out if a.monthly_saving_usd >= MIN_SAVING_USD), key=lambda a: -a.monthly_saving_usd)


def token_advice(k: Kpis, target: float, period_days: int) -> list[Advice]:
    """Tokens per interaction over target: which variant (or model) drives the excess, and what trimming saves."""
    tpi = k.tokens_per_interaction
    if tpi is None or tpi <= target or not k.runs:
        return []
    variants = _real(k.by_variant)
    groups, word = (variants, "variant") if len(variants) > 1 else (_real(k.by_model), "model")
    drivers = [g for g in groups if g.tokens_per_interaction and g.tokens_per_interaction > target]
    head = f"Tokens / interaction is {tpi:,.0f}, over the {target:,.0f} target"
    fix = "shorter prompts and context, fewer tool rounds, a max_tokens cap"
    if not drivers:
        per_token = (k.cost_total or 0.0) / (tpi * k.runs)
        saving = per_month((tpi - target) * k.runs, period_days) * per_token
        if saving < MIN_SAVING_USD:
            return []
        return [Advice("tokens", f"{head}: trimming to the target ({fix}) would save ≈{money(saving)}/month.", saving)]
    excess = {g.name: ((g.tokens_per_interaction or 0.0) - target) * g.runs for g in drivers}
    total = sum(excess.values())
    out = []
    for g in drivers:
        g_tpi = g.tokens_per_interaction or 0.0
        per_token = (g.cost_total or 0.0) / (g_tpi * g.runs)
        saving = per_month(excess[g.name], period_days) * per_token
        out.append(
            Advice(
                "tokens",
                f"{head}; {word} {g.name} drives {excess[g.name] / total:.0%} of the excess ({g_tpi:,.0f} tokens / "
                f"interaction over {g.runs:,} interactions): trimming it to the target ({fix}) would save "
                f"≈{money(saving)}/month.",
                saving,
            )
        )
    return sorted((a for a in out if a.monthly_saving_usd >= MIN_SAVING_USD), key=lambda a: -a.monthly_saving_usd)


# -- forecast -------------------------------------------------------------------------------------------------------

Z95 = 1.959964
TREND_MIN_DAYS = 14  # a least-squares trend needs two weeks (weekday/weekend swings average out)
RATE_MIN_DAYS = 7  # below that, not even a run-rate is said
FIT_MAX_DAYS = 30
HORIZON_DAYS = 30


@dataclass(frozen=True)
class ForecastDay:
    day: date
    cost: float
    low: float
    high: float


@dataclass
class Forecast:
    """Month-to-date cost and where it is heading; ``method`` is trend, run-rate or none (too little history)."""

    as_of: date
    method: str
    history: list[tuple[date, float]]
    projection: list[ForecastDay]
    month_to_date: float
    month_total: float | None = None
    month_low: float | None = None
    month_high: float | None = None
    next_30: float | None = None
    next_30_low: float | None = None
    next_30_high: float | None = None
    slope_per_day: float | None = None
    budget: float | None = None
    lines: list[str] = field(default_factory=list)

    @property
    def month_complete(self) -> bool:
        return self.as_of == _month_end(self.as_of)


def _month_end(d: date) -> date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def _window(daily: Sequence[tuple[date, float | None]], as_of: date) -> list[tuple[date, float]]:
    """The last ≤30 days up to ``as_of``, from the first day that cost anything; quiet days count as 0."""
    days = sorted((d, c) for d, c in daily if d <= as_of and as_of - d < timedelta(days=FIT_MAX_DAYS))
    while days and not days[0][1]:
        days.pop(0)
    return [(d, c or 0.0) for d, c in days]


def _outlook_lines(fc: Forecast, n: int, left: int) -> list[str]:
    """The month's projected total (or its final one) and the next 30 days, saying which fit made them."""
    as_of, slope = fc.as_of, fc.slope_per_day or 0.0
    how = (
        f"trend {'+' if slope >= 0 else '−'}{money(abs(slope))}/day over {n} days"
        if fc.method == "trend"
        else f"run-rate of the last {n} days; {TREND_MIN_DAYS} are needed for a trend"
    )
    if left:
        month = (
            f"Projected {as_of:%B} total: ≈{money(fc.month_total)} (95 % band {money(fc.month_low)}–"
            f"{money(fc.month_high)}; {how})."
        )
    else:
        month = f"{as_of:%B} is complete: {money(fc.month_to_date)}."
    return [
        month,
        f"Next 30 days: ≈{money(fc.next_30)} ({money(fc.next_30_low)}–{money(fc.next_30_high)})"
        + (f"; {how}." if not left else "."),
    ]


def _budget_line(fc: Forecast, budget: float) -> str:
    """Where the projected month stands against the budget, the whole 95 % band considered."""
    if fc.month_low > budget:
        return f"Over the {money(budget)} monthly budget by ≈{money(fc.month_total - budget)} (whole band)."
    if fc.month_total > budget:
        return f"Likely over the {money(budget)} monthly budget by ≈{money(fc.month_total - budget)}."
    if fc.month_high > budget:
        return f"Within the {money(budget)} monthly budget, but the band reaches past it."
    return f"Within the {money(budget)} monthly budget ({money(budget - fc.month_total)} to spare)."


def forecast_cost(daily: Sequence[tuple[date, float | None]], as_of: date, budget: float | None = None) -> Forecast:
    """Project daily cost: least squares on the last 14-30 days (a run-rate on 7-13), with a 95 % band.

    The band of a sum over h future days adds the fit's uncertainty (mean and slope) to h days of residual
    noise: Var = s²·(h²/n + (Σ(x−x̄))²/Sxx + h). Days are assumed independent, so weekly rhythms widen ``s``.
    """
    month_start = as_of.replace(day=1)
    mtd = sum(c or 0.0 for d, c in daily if month_start <= d <= as_of)
    hist = _window(daily, as_of)
    fc = Forecast(as_of=as_of, method="none", history=hist, projection=[], month_to_date=mtd, budget=budget)
    n = len(hist)
    covered = min((d for d, _ in daily), default=as_of)
    since = f" (counted from {covered:%d %b})" if covered > month_start else ""
    fc.lines.append(f"Month to date ({month_start:%d}–{as_of:%d %b}): {money(mtd)}{since}.")
    if n < RATE_MIN_DAYS:
        fc.lines.append(
            f"Too little history for a forecast: {n} day(s) of cost ({RATE_MIN_DAYS} needed for a run-rate, "
            f"{TREND_MIN_DAYS} for a trend)."
        )
        return fc
    ys = [c for _, c in hist]
    xs = list(range(n))
    xbar, ybar = (n - 1) / 2.0, sum(ys) / n
    if n >= TREND_MIN_DAYS:
        fc.method = "trend"
        sxx = sum((x - xbar) ** 2 for x in xs)
        slope = sum((x - xbar) * (y - ybar) for x, y in zip(xs, ys, strict=True)) / sxx
        resid = [y - (ybar + slope * (x - xbar)) for x, y in zip(xs, ys, strict=True)]
        s2 = sum(r * r for r in resid) / (n - 2)
    else:
        fc.method = "run-rate"
        sxx, slope = float("inf"), 0.0
        s2 = sum((y - ybar) ** 2 for y in ys) / (n - 1)
    fc.slope_per_day = slope

    def mean_at(x: float) -> float:
        return ybar + slope * (x - xbar)

    def total(h: int) -> tuple[float, float, float]:
        future = [n - 1 + i for i in range(1, h + 1)]
        mid = sum(max(0.0, mean_at(x)) for x in future)
        spread = sum(x - xbar for x in future)
        var = s2 * (h * h / n + (spread * spread / sxx if sxx != float("inf") else 0.0) + h)
        half = Z95 * math.sqrt(var)
        return mid, max(0.0, mid - half), mid + half

    for i in range(1, HORIZON_DAYS + 1):
        x = n - 1 + i
        half = Z95 * math.sqrt(s2 * (1 + 1 / n + ((x - xbar) ** 2 / sxx if sxx != float("inf") else 0.0)))
        mid = max(0.0, mean_at(x))
        fc.projection.append(ForecastDay(as_of + timedelta(days=i), mid, max(0.0, mid - half), mid + half))
    left = (_month_end(as_of) - as_of).days
    rest = total(left) if left else (0.0, 0.0, 0.0)
    fc.month_total, fc.month_low, fc.month_high = mtd + rest[0], mtd + rest[1], mtd + rest[2]
    fc.next_30, fc.next_30_low, fc.next_30_high = total(HORIZON_DAYS)
    fc.lines += _outlook_lines(fc, n, left)
    if budget:
        fc.lines.append(_budget_line(fc, budget))
    return fc

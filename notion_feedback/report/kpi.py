"""KPIs of a period (day, week, month) from LangSmith's server-side aggregates, beside their targets.

A report costs a constant number of LangSmith requests at any volume: stats of the period, the same grouped by
variant, by model and by user (active users), stats of the previous period, and the daily series for the trend
charts — of which only days missing from the state store's ``kpi_daily`` cache (or not yet final) are asked
for, in one request. Nothing here pulls runs.

Two numbers are estimates, and say so: LangSmith's stats give latency p50 and p99 but no p95, so p95 is read
from a log-normal fit through p50 and p99 (latency distributions are close to log-normal) unless the server
sends ``latency_p95``; and active users are the count of ``user_id`` metadata groups, which the server caps
(``ACTIVE_USERS_CAP``): at the cap the report says "at least".
"""

from __future__ import annotations

import calendar
import json
import math
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import langsmith
from sqlalchemy import Engine, select

from notion_feedback.config import Settings
from notion_feedback.notion.schema import SCALES
from notion_feedback.smith import stats as smith_stats
from notion_feedback.state import kpi_daily, utcnow

Z99 = 2.3263  # standard normal quantiles
Z95 = 1.6449
ACTIVE_USERS_CAP = 100
GROUP_CAP = 20
# A day's aggregates may still move while runs are ingested and ratings arrive; after this it is cached for good.
SETTLE = timedelta(hours=48)
PERIODS = ("day", "week", "month")


# -- periods --------------------------------------------------------------------------------------------------


def period_range(period: str, anchor: date) -> tuple[date, date]:
    """First and last day (inclusive) of the day / ISO week (Monday first) / month containing ``anchor``."""
    if period == "day":
        return anchor, anchor
    if period == "week":
        start = anchor - timedelta(days=anchor.weekday())
        return start, start + timedelta(days=6)
    if period == "month":
        last = calendar.monthrange(anchor.year, anchor.month)[1]
        return anchor.replace(day=1), anchor.replace(day=last)
    raise ValueError(f"period must be one of {', '.join(PERIODS)}, not {period!r}")


def previous_range(period: str, start: date) -> tuple[date, date]:
    return period_range(period, start - timedelta(days=1))


def last_complete(period: str, today: date) -> date:
    """The anchor of the latest period that has ended by ``today`` (yesterday, last week, last month)."""
    if period == "day":
        return today - timedelta(days=1)
    return previous_range(period, period_range(period, today)[0])[0]


def window(start: date, end: date, timezone: str) -> tuple[datetime, datetime]:
    """[first day's local midnight, the midnight after the last day) in UTC."""
    return smith_stats.day_bounds(start, timezone)[0], smith_stats.day_bounds(end, timezone)[1]


# -- the numbers ------------------------------------------------------------------------------------------------


def estimate_p95(p50: float | None, p99: float | None) -> float | None:
    """p95 from a log-normal through p50 and p99: ``p50 * (p99/p50) ** (z95/z99)``."""
    if p50 is None or p99 is None or p50 <= 0 or p99 <= 0:
        return None
    return p50 * (p99 / p50) ** (Z95 / Z99)


def estimate_mean(p50: float | None, p99: float | None) -> float | None:
    """The mean of the same log-normal (used only when the server gives no average)."""
    if p50 is None or p99 is None or p50 <= 0 or p99 < p50:
        return None
    sigma = math.log(p99 / p50) / Z99
    return p50 * math.exp(sigma * sigma / 2)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000.0


def _div(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


@dataclass
class GroupKpis:
    """One variant's or one model's numbers (a row of the A/B and per-model tables)."""

    name: str
    runs: int
    error_rate: float | None
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    tokens_per_interaction: float | None
    cost_total: float | None
    cost_per_interaction: float | None
    rating_avg: float | None
    rating_count: int
    rating_stdev: float | None = None  # spread of the scores, for the A/B tests


@dataclass
class Kpis:
    """A period's KPIs. Rates are 0..1, latency in ms, cost in USD, ratings on the workspace's scale."""

    period: str
    start: date
    end: date
    runs: int = 0
    error_rate: float | None = None
    success_rate: float | None = None
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    latency_p99_ms: float | None = None
    latency_avg_ms: float | None = None
    p95_estimated: bool = False
    avg_estimated: bool = False
    tokens_total: float | None = None
    tokens_per_interaction: float | None = None
    cost_total: float | None = None
    cost_per_interaction: float | None = None
    rating_count: int = 0
    rating_avg: float | None = None
    rating_distribution: dict[str, int] = field(default_factory=dict)
    rating_participation: float | None = None
    active_users: int | None = None
    active_users_capped: bool = False
    by_variant: list[GroupKpis] = field(default_factory=list)
    by_model: list[GroupKpis] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def kpis_from_stats(period: str, start: date, end: date, stats: dict[str, Any], rating_key: str) -> Kpis:
    """The period's KPIs from one ``/runs/stats`` response (root runs)."""
    runs = int(smith_stats.number(stats.get("run_count")) or 0)
    k = Kpis(period=period, start=start, end=end, runs=runs)
    if runs:
        k.error_rate = smith_stats.number(stats.get("error_rate"))
        k.success_rate = None if k.error_rate is None else 1.0 - k.error_rate
    k.latency_p50_ms = _ms(smith_stats.number(stats.get("latency_p50")))
    k.latency_p99_ms = _ms(smith_stats.number(stats.get("latency_p99")))
    p95 = _ms(smith_stats.number(stats.get("latency_p95")))
    if p95 is None:
        p95, k.p95_estimated = estimate_p95(k.latency_p50_ms, k.latency_p99_ms), k.latency_p50_ms is not None
    k.latency_p95_ms = p95
    avg = _ms(smith_stats.number(stats.get("latency_avg")))
    if avg is None and runs:
        avg, k.avg_estimated = estimate_mean(k.latency_p50_ms, k.latency_p99_ms), True
    k.latency_avg_ms = avg
    k.tokens_total = smith_stats.number(stats.get("total_tokens"))
    k.tokens_per_interaction = _div(k.tokens_total, runs)
    k.cost_total = smith_stats.number(stats.get("total_cost"))
    k.cost_per_interaction = _div(k.cost_total, runs)
    fb = smith_stats.feedback_stats(stats, rating_key)
    k.rating_count, k.rating_avg, k.rating_distribution = fb["n"], fb["avg"], fb["values"]
    k.rating_participation = _div(fb["n"], runs)
    return k


def groups_of(response: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{group value: stats}`` from a grouped stats response (a bare map, or under ``groups``)."""
    body = response.get("groups", response) if isinstance(response, dict) else {}
    if isinstance(body, list):  # [{"group": name, ...stats}]
        return {str(g.get("group") or g.get("name")): g for g in body if isinstance(g, dict)}
    return {str(name): st for name, st in body.items() if isinstance(st, dict) and "run_count" in st}


def group_kpis(response: dict[str, Any], rating_key: str) -> list[GroupKpis]:
    out = []
    for name, st in groups_of(response).items():
        runs = int(smith_stats.number(st.get("run_count")) or 0)
        fb = smith_stats.feedback_stats(st, rating_key)
        cost = smith_stats.number(st.get("total_cost"))
        out.append(
            GroupKpis(
                name=name,
                runs=runs,
                error_rate=smith_stats.number(st.get("error_rate")) if runs else None,
                latency_p50_ms=_ms(smith_stats.number(st.get("latency_p50"))),
                latency_p99_ms=_ms(smith_stats.number(st.get("latency_p99"))),
                tokens_per_interaction=_div(smith_stats.number(st.get("total_tokens")), runs),
                cost_total=cost,
                cost_per_interaction=_div(cost, runs),
                rating_avg=fb["avg"],
                rating_count=fb["n"],
                rating_stdev=fb["stdev"],
            )
        )
    return sorted(out, key=lambda g: (-g.runs, g.name))


def compute_kpis(
    client: langsmith.Client,
    settings: Settings,
    project: str,
    period: str,
    start: date,
    end: date,
    *,
    groups: bool = True,
) -> Kpis:
    """KPIs of [start, end] (local days): 1 stats request, plus 3 grouped ones (variant, model, user)."""
    lo, hi = window(start, end, settings.timezone)
    k = kpis_from_stats(period, start, end, smith_stats.get_run_stats(client, project, lo, hi), settings.rating_key)
    if groups and k.runs:
        k.by_variant = group_kpis(
            smith_stats.get_run_stats(client, project, lo, hi, group_by="variant", max_groups=GROUP_CAP),
            settings.rating_key,
        )
        k.by_model = group_kpis(
            smith_stats.get_run_stats(client, project, lo, hi, group_by="model", max_groups=GROUP_CAP),
            settings.rating_key,
        )
        users = groups_of(
            smith_stats.get_run_stats(client, project, lo, hi, group_by="user_id", max_groups=ACTIVE_USERS_CAP)
        )
        k.active_users = len([u for u in users if u not in ("", "None", "null")])
        k.active_users_capped = len(users) >= ACTIVE_USERS_CAP
    if groups and k.rating_count and sum(k.rating_distribution.values()) != k.rating_count:
        # Feedback written by the sync carries its option as a value, so LangSmith counts the distribution in the
        # same stats call; older feedback (scores only) costs one small stats call per option instead.
        k.rating_distribution = rating_distribution(client, settings, project, lo, hi)
    return k


def rating_distribution(
    client: langsmith.Client, settings: Settings, project: str, lo: datetime, hi: datetime
) -> dict[str, int]:
    """Rated runs per option, when the feedback carries only scores (``values`` counts categorical labels only).

    One small stats request per option of the scale (5 for 1-5): constant whatever the volume.
    """
    out: dict[str, int] = {}
    for option, score, _ in SCALES[settings.rating_scale].options:
        condition = f'and(eq(feedback_key, "{settings.rating_key}"), eq(feedback_score, {score:g}))'
        st = smith_stats.get_run_stats(client, project, lo, hi, filter=condition, select=["run_count"])
        out[option] = int(smith_stats.number(st.get("run_count")) or 0)
    return out


# -- daily series, cached -----------------------------------------------------------------------------------------


@dataclass
class DayPoint:
    """One day of the 30-day trend (ms, USD; ``runs`` 0 on a quiet day)."""

    day: date
    runs: int = 0
    error_rate: float | None = None
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    latency_p99_ms: float | None = None
    latency_avg_ms: float | None = None
    tokens: float | None = None
    cost: float | None = None
    rating_avg: float | None = None
    rating_count: int = 0

    @property
    def cost_per_interaction(self) -> float | None:
        return _div(self.cost, self.runs)

    def to_json(self) -> str:
        data = asdict(self)
        data["day"] = self.day.isoformat()
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> DayPoint:
        data = json.loads(text)
        data["day"] = date.fromisoformat(data["day"])
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def point_from_series(day: date, values: dict[str, float | None]) -> DayPoint:
    runs = int(values.get("runs") or 0)
    p50, p99 = _ms(values.get("latency_p50_s")), _ms(values.get("latency_p99_s"))
    return DayPoint(
        day=day,
        runs=runs,
        error_rate=values.get("error_rate") if runs else None,
        latency_p50_ms=p50,
        latency_p95_ms=estimate_p95(p50, p99),
        latency_p99_ms=p99,
        latency_avg_ms=_ms(values.get("latency_avg_s")) or estimate_mean(p50, p99),
        tokens=values.get("tokens"),
        cost=values.get("cost"),
        rating_avg=values.get("rating_avg"),
        rating_count=int(values.get("rating_count") or 0),
    )


def point_from_kpis(k: Kpis) -> DayPoint:
    return DayPoint(
        day=k.start,
        runs=k.runs,
        error_rate=k.error_rate,
        latency_p50_ms=k.latency_p50_ms,
        latency_p95_ms=k.latency_p95_ms,
        latency_p99_ms=k.latency_p99_ms,
        latency_avg_ms=k.latency_avg_ms,
        tokens=k.tokens_total,
        cost=k.cost_total,
        rating_avg=k.rating_avg,
        rating_count=k.rating_count,
    )


@dataclass
class Series:
    """The trend and what it cost: ``fetched`` days were asked of LangSmith in ``requests`` requests."""

    points: list[DayPoint]
    fetched: list[date]
    requests: int


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def is_final(day: date, timezone: str, now: datetime) -> bool:
    return now >= smith_stats.day_bounds(day, timezone)[1] + SETTLE


def cached_days(engine: Engine, project: str, first: date, last: date) -> dict[date, tuple[DayPoint, bool]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(kpi_daily.c.day, kpi_daily.c.data, kpi_daily.c.final).where(
                kpi_daily.c.project == project,
                kpi_daily.c.day >= first.isoformat(),
                kpi_daily.c.day <= last.isoformat(),
            )
        ).all()
    return {date.fromisoformat(d): (DayPoint.from_json(data), bool(final)) for d, data, final in rows}


def store_days(engine: Engine, project: str, points: list[DayPoint], timezone: str, now: datetime) -> None:
    with engine.begin() as conn:
        for p in points:
            day = p.day.isoformat()
            conn.execute(kpi_daily.delete().where(kpi_daily.c.project == project, kpi_daily.c.day == day))
            conn.execute(
                kpi_daily.insert().values(
                    project=project,
                    day=day,
                    data=p.to_json(),
                    final=int(is_final(p.day, timezone, now)),
                    computed_at=utcnow(),
                )
            )


def daily_series(
    client: langsmith.Client,
    engine: Engine,
    settings: Settings,
    project_id: str,
    first: date,
    last: date,
    *,
    now: datetime | None = None,
) -> Series:
    """The trend over [first, last]: final days come from the cache; the rest in one dashboard request.

    A server without the dashboard endpoint gets one stats request per missing day instead (still only the new
    days, thanks to the cache).
    """
    now = now or datetime.now(UTC)
    name = settings.langsmith_project
    cache = cached_days(engine, name, first, last)
    missing = [d for d in _days(first, last) if d not in cache or not cache[d][1]]
    fresh: list[DayPoint] = []
    requests = 0
    if missing:
        lo, hi = window(missing[0], missing[-1], settings.timezone)
        try:
            requests += 1
            buckets = smith_stats.dashboard_series(client, project_id, lo, hi, settings.timezone, settings.rating_key)
            fresh = [point_from_series(d, buckets.get(d, {})) for d in missing]
        except smith_stats.SeriesUnavailable:
            fresh = []
            for d in missing:
                requests += 1
                k = kpis_from_stats(
                    "day",
                    d,
                    d,
                    smith_stats.get_run_stats(client, project_id, *smith_stats.day_bounds(d, settings.timezone)),
                    settings.rating_key,
                )
                fresh.append(point_from_kpis(k))
        store_days(engine, name, fresh, settings.timezone, now)
    by_day = {d: p for d, (p, _) in cache.items()} | {p.day: p for p in fresh}
    points = [by_day.get(d, DayPoint(day=d)) for d in _days(first, last)]
    return Series(points=points, fetched=missing, requests=requests)


# -- targets and changes ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One KPI beside its target. ``ok`` is None when there is nothing to judge (no traffic, no ratings)."""

    key: str
    label: str
    value: float | None
    target: float
    higher_is_better: bool
    unit: str  # ms | tokens | usd | rate | rating

    @property
    def ok(self) -> bool | None:
        if self.value is None:
            return None
        return self.value > self.target if self.higher_is_better else self.value < self.target


def satisfaction_target(settings: Settings) -> float:
    """The satisfaction target is written on a 1-5 scale (4.5/5); other scales get the same share of their range."""
    scale = SCALES[settings.rating_scale]
    share = (settings.target_satisfaction - 1.0) / 4.0
    return scale.min + share * (scale.max - scale.min)


def checks(k: Kpis, settings: Settings) -> list[Check]:
    """Each KPI that has a target, in the order of the product's service goals."""
    return [
        Check("latency_avg_ms", "Average response time", k.latency_avg_ms, settings.target_latency_avg_ms, False, "ms"),
        Check(
            "tokens_per_interaction",
            "Tokens / interaction",
            k.tokens_per_interaction,
            settings.target_tokens_per_interaction,
            False,
            "tokens",
        ),
        Check(
            "cost_per_interaction",
            "Cost / interaction",
            k.cost_per_interaction,
            settings.target_cost_per_interaction_usd,
            False,
            "usd",
        ),
        Check("success_rate", "Success rate", k.success_rate, settings.target_success_rate, True, "rate"),
        Check("rating_avg", "Average rating", k.rating_avg, satisfaction_target(settings), True, "rating"),
        Check("error_rate", "Error rate", k.error_rate, settings.target_error_rate, False, "rate"),
    ]


def breaches(items: list[Check]) -> list[Check]:
    return [c for c in items if c.ok is False]


CHANGE_KEYS = (
    "runs",
    "success_rate",
    "error_rate",
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "latency_avg_ms",
    "tokens_per_interaction",
    "cost_total",
    "cost_per_interaction",
    "rating_count",
    "rating_avg",
    "rating_participation",
    "active_users",
)


def changes(current: Kpis, previous: Kpis | None) -> dict[str, float | None]:
    """Relative change per KPI against the previous period (0.1 = +10 %); None when there is no base."""
    out: dict[str, float | None] = {}
    for key in CHANGE_KEYS:
        now_v, before = getattr(current, key), getattr(previous, key) if previous else None
        out[key] = None if now_v is None or not before else (now_v - before) / abs(before)
    return out

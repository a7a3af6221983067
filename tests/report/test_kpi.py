"""KPI maths: periods, estimates, targets, changes; and against runs traced with the real SDK on the sandbox."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from report_helpers import Interaction, trace

from notion_feedback.config import Settings
from notion_feedback.report import kpi
from notion_feedback.smith import projects
from notion_feedback.smith import stats as smith_stats
from notion_feedback.smith.client import make_langsmith_client
from notion_feedback.state import open_state


def test_periods_days_iso_weeks_and_months() -> None:
    assert kpi.period_range("day", date(2026, 11, 24)) == (date(2026, 11, 24), date(2026, 11, 24))
    assert kpi.period_range("week", date(2026, 11, 26)) == (date(2026, 11, 23), date(2026, 11, 29))
    assert kpi.period_range("month", date(2024, 2, 10)) == (date(2024, 2, 1), date(2024, 2, 29))
    assert kpi.previous_range("week", date(2026, 11, 23)) == (date(2026, 11, 16), date(2026, 11, 22))
    assert kpi.previous_range("month", date(2026, 1, 1)) == (date(2025, 12, 1), date(2025, 12, 31))
    assert kpi.last_complete("day", date(2026, 11, 25)) == date(2026, 11, 24)
    assert kpi.last_complete("week", date(2026, 11, 25)) == date(2026, 11, 16)
    assert kpi.last_complete("month", date(2026, 3, 1)) == date(2026, 2, 1)
    with pytest.raises(ValueError):
        kpi.period_range("year", date(2026, 1, 1))


def test_local_day_window_follows_dst() -> None:
    lo, hi = smith_stats.day_bounds(date(2026, 3, 29), "Europe/Paris")  # clocks go forward: a 23-hour day
    assert lo == datetime(2026, 3, 28, 23, tzinfo=UTC) and hi - lo == timedelta(hours=23)


def test_p95_and_mean_estimates_fit_lognormal_latency() -> None:
    rng = np.random.default_rng(1)
    lat = rng.lognormal(mean=0.3, sigma=0.7, size=200_000)
    p50, p95, p99 = np.quantile(lat, (0.5, 0.95, 0.99))
    assert kpi.estimate_p95(p50, p99) == pytest.approx(p95, rel=0.03)
    assert kpi.estimate_mean(p50, p99) == pytest.approx(lat.mean(), rel=0.03)
    assert kpi.estimate_p95(None, 2.0) is None and kpi.estimate_mean(0.0, 1.0) is None


def test_kpis_from_a_stats_response() -> None:
    stats = {
        "run_count": 200,
        "error_rate": 0.02,
        "latency_p50": 0.8,
        "latency_p99": 3.2,
        "total_tokens": 150_000,
        "total_cost": "1.6",  # Decimal costs may arrive as strings
        "feedback_stats": {"user_rating": {"n": 50, "avg": 4.2, "values": {}}},
    }
    k = kpi.kpis_from_stats("day", date(2026, 11, 24), date(2026, 11, 24), stats, "user_rating")
    assert (k.runs, k.error_rate, k.success_rate) == (200, 0.02, 0.98)
    assert (k.latency_p50_ms, k.latency_p99_ms) == (800.0, 3200.0)
    assert k.p95_estimated and 800 < k.latency_p95_ms < 3200  # type: ignore[operator]
    assert (k.tokens_per_interaction, k.cost_per_interaction) == (750.0, 0.008)
    assert (k.rating_count, k.rating_avg, k.rating_participation) == (50, 4.2, 0.25)
    empty = kpi.kpis_from_stats("day", date(2026, 11, 24), date(2026, 11, 24), {"run_count": 0}, "user_rating")
    assert empty.error_rate is None and empty.cost_per_interaction is None and empty.latency_avg_ms is None


def test_checks_against_targets_and_scales() -> None:
    settings = Settings(_env_file=None)
    k = kpi.Kpis(
        "day",
        date(2026, 11, 24),
        date(2026, 11, 24),
        runs=10,
        latency_avg_ms=2500,
        success_rate=0.99,
        error_rate=0.01,
        tokens_per_interaction=900,
        cost_per_interaction=0.02,
        rating_avg=4.6,
    )
    status = {c.key: c.ok for c in kpi.checks(k, settings)}
    assert status == {
        "latency_avg_ms": False,
        "tokens_per_interaction": True,
        "cost_per_interaction": False,
        "success_rate": True,
        "rating_avg": True,
        "error_rate": False,
    }  # 1 % is not < 1 %
    assert len(kpi.breaches(kpi.checks(k, settings))) == 3
    assert kpi.satisfaction_target(Settings(_env_file=None, rating_scale="1-10")) == pytest.approx(8.875)
    assert kpi.satisfaction_target(Settings(_env_file=None, rating_scale="thumbs")) == pytest.approx(0.875)
    quiet = kpi.Kpis("day", date(2026, 11, 24), date(2026, 11, 24))
    assert all(c.ok is None for c in kpi.checks(quiet, settings))


def test_changes_against_the_previous_period() -> None:
    now = kpi.Kpis("week", date(2026, 11, 16), date(2026, 11, 22), runs=150, error_rate=0.01, rating_avg=None)
    before = kpi.Kpis("week", date(2026, 11, 9), date(2026, 11, 15), runs=100, error_rate=0.02, rating_avg=4.0)
    ch = kpi.changes(now, before)
    assert ch["runs"] == pytest.approx(0.5) and ch["error_rate"] == pytest.approx(-0.5)
    assert ch["rating_avg"] is None and kpi.changes(now, None)["runs"] is None


def test_dashboard_parsing_maps_series_to_local_days() -> None:
    section = {
        "charts": [
            {
                "series": [{"id": "s1", "metric": "run_count"}, {"id": "s2", "metric": "latency_p50"}],
                "data": [
                    {"series_id": "s1", "timestamp": "2026-11-23T23:00:00+00:00", "value": 7, "group": None},
                    {"series_id": "s2", "timestamp": "2026-11-23T23:00:00+00:00", "value": "1.5", "group": None},
                    {"series_id": "s1", "timestamp": "2026-11-23T23:00:00+00:00", "value": 3, "group": "A"},
                ],
            },
            {
                "series": [
                    {"id": "f1", "metric": "feedback_score_avg", "feedback_key": "other"},
                    {"id": "f2", "metric": "feedback_score_avg", "feedback_key": "user_rating"},
                ],
                "data": [
                    {"series_id": "f1", "timestamp": "2026-11-23T23:00:00Z", "value": 1},
                    {"series_id": "f2", "timestamp": "2026-11-23T23:00:00Z", "value": 4.5},
                ],
            },
        ]
    }
    days = smith_stats.parse_dashboard(section, "Europe/Paris", "user_rating")
    assert days == {date(2026, 11, 24): {"runs": 7.0, "latency_p50_s": 1.5, "rating_avg": 4.5}}


# -- on the sandbox, with runs traced by the real SDK -------------------------------------------------------


def _day(days_ago: int) -> date:
    return datetime.now(UTC).date() - timedelta(days=days_ago)


def _at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def test_day_kpis_match_hand_computed_values(settings: Settings) -> None:
    d = _day(3)
    known = [
        Interaction(_at(d, 8), 0.5, 400, 0.002, "A", "gpt-4o-mini", "u1", rating=5),
        Interaction(_at(d, 9), 1.0, 600, 0.003, "A", "gpt-4o-mini", "u2", rating=4),
        Interaction(_at(d, 10), 2.0, 800, 0.004, "B", "gpt-4.1", "u1", rating=2),
        Interaction(_at(d, 11), 3.0, 1000, 0.010, "B", "gpt-4.1", "u3", error=True),
        Interaction(_at(d, 23), 1.5, 500, 0.002, "A", "gpt-4o-mini", "u2", rating=5),
        Interaction(_at(d - timedelta(days=1), 23), 9.0, 100, 0.001, "A", "gpt-4o-mini", "u9"),  # the day before
        Interaction(_at(d + timedelta(days=1), 0), 9.0, 100, 0.001, "A", "gpt-4o-mini", "u9"),  # the day after
    ]
    trace(settings, known)
    smith = make_langsmith_client(settings)
    project = projects.project_id(smith, settings.langsmith_project)
    k = kpi.compute_kpis(smith, settings, project, "day", d, d)

    assert k.runs == 5
    assert k.error_rate == pytest.approx(0.2) and k.success_rate == pytest.approx(0.8)
    assert k.tokens_total == 3300 and k.tokens_per_interaction == pytest.approx(660)
    assert k.cost_total == pytest.approx(0.021) and k.cost_per_interaction == pytest.approx(0.0042)
    lat = [0.5, 1.0, 2.0, 3.0, 1.5]
    assert k.latency_p50_ms == pytest.approx(1500)
    assert k.latency_p99_ms == pytest.approx(np.quantile(lat, 0.99) * 1000)
    assert (k.rating_count, k.rating_avg, k.rating_participation) == (4, pytest.approx(4.0), pytest.approx(0.8))
    assert k.rating_distribution == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 2}
    assert k.active_users == 3 and not k.active_users_capped
    variants = {g.name: g for g in k.by_variant}
    assert (variants["A"].runs, variants["B"].runs) == (3, 2)
    assert variants["B"].error_rate == pytest.approx(0.5) and variants["A"].rating_avg == pytest.approx(14 / 3)
    models = {g.name: g for g in k.by_model}
    assert models["gpt-4.1"].cost_per_interaction == pytest.approx(0.007)
    assert models["gpt-4o-mini"].tokens_per_interaction == pytest.approx(500)
    breached = {c.key for c in kpi.breaches(kpi.checks(k, settings))}
    assert breached == {"success_rate", "rating_avg", "error_rate"}


def test_week_rollup_compares_with_the_week_before(settings: Settings) -> None:
    from notion_feedback.report.publish import gather

    this_week = kpi.period_range("week", kpi.last_complete("week", datetime.now(UTC).date()))[0]
    last_week = this_week - timedelta(days=7)
    trace(
        settings,
        [Interaction(_at(last_week + timedelta(days=i), 12), 1.0, 500, 0.004) for i in (0, 3)]
        + [Interaction(_at(this_week + timedelta(days=i), 12), 2.0, 500, 0.004, rating=4) for i in (0, 2, 6)],
    )
    smith = make_langsmith_client(settings)
    data = gather(smith, open_state(settings.resolved_state_url), settings, "week", this_week, datetime.now(UTC))
    assert (data.start, data.end) == (this_week, this_week + timedelta(days=6))
    assert data.kpis.runs == 3 and data.previous is not None and data.previous.runs == 2
    change = kpi.changes(data.kpis, data.previous)
    assert change["runs"] == pytest.approx(0.5) and change["latency_p50_ms"] == pytest.approx(1.0)
    week_days = [p for p in data.series.points if this_week <= p.day <= data.end]
    assert sum(p.runs for p in week_days) == 3  # the daily trend agrees with the period's stats
    assert data.kpis.latency_avg_ms == pytest.approx(2000) and not data.kpis.avg_estimated


def test_cache_asks_only_for_days_that_are_not_final(settings: Settings) -> None:
    trace(settings, [Interaction(_at(_day(i), 12), 1.0, 100 * i, 0.001 * i) for i in range(1, 8)])
    smith = make_langsmith_client(settings)
    engine = open_state(settings.resolved_state_url)
    project = projects.project_id(smith, settings.langsmith_project)
    now = datetime.now(UTC)
    first = kpi.daily_series(smith, engine, settings, project, _day(10), _day(1), now=now)
    assert first.requests == 1 and len(first.fetched) == 10
    assert [p.runs for p in first.points] == [0, 0, 0, 1, 1, 1, 1, 1, 1, 1]
    assert first.points[-1].tokens == 100 and first.points[-2].cost == pytest.approx(0.002)

    again = kpi.daily_series(smith, engine, settings, project, _day(10), _day(1), now=now)
    # yesterday (and, before ~midnight+48h, the day before) may still move: only those are asked again
    assert again.requests == 1 and set(again.fetched) <= {_day(1), _day(2)} and _day(1) in again.fetched
    assert [p.runs for p in again.points] == [p.runs for p in first.points]

    # once the open days are over, they are read one last time and cached for good
    later = now + timedelta(days=3)
    settle = kpi.daily_series(smith, engine, settings, project, _day(10), _day(1), now=later)
    assert settle.fetched == again.fetched
    final = kpi.daily_series(smith, engine, settings, project, _day(10), _day(1), now=later)
    assert final.requests == 0 and final.fetched == []  # every day final: no request at all
    assert [p.to_json() for p in final.points] == [p.to_json() for p in again.points]


@pytest.mark.parametrize(("labels", "stats_calls"), [(True, 4), (False, 4 + 5)])
def test_rating_distribution_comes_free_when_feedback_carries_its_option(
    settings: Settings, sandbox, labels: bool, stats_calls: int
) -> None:
    d = _day(2)
    ratings = [5, 5, 4, 2, 1]
    trace(
        settings, [Interaction(_at(d, 9 + i), 1.0, 500, 0.002, rating=r) for i, r in enumerate(ratings)], labels=labels
    )
    smith = make_langsmith_client(settings)
    project = projects.project_id(smith, settings.langsmith_project)
    before = sandbox.langsmith.control.count("POST /runs/stats")
    k = kpi.compute_kpis(smith, settings, project, "day", d, d)
    assert sandbox.langsmith.control.count("POST /runs/stats") - before == stats_calls
    assert {o: n for o, n in k.rating_distribution.items() if n} == {"5": 2, "4": 1, "2": 1, "1": 1}

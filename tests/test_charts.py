"""Charts render valid PNGs sized for a Notion page, and leave nothing behind."""

from __future__ import annotations

import gc
import os
import struct
from datetime import date, timedelta

import matplotlib.pyplot as plt

from notion_feedback import charts, costs
from notion_feedback.kpi import DayPoint


def _points(n: int = 30, runs: int = 100) -> list[DayPoint]:
    return [
        DayPoint(
            day=date(2026, 11, 1) + timedelta(days=i),
            runs=runs + i,
            error_rate=0.01 * (i % 4),
            latency_p50_ms=800,
            latency_p95_ms=1600,
            latency_p99_ms=2600,
            latency_avg_ms=1000,
            cost=1.5,
            tokens=90_000,
        )
        for i in range(n)
    ]


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def _all_charts(points: list[DayPoint]) -> list[bytes]:
    return [
        charts.volume_chart(points),
        charts.latency_chart(points, 2000),
        charts.cost_chart(points, 0.01),
        charts.rating_chart({"1": 2, "4": 5, "5": 9}, ["1", "2", "3", "4", "5"], 4.2),
        charts.forecast_chart(costs.forecast_cost([(p.day, p.cost) for p in points], points[-1].day), 2.0, "budget"),
    ]


def test_each_chart_is_a_png_of_1200_by_600() -> None:
    for png in _all_charts(_points()):
        assert _png_size(png) == (1200, 600)
        assert 5_000 < len(png) < 500_000


def test_empty_periods_still_render() -> None:
    quiet = [DayPoint(day=date(2026, 11, 1) + timedelta(days=i)) for i in range(30)]
    for png in [*_all_charts(quiet), charts.rating_chart({}, ["1", "2"], None)]:
        assert _png_size(png) == (1200, 600)


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_no_figure_leaks_into_pyplot_and_memory_stays_flat() -> None:
    """A pyplot figure left open costs ~3 MB at this size: 55 leaked figures would add ~165 MB."""
    points = _points()
    for _ in range(3):
        _all_charts(points)  # warm caches (fonts, text layout)
    gc.collect()
    base = _rss()
    for _ in range(11):  # 55 more figures
        _all_charts(points)
    gc.collect()
    grown = _rss() - base
    assert plt.get_fignums() == []
    assert grown < 25 * 1024 * 1024, f"memory grew by {grown / 1e6:.1f} MB over 55 charts"


def test_dollar_ticks_keep_small_amounts_readable() -> None:
    from notion_feedback.charts import _usd

    assert [_usd(v) for v in (0, 0.0005, 0.004, 0.015, 0.5, 1234.5)] == [
        "$0.00",
        "$0.0005",
        "$0.004",
        "$0.015",
        "$0.50",
        "$1,234.50",
    ]

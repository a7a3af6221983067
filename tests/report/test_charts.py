"""Charts render valid PNGs sized for a Notion page, and leave nothing behind."""

from __future__ import annotations

import gc
import math
import os
import re
import struct
from datetime import date, timedelta
from functools import partial
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.text import Annotation

from notion_feedback.report import charts, costs
from notion_feedback.report.kpi import DayPoint


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
    from notion_feedback.report.charts import _usd

    assert [_usd(v) for v in (0, 0.0005, 0.004, 0.015, 0.5, 1234.5)] == [
        "$0.00",
        "$0.0005",
        "$0.004",
        "$0.015",
        "$0.50",
        "$1,234.50",
    ]


# -- what the charts say: each fix is drawn in a PNG written here, and checked on the figure that drew it --------

UNIT = re.compile(r"\((USD/day|USD|s|%|per day|count)\)$")


def _young_project(cost_per_run: float = 0.0013) -> list[DayPoint]:
    """30 days of trend of which only the last 14 had traffic: about 11 interactions a day, cheap ones."""
    first = date(2026, 11, 2)
    return [
        DayPoint(day=first + timedelta(days=i))
        if i < 16
        else DayPoint(
            day=first + timedelta(days=i),
            runs=10 + i % 3,
            error_rate=0.0833 * (i % 2),
            latency_p50_ms=900,
            latency_p95_ms=1700,
            latency_p99_ms=2600,
            latency_avg_ms=1100,
            cost=(10 + i % 3) * cost_per_run * (1 + 0.1 * (i % 4)),
            tokens=6000,
        )
        for i in range(30)
    ]


def _drawn(tmp_path: Path, name: str, draw: charts.Draw) -> Figure:
    """The figure, after saving it as the PNG a report would upload (in ``tmp_path``, to look at)."""
    fig = charts.figure(draw)
    png = charts.to_png(fig)
    (tmp_path / f"{name}.png").write_bytes(png)
    assert _png_size(png) == (1200, 600)
    return fig


def _off_scale_markers(ax: Axes) -> list[str]:
    return [t.get_text() for t in ax.texts if isinstance(t, Annotation) and t.arrow_patch is not None]


def _target_lines(ax: Axes) -> list[str]:
    return [str(line.get_label()) for line in ax.lines if str(line.get_label()).startswith("target")]


def _all_figures(tmp_path: Path) -> dict[str, Figure]:
    pts = _young_project()
    fc = costs.forecast_cost([(p.day, p.cost) for p in pts], pts[-1].day)
    return {
        "volume": _drawn(tmp_path, "volume", partial(charts.draw_volume, points=pts)),
        "latency": _drawn(tmp_path, "latency", partial(charts.draw_latency, points=pts, target_avg_ms=2000)),
        "cost": _drawn(tmp_path, "cost", partial(charts.draw_cost, points=pts, target_per_interaction=0.01)),
        "ratings": _drawn(
            tmp_path,
            "ratings",
            partial(charts.draw_rating, distribution={"4": 3, "5": 6}, options=list("12345"), average=4.7),
        ),
        "forecast": _drawn(
            tmp_path, "forecast", partial(charts.draw_forecast, fc=fc, daily_line=0.11, line_label="target")
        ),
    }


def test_every_value_axis_is_labelled_with_its_unit(tmp_path: Path) -> None:
    for name, fig in _all_figures(tmp_path).items():
        labels = [ax.get_ylabel() for ax in fig.axes]
        assert labels and all(UNIT.search(label) for label in labels), (name, labels)
    cost = _all_figures(tmp_path)["cost"]
    assert [ax.get_ylabel() for ax in cost.axes] == ["total (USD/day)", "per interaction (USD)"]


def test_thirty_day_charts_say_how_many_days_had_data(tmp_path: Path) -> None:
    figs = _all_figures(tmp_path)
    for name in ("volume", "latency", "cost"):
        assert figs[name].axes[0].get_title(loc="left").endswith("last 30 days (14 with data)"), name
    full = charts.figure(partial(charts.draw_volume, points=_points()))
    assert full.axes[0].get_title(loc="left") == "Interactions and error rate, last 30 days"
    assert figs["forecast"].axes[0].get_title(loc="left") == "Daily cost: the last 14 days with data and the next 30"


def test_the_per_interaction_target_is_drawn_on_the_per_interaction_axis_only(tmp_path: Path) -> None:
    """A $0.01-per-interaction target across daily-total bars made every day look over target."""
    near = _young_project(cost_per_run=0.0075)  # per interaction near the target: drawn as a line
    fig = _drawn(tmp_path, "cost-near-target", partial(charts.draw_cost, points=near, target_per_interaction=0.01))
    totals, per = fig.axes
    assert _target_lines(totals) == [] and _off_scale_markers(totals) == []
    assert _target_lines(per) == [r"target < \$0.01"]
    top = max(p.cost_per_interaction or 0 for p in near)
    assert top < 0.01 <= per.get_ylim()[1] <= 1.5 * top
    assert totals.get_ylim()[1] <= 1.5 * max(p.cost or 0 for p in near)


def test_a_target_far_above_the_data_is_marked_off_scale_with_its_value(tmp_path: Path) -> None:
    """$0.015 days under a $0.11/day target line sat in the bottom 15 % of the plot."""
    pts = _young_project()
    fc = costs.forecast_cost([(p.day, p.cost) for p in pts], pts[-1].day)
    fig = _drawn(
        tmp_path,
        "forecast-off-scale",
        partial(charts.draw_forecast, fc=fc, daily_line=0.1164, line_label="target $0.01/interaction × traffic"),
    )
    [ax] = fig.axes
    shown = [c for _, c in fc.history] + [v for p in fc.projection for v in (p.cost, p.high)]
    assert ax.get_ylim()[1] <= 1.5 * max(shown)
    assert _target_lines(ax) == []
    assert _off_scale_markers(ax) == [r"target \$0.01/interaction × traffic = \$0.1164/day (off scale)"]
    cost = _all_figures(tmp_path)["cost"]
    assert _off_scale_markers(cost.axes[1]) == [r"target < \$0.01 (off scale)"]


def test_y_limits_stay_within_one_and_a_half_times_the_data_unless_a_target_is_marked(tmp_path: Path) -> None:
    for name, fig in _all_figures(tmp_path).items():
        for ax in fig.axes:
            data = _plotted_max(ax)
            if data > 0 and not _off_scale_markers(ax):
                targets = _target_values(ax)
                assert ax.get_ylim()[1] <= 1.5 * max([data, *targets]), (name, ax.get_ylabel())
                assert all(t <= 1.5 * data for t in targets), (name, targets)


def _target_values(ax: Axes) -> list[float]:
    return [float(line.get_ydata()[0]) for line in ax.lines if str(line.get_label()).startswith("target")]


def _plotted_max(ax: Axes) -> float:
    """The highest bar, point or band edge of the data (target lines excluded)."""
    values = [r.get_height() for r in ax.patches if isinstance(r, Rectangle)]
    values += [
        float(y) for line in ax.lines if not str(line.get_label()).startswith("target") for y in line.get_ydata()
    ]
    values += [float(y) for c in ax.collections for path in c.get_paths() for y in path.vertices[:, 1]]
    return max((v for v in values if math.isfinite(v)), default=0.0)

"""Report charts as PNG bytes, sized for a Notion page.

No pyplot: each chart is a ``matplotlib.figure.Figure`` drawn by its own Agg canvas, so nothing is registered in
pyplot's global figure list (the leak matplotlib's docs warn about on servers) and no global backend is switched.
Figures are still cleared in ``finally`` so a failure half-way frees the memory at once.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from datetime import date

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from notion_feedback.costs import Forecast
from notion_feedback.kpi import DayPoint

# 8 x 4 in at 150 dpi = 1200 x 600 px: sharp on HiDPI screens at Notion's page width, ~40-70 KB per chart.
WIDTH_IN, HEIGHT_IN, DPI = 8.0, 4.0, 150
BLUE, RED, GREEN, GREY, ORANGE = "#2f6fde", "#d9534f", "#3a9a5b", "#8a8f98", "#e8a33d"
CHART_NAMES = ("volume", "latency", "cost", "ratings", "forecast")
# Emoji options (the thumbs scale) have no glyph in matplotlib's bundled font: label them in words.
_WORDS = {"👍": "thumbs up", "👎": "thumbs down"}


def _usd(value: float, _pos: object = None) -> str:
    """Dollar tick labels with the decimals small amounts need ($0.004 must not read $0.00), at least two."""
    if value == 0 or abs(value) >= 1:
        return f"${value:,.2f}"
    digits = f"{value:.4f}".rstrip("0")
    decimals = max(2, len(digits.split(".")[1]))
    return f"${value:.{decimals}f}"


def render(draw: Callable[[Figure], None]) -> bytes:
    """Draw on a fresh figure and return it as PNG bytes; the figure never outlives the call."""
    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")
    try:
        FigureCanvasAgg(fig)
        draw(fig)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=DPI, facecolor="white")
        return buf.getvalue()
    finally:
        fig.clear()


def _style(ax: Axes, title: str) -> None:
    ax.set_title(title, loc="left", fontsize=12, fontweight="bold")
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", alpha=0.3)
    ax.tick_params(labelsize=8)


def _day_labels(ax: Axes, days: Sequence[date]) -> None:
    step = max(1, len(days) // 10)
    ax.set_xticks(range(0, len(days), step), [d.strftime("%b %d") for d in days][::step], rotation=0)


def _no_data(ax: Axes) -> None:
    ax.text(0.5, 0.5, "no data in this period", ha="center", va="center", transform=ax.transAxes, color=GREY)


def _daily_footer(fig: Figure, ax: Axes, points: Sequence[DayPoint], *, ncols: int) -> None:
    """What every per-day chart ends with: day labels, the legend under the plot, a note when nothing happened."""
    _day_labels(ax, [p.day for p in points])
    fig.legend(loc="outside lower center", fontsize=8, frameon=False, ncols=ncols)
    if not any(p.runs for p in points):
        _no_data(ax)


def volume_chart(points: Sequence[DayPoint]) -> bytes:
    """Interactions per day (bars) and error rate (line, right axis)."""

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        _style(ax, f"Interactions and error rate, last {len(points)} days")
        x = range(len(points))
        ax.bar(x, [p.runs for p in points], color=BLUE, alpha=0.8, label="interactions")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("interactions", fontsize=9)
        ax2 = ax.twinx()
        ax2.plot(
            x,
            [p.error_rate if p.error_rate is not None else float("nan") for p in points],
            color=RED,
            marker="o",
            markersize=3,
            label="error rate",
        )
        ax2.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax2.set_ylim(bottom=0)
        ax2.spines[["top"]].set_visible(False)
        ax2.tick_params(labelsize=8)
        _daily_footer(fig, ax, points, ncols=3)

    return render(draw)


def latency_chart(points: Sequence[DayPoint], target_avg_ms: float) -> bytes:
    """Latency p50 / p95 / p99 and average per day, with the average's target."""

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        _style(ax, "Response time per day")
        x = list(range(len(points)))

        def line(attr: str, label: str, colour: str, style: str = "-") -> None:
            ys = [getattr(p, attr) if getattr(p, attr) is not None else float("nan") for p in points]
            ax.plot(x, [y / 1000.0 for y in ys], style, color=colour, label=label, marker="o", markersize=2.5)

        line("latency_p50_ms", "p50", BLUE)
        line("latency_p95_ms", "p95 (est.)", ORANGE)
        line("latency_p99_ms", "p99", RED)
        line("latency_avg_ms", "average", GREEN, "--")
        ax.axhline(target_avg_ms / 1000.0, color=GREY, linestyle=":", label=f"target avg < {target_avg_ms / 1000:g} s")
        ax.set_ylabel("seconds", fontsize=9)
        ax.set_ylim(bottom=0)
        _daily_footer(fig, ax, points, ncols=5)

    return render(draw)


def cost_chart(points: Sequence[DayPoint], target_per_interaction: float) -> bytes:
    """Daily cost (bars) and cost per interaction against its target (line, right axis)."""

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        _style(ax, "Cost per day")
        x = list(range(len(points)))
        ax.bar(x, [p.cost or 0.0 for p in points], color=BLUE, alpha=0.7, label="total (USD)")
        ax.yaxis.set_major_formatter(FuncFormatter(_usd))
        ax2 = ax.twinx()
        per = [p.cost_per_interaction if p.cost_per_interaction is not None else float("nan") for p in points]
        ax2.plot(x, per, color=ORANGE, marker="o", markersize=3, label="per interaction")
        ax2.axhline(target_per_interaction, color=RED, linestyle=":", label=f"target < ${target_per_interaction:g}")
        ax2.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"${v:.4f}"))
        ax2.set_ylim(bottom=0, top=max([target_per_interaction * 1.5, *[v for v in per if v == v]]))
        ax2.spines[["top"]].set_visible(False)
        ax2.tick_params(labelsize=8)
        _daily_footer(fig, ax, points, ncols=3)

    return render(draw)


def rating_chart(distribution: dict[str, int], options: Sequence[str], average: float | None) -> bytes:
    """How many ratings each option got, in the scale's order."""

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        title = "Ratings" + (f" (average {average:.2f})" if average is not None else "")
        _style(ax, title)
        labels = list(options) + [k for k in distribution if k not in options]
        counts = [distribution.get(o, 0) for o in labels]
        colours = [RED, ORANGE, ORANGE, BLUE, GREEN] if len(labels) == 5 else [BLUE] * len(labels)
        bars = ax.bar([_WORDS.get(x, x) for x in labels], counts, color=colours[: len(labels)])
        ax.bar_label(bars, fontsize=8)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("rating", fontsize=9)
        if not sum(counts):
            _no_data(ax)

    return render(draw)


def forecast_chart(fc: Forecast, daily_line: float | None, line_label: str) -> bytes:
    """Daily cost so far (bars), the projection for the next 30 days with its 95 % band, and a budget line."""

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        _style(ax, "Daily cost: history and forecast")
        days = [d for d, _ in fc.history] + [p.day for p in fc.projection]
        n = len(fc.history)
        ax.bar(range(n), [c for _, c in fc.history], color=BLUE, alpha=0.75, label="cost per day")
        if fc.projection:
            x = list(range(n, len(days)))
            ax.plot(x, [p.cost for p in fc.projection], color=ORANGE, label=f"forecast ({fc.method})")
            ax.fill_between(
                x,
                [p.low for p in fc.projection],
                [p.high for p in fc.projection],
                color=ORANGE,
                alpha=0.2,
                label="95 % band (one day)",
            )
        if daily_line:
            ax.axhline(daily_line, color=RED, linestyle=":", label=line_label)
        ax.yaxis.set_major_formatter(FuncFormatter(_usd))
        ax.set_ylim(bottom=0)
        if days:
            _day_labels(ax, days)
        fig.legend(loc="outside lower center", fontsize=8, frameon=False, ncols=4)
        if not fc.history:
            _no_data(ax)
        elif not fc.projection:
            ax.text(
                0.98,
                0.95,
                "too little history to forecast",
                ha="right",
                va="top",
                transform=ax.transAxes,
                color=GREY,
                fontsize=9,
            )

    return render(draw)

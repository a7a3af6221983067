"""Report charts as PNG bytes, sized for a Notion page.

No pyplot: each chart is a ``matplotlib.figure.Figure`` drawn by its own Agg canvas, so nothing is registered in
pyplot's global figure list (the leak matplotlib's docs warn about on servers) and no global backend is switched.
Figures are still cleared in ``finally`` so a failure half-way frees the memory at once.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from datetime import date
from functools import partial

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from notion_feedback.report.costs import Forecast
from notion_feedback.report.kpi import DayPoint

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


Draw = Callable[[Figure], None]
# A target drawn inside the plot may sit at most this far above the data (the y-axis then ends just above it);
# beyond, the axis keeps to the data and the target is marked off scale at the top edge, with its value.
TARGET_IN_SCALE = 1.4
HEADROOM = 1.1
OFF_SCALE_HEADROOM = 1.3  # room above the data for the off-scale marker


def _blank() -> Figure:
    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def figure(draw: Draw) -> Figure:
    """A drawn figure, kept: for looking at a chart's axes (tests); ``render`` is what reports use."""
    fig = _blank()
    draw(fig)
    return fig


def to_png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, facecolor="white")
    return buf.getvalue()


def render(draw: Draw) -> bytes:
    """Draw on a fresh figure and return it as PNG bytes; the figure never outlives the call."""
    fig = _blank()
    try:
        draw(fig)
        return to_png(fig)
    finally:
        fig.clear()


def _style(ax: Axes, title: str) -> None:
    ax.set_title(title, loc="left", fontsize=12, fontweight="bold")
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", alpha=0.3)
    ax.tick_params(labelsize=8)


def _ylabel(ax: Axes, text: str) -> None:
    ax.set_ylabel(text, fontsize=9)


def window_title(base: str, points: Sequence[DayPoint]) -> str:
    """ "…, last 30 days", saying how many of them had traffic when not all did (a young project's 14)."""
    with_data = sum(1 for p in points if p.runs)
    if with_data == len(points):
        return f"{base}, last {len(points)} days"
    return f"{base}, last {len(points)} days ({with_data} with data)"


def _finite(values: Sequence[float | None]) -> list[float]:
    return [v for v in values if v is not None and math.isfinite(v)]


def plain(text: str) -> str:
    """Text shown as typed: matplotlib reads a pair of ``$`` as math (``$0.01 … $0.12`` came out in italics)."""
    return text.replace("$", r"\$")


def scale_to_data(ax: Axes, values: Sequence[float | None], target: float | None = None, label: str = "") -> None:
    """Y from 0 to just above the data; the target as a line when it is near the data, else an arrow and its label.

    A target far above the data (a $0.11 daily target over $0.015 days) would squash the data into the bottom
    of the plot; reading the data matters more than seeing the gap to scale, so the gap is written instead. The
    label carries the target's value, so the off-scale marker says it too.
    """
    top = max(_finite(values), default=0.0)
    if target is None or target <= 0:
        ax.set_ylim(0, top * HEADROOM if top > 0 else 1)
        return
    if top <= 0 or target <= top * TARGET_IN_SCALE:
        ax.axhline(target, color=RED, linestyle=":", label=plain(label))
        ax.set_ylim(0, max(top * HEADROOM, target * 1.05))
        return
    ax.set_ylim(0, top * OFF_SCALE_HEADROOM)
    ax.annotate(
        plain(f"{label} (off scale)"),
        xy=(0.99, 1.0),
        xycoords="axes fraction",
        xytext=(0.99, 0.92),
        textcoords="axes fraction",
        ha="right",
        va="top",
        fontsize=8,
        color=RED,
        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1},
        arrowprops={"arrowstyle": "-|>", "color": RED, "relpos": (1.0, 1.0)},
    )


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


def _nan(v: float | None) -> float:
    return float("nan") if v is None else v


def draw_volume(fig: Figure, points: Sequence[DayPoint]) -> None:
    """Interactions per day (bars) and error rate (line, right axis)."""
    ax = fig.add_subplot()
    _style(ax, window_title("Interactions and error rate", points))
    x = range(len(points))
    ax.bar(x, [p.runs for p in points], color=BLUE, alpha=0.8, label="interactions")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    _ylabel(ax, "interactions (per day)")
    ax2 = ax.twinx()
    rates = [_nan(p.error_rate) for p in points]
    ax2.plot(x, rates, color=RED, marker="o", markersize=3, label="error rate")
    ax2.yaxis.set_major_formatter(PercentFormatter(1.0))
    scale_to_data(ax2, rates)
    _ylabel(ax2, "error rate (%)")
    ax2.spines[["top"]].set_visible(False)
    ax2.tick_params(labelsize=8)
    _daily_footer(fig, ax, points, ncols=3)


def volume_chart(points: Sequence[DayPoint]) -> bytes:
    return render(partial(draw_volume, points=points))


def draw_latency(fig: Figure, points: Sequence[DayPoint], target_avg_ms: float) -> None:
    """Latency p50 / p95 / p99 and average per day, with the average's target."""
    ax = fig.add_subplot()
    _style(ax, window_title("Response time", points))
    x = list(range(len(points)))
    shown: list[float] = []

    def line(attr: str, label: str, colour: str, style: str = "-") -> None:
        ys = [_nan(getattr(p, attr)) / 1000.0 for p in points]
        shown.extend(ys)
        ax.plot(x, ys, style, color=colour, label=label, marker="o", markersize=2.5)

    line("latency_p50_ms", "p50", BLUE)
    line("latency_p95_ms", "p95 (est.)", ORANGE)
    line("latency_p99_ms", "p99", RED)
    line("latency_avg_ms", "average", GREEN, "--")
    target = target_avg_ms / 1000.0
    scale_to_data(ax, shown, target, f"target avg < {target:g} s")
    _ylabel(ax, "response time (s)")
    _daily_footer(fig, ax, points, ncols=5)


def latency_chart(points: Sequence[DayPoint], target_avg_ms: float) -> bytes:
    return render(partial(draw_latency, points=points, target_avg_ms=target_avg_ms))


def draw_cost(fig: Figure, points: Sequence[DayPoint], target_per_interaction: float) -> None:
    """Daily total (top) and cost per interaction against its target (bottom): one dollar scale per panel.

    The per-interaction target belongs to the per-interaction scale only; drawn across the daily totals it
    made cheap days look over target.
    """
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(1, 1))
    _style(top, window_title("Cost per day", points))
    x = list(range(len(points)))
    totals = [p.cost or 0.0 for p in points]
    top.bar(x, totals, color=BLUE, alpha=0.7, label="total per day")
    top.yaxis.set_major_formatter(FuncFormatter(_usd))
    scale_to_data(top, totals)
    _ylabel(top, "total (USD/day)")
    _style(bottom, "")
    per = [_nan(p.cost_per_interaction) for p in points]
    bottom.plot(x, per, color=ORANGE, marker="o", markersize=3, label="per interaction")
    bottom.yaxis.set_major_formatter(FuncFormatter(_usd))
    scale_to_data(bottom, per, target_per_interaction, f"target < {_usd(target_per_interaction)}")
    _ylabel(bottom, "per interaction (USD)")
    _daily_footer(fig, bottom, points, ncols=3)


def cost_chart(points: Sequence[DayPoint], target_per_interaction: float) -> bytes:
    return render(partial(draw_cost, points=points, target_per_interaction=target_per_interaction))


def draw_rating(fig: Figure, distribution: dict[str, int], options: Sequence[str], average: float | None) -> None:
    """How many ratings each option got, in the scale's order."""
    ax = fig.add_subplot()
    _style(ax, "Ratings" + (f" (average {average:.2f})" if average is not None else ""))
    labels = list(options) + [k for k in distribution if k not in options]
    counts = [distribution.get(o, 0) for o in labels]
    colours = [RED, ORANGE, ORANGE, BLUE, GREEN] if len(labels) == 5 else [BLUE] * len(labels)
    bars = ax.bar([_WORDS.get(x, x) for x in labels], counts, color=colours[: len(labels)])
    ax.bar_label(bars, fontsize=8)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("rating", fontsize=9)
    _ylabel(ax, "ratings (count)")
    if not sum(counts):
        _no_data(ax)


def rating_chart(distribution: dict[str, int], options: Sequence[str], average: float | None) -> bytes:
    return render(partial(draw_rating, distribution=distribution, options=options, average=average))


def draw_forecast(fig: Figure, fc: Forecast, daily_line: float | None, line_label: str) -> None:
    """Daily cost so far (bars), the projection for the next 30 days with its 95 % band, and a budget line."""
    ax = fig.add_subplot()
    n = len(fc.history)
    ahead = f" and the next {len(fc.projection)}" if fc.projection else ""
    _style(ax, f"Daily cost: the last {n} day{'s' if n != 1 else ''} with data{ahead}")
    days = [d for d, _ in fc.history] + [p.day for p in fc.projection]
    ax.bar(range(n), [c for _, c in fc.history], color=BLUE, alpha=0.75, label="cost per day")
    if fc.projection:
        x = list(range(n, len(days)))
        ax.plot(x, [p.cost for p in fc.projection], color=ORANGE, label=plain(f"forecast ({fc.method})"))
        ax.fill_between(
            x,
            [p.low for p in fc.projection],
            [p.high for p in fc.projection],
            color=ORANGE,
            alpha=0.2,
            label="95 % band (one day)",
        )
    ax.yaxis.set_major_formatter(FuncFormatter(_usd))
    shown = [c for _, c in fc.history] + [v for p in fc.projection for v in (p.cost, p.high)]
    label = f"{line_label} = {_usd(daily_line)}/day" if daily_line else ""
    scale_to_data(ax, shown, daily_line, label)
    _ylabel(ax, "cost (USD/day)")
    if days:
        _day_labels(ax, days)
    fig.legend(loc="outside lower center", fontsize=8, frameon=False, ncols=4)
    if not fc.history:
        _no_data(ax)
    elif not fc.projection:
        ax.text(0.02, 0.95, "too little history to forecast", ha="left", va="top", transform=ax.transAxes, color=GREY)


def forecast_chart(fc: Forecast, daily_line: float | None, line_label: str) -> bytes:
    return render(partial(draw_forecast, fc=fc, daily_line=daily_line, line_label=line_label))

"""A report page for a period: KPIs → charts → template → Notion blocks → one page and one Reports row.

Idempotent per (period, first day): the state store's ``published_reports`` remembers the page, and when the
store is lost the Reports data source is searched by Title and Date, so publishing again updates the same page
(same URL) instead of adding a row.

Replacing the content of an existing page costs one request: ``pages.update(erase_content=True)`` (Notion:
"Use the erase_content flag to delete all block children of the current page", developers.notion.com
/reference/patch-page) sets the new properties and empties the page together; deleting the old blocks one by one
would cost a request per block. Requests to Notion per report: find the page (0 with the state store, else 1),
the lowest-rated rows (1), for a week or a month the low-rated rows with a comment of this period and the previous
one (1 per 100 rows, at most 20), create or update (1), append what did not fit in the create (0-1 per 100 blocks),
and 2 per chart (upload create + send); ``users.me`` for the upload limit once a day. Alert notices come after the
page is written (see ``alerts``): at most one comment per report, whatever the number of transitions.

Beside the KPIs the page carries what the same aggregates support without another request: the A/B verdicts
(``experiments``), cost advice and a cost forecast from the cached daily series (``costs``), and the alerts.
"""

from __future__ import annotations

import calendar
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
import langsmith
import notion_client
from notion_client import APIResponseError
from sqlalchemy import Engine, select

from notion_feedback.config import Settings, require
from notion_feedback.errors import ConfigError, NotionFeedbackError
from notion_feedback.notion import blocks
from notion_feedback.notion.access import access_error, with_data_sources
from notion_feedback.notion.client import make_notion_client
from notion_feedback.notion.client import request_counts as notion_counts
from notion_feedback.notion.links import notion_page_url
from notion_feedback.notion.schema import FEEDBACK, REPORTS, SCALES, property_name
from notion_feedback.notion.text import plain_text, title_text
from notion_feedback.report import alerts, charts, costs, experiments, kpi, themes, uploads
from notion_feedback.smith import dashboard, projects, queues
from notion_feedback.smith.client import make_langsmith_client
from notion_feedback.smith.client import request_counts as smith_counts
from notion_feedback.state import open_state, published_reports, utcnow
from notion_feedback.timeutil import parse_iso_or_none

log = logging.getLogger(__name__)
TEMPLATE_NAME = "report.md.j2"
TREND_DAYS = 30
LOWEST_ROWS = 5
MAX_COMMENT_ROWS = 2_000  # low-rated comments read for the themes: at most 20 requests
STATUS_OK, STATUS_ALERT, STATUS_QUIET = "On target", "Needs attention", "No traffic"
Progress = Callable[[str], None]


# -- the template -------------------------------------------------------------------------------------------------


def template_source(settings: Settings) -> tuple[str, str]:
    """The template's text and the name its errors are reported under: the user's file, else the shipped one.

    The shipped template is package data of ``notion_feedback.templates`` (the top-level ``templates/`` folder,
    mapped by ``pyproject.toml``), read through ``importlib.resources``: the same call in a wheel and in an
    editable install.
    """
    if settings.report_template:
        path = Path(settings.report_template).expanduser()
        if not path.is_file():
            raise ConfigError(
                f"report template {path} does not exist",
                "point NOTION_FEEDBACK_REPORT_TEMPLATE at a Jinja2 file, or unset it to use the shipped template",
            )
        return path.read_text(encoding="utf-8"), str(path)
    shipped = resources.files("notion_feedback.templates").joinpath(TEMPLATE_NAME)
    return shipped.read_text(encoding="utf-8"), f"templates/{TEMPLATE_NAME}"


def _num(v: float | None, digits: int = 0) -> str:
    if v is None:
        return "—"
    return f"{v:,.{digits}f}" if digits or abs(v) >= 100 or float(v).is_integer() else f"{v:,.1f}"


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.{2 if 0 < abs(v) < 0.01 else 1}f} %"


def _ms(v: float | None) -> str:
    if v is None:
        return "—"
    return f"{v:,.0f} ms" if v < 10_000 else f"{v / 1000:,.1f} s"


def _usd(v: float | None) -> str:
    if v is None:
        return "—"
    return f"${v:,.2f}" if abs(v) >= 1 else f"${v:.4f}"


def _rating(v: float | None) -> str:
    return "—" if v is None else f"{v:.2f}"


def _delta(v: float | None) -> str:
    if v is None:
        return "—"
    arrow = "▲" if v > 0 else "▼" if v < 0 else "="
    return f"{arrow} {abs(v) * 100:.1f} %"


def _format(unit: str, v: float | None) -> str:
    return {"ms": _ms, "usd": _usd, "rate": _pct, "rating": _rating}.get(unit, _num)(v)


def _value(c: kpi.Check) -> str:
    return _format(c.unit, c.value)


def _target(c: kpi.Check) -> str:
    return ("> " if c.higher_is_better else "< ") + _format(c.unit, c.target)


def _status(c: kpi.Check) -> str:
    return {True: "✅", False: "⚠️", None: "—"}[c.ok]


def environment(source: str, filename: str) -> jinja2.Environment:
    """The report's Jinja2 environment, holding the one template ``source`` under ``filename``."""
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(lambda name: (source, filename, lambda: True) if name == filename else None),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # noqa: S701 - the output is our block dialect, not HTML; user text goes through `md`
    )
    env.filters.update(
        num=_num,
        pct=_pct,
        ms=_ms,
        usd=_usd,
        rating=_rating,
        delta=_delta,
        md=blocks.escape,
        value=_value,
        target=_target,
        status=_status,
    )
    return env


def load_template(settings: Settings) -> jinja2.Template:
    """The template, parsed: a missing file or a syntax error stops before any request is made."""
    source, filename = template_source(settings)
    try:
        return environment(source, filename).get_template(filename)
    except jinja2.TemplateError as exc:
        raise _template_error(filename, exc) from exc


def _template_error(filename: str, exc: jinja2.TemplateError) -> ConfigError:
    where = f" line {exc.lineno}" if getattr(exc, "lineno", None) else ""
    return ConfigError(
        f"report template {filename}{where}: {exc.message or exc}",
        "fix the template (see the variables listed in the shipped templates/report.md.j2 header)",
    )


def render_text(template: jinja2.Template, context: dict[str, Any]) -> str:
    try:
        return template.render(**context)
    except jinja2.TemplateError as exc:
        raise _template_error(template.filename or template.name or "?", exc) from exc


# -- gathering ------------------------------------------------------------------------------------------------------


@dataclass
class ReportData:
    """Everything a page is made of, before it meets Notion."""

    period: str
    start: date
    end: date
    kpis: kpi.Kpis
    previous: kpi.Kpis | None
    series: kpi.Series
    checks: list[kpi.Check]
    lowest: list[dict[str, Any]] = field(default_factory=list)
    history: list[kpi.DayPoint] = field(default_factory=list)  # every cached day fetched (month start included)
    experiment: experiments.Experiment | None = None
    advice: list[costs.Advice] = field(default_factory=list)
    forecast: costs.Forecast | None = None
    alert_plan: alerts.AlertPlan | None = None
    complaints: themes.Themes | None = None  # low-rated comments grouped into themes (week and month)
    queue: queues.QueueWeek | None = None  # the review queue over the period (week and month, when it exists)

    @property
    def breaches(self) -> list[kpi.Check]:
        return kpi.breaches(self.checks)


def _avg_from_series(k: kpi.Kpis, points: list[kpi.DayPoint]) -> None:
    """The period's mean latency = runs-weighted mean of its days' means (exact, from the daily series)."""
    days = [p for p in points if k.start <= p.day <= k.end and p.runs]
    if days and all(p.latency_avg_ms is not None for p in days) and (k.latency_avg_ms is None or k.avg_estimated):
        k.latency_avg_ms = sum(p.latency_avg_ms * p.runs for p in days) / sum(p.runs for p in days)  # type: ignore[operator]
        k.avg_estimated = False


def gather(
    smith: langsmith.Client, engine: Engine, settings: Settings, period: str, anchor: date, now: datetime
) -> ReportData:
    """The period's KPIs, the previous period's, and the trend: a constant number of LangSmith requests."""
    start, end = kpi.period_range(period, anchor)
    project = projects.project_id(smith, settings.langsmith_project)
    current = kpi.compute_kpis(smith, settings, project, period, start, end)
    p_start, p_end = kpi.previous_range(period, start)
    previous = kpi.compute_kpis(smith, settings, project, period, p_start, p_end, groups=False)
    # the month's first day too: the forecast needs month-to-date (still one request for the missing days)
    first = min(end - timedelta(days=TREND_DAYS - 1), p_start, end.replace(day=1))
    series = kpi.daily_series(smith, engine, settings, project, first, end, now=now)
    _avg_from_series(current, series.points)
    _avg_from_series(previous, series.points)
    history = list(series.points)
    series.points = [p for p in series.points if p.day > end - timedelta(days=max(TREND_DAYS, (end - start).days + 1))]
    data = ReportData(period, start, end, current, previous, series, kpi.checks(current, settings), history=history)
    analyse(settings, data)
    return data


def analyse(settings: Settings, data: ReportData) -> None:
    """A/B verdicts, cost advice and the forecast: arithmetic on what was fetched, no request."""
    scale = SCALES[settings.rating_scale]
    span, days = scale.max - scale.min, (data.end - data.start).days + 1
    data.experiment = experiments.compare_variants(data.kpis.by_variant, scale.min, scale.max)
    data.advice = costs.model_advice(data.kpis, days, span) + costs.token_advice(
        data.kpis, settings.target_tokens_per_interaction, days
    )
    data.forecast = costs.forecast_cost([(p.day, p.cost) for p in data.history], data.end, settings.monthly_budget_usd)


def _rated_filter(settings: Settings, start: date, end: date, *more: dict[str, Any]) -> dict[str, Any]:
    """Rows of the Feedback data source rated and run in [start, end] (local days), with ``more`` conditions."""
    pm = settings.property_map
    rating, run_start = property_name(FEEDBACK.rating, pm), property_name(FEEDBACK.run_start, pm)
    lo, hi = kpi.window(start, end, settings.timezone)
    return {
        "and": [
            {"property": rating, "select": {"is_not_empty": True}},
            {"property": run_start, "date": {"on_or_after": lo.isoformat()}},
            {"property": run_start, "date": {"before": hi.isoformat()}},
            *more,
        ]
    }


def _text_of(props: dict[str, Any], name: str) -> str:
    value = props.get(name) or {}
    return plain_text(value.get("rich_text") or value.get("title"))


def _row(settings: Settings, page: dict[str, Any]) -> dict[str, Any]:
    """A Feedback row as the page shows it: question, rating, comment, run id and links."""
    pm = settings.property_map
    props = page.get("properties", {})
    trace = props.get(property_name(FEEDBACK.trace, pm)) or {}
    chosen = (props.get(property_name(FEEDBACK.rating, pm)) or {}).get("select") or {}
    return {
        "title": _text_of(props, property_name(FEEDBACK.question, pm))[:200] or "(no question)",
        "rating": chosen.get("name", "?"),
        "url": page.get("url") or notion_page_url(page["id"]),
        "trace": trace.get("url"),
        "comment": _text_of(props, property_name(FEEDBACK.comment, pm)),
        "run_id": _text_of(props, property_name(FEEDBACK.run_id, pm)).strip() or None,
        "run_start": ((props.get(property_name(FEEDBACK.run_start, pm)) or {}).get("date") or {}).get("start"),
    }


def lowest_rated(notion: notion_client.Client, settings: Settings, start: date, end: date) -> list[dict[str, Any]]:
    """The period's lowest-rated rows of the Feedback data source: one query, five rows."""
    if not settings.feedback_data_source_id:
        return []
    rating = property_name(FEEDBACK.rating, settings.property_map)
    scale = SCALES[settings.rating_scale]
    # Notion sorts a select by the order of its options; the scale lists them low→high, except thumbs (👍 first).
    direction = "ascending" if scale.options[0][1] <= scale.options[-1][1] else "descending"
    result: dict[str, Any] = notion.data_sources.query(  # type: ignore[assignment]
        settings.feedback_data_source_id,
        filter=_rated_filter(settings, start, end),
        sorts=[{"property": rating, "direction": direction}],
        page_size=LOWEST_ROWS,
    )
    return [_row(settings, page) for page in result.get("results", [])[:LOWEST_ROWS]]


def low_rated_comments(
    notion: notion_client.Client, settings: Settings, start: date, end: date
) -> list[dict[str, Any]]:
    """Low-rated rows with a comment, run in [start, end], newest first: one request per 100 rows.

    Notion filters on the server (a low option, a non-empty comment, the dates), so rows rated well or without
    a comment are never sent; at most ``MAX_COMMENT_ROWS`` rows are read.
    """
    if not settings.feedback_data_source_id:
        return []
    pm = settings.property_map
    rating, run_start = property_name(FEEDBACK.rating, pm), property_name(FEEDBACK.run_start, pm)
    low = [
        {"property": rating, "select": {"equals": o}}
        for o in themes.low_options(SCALES[settings.rating_scale], settings.learn_low_rating)
    ]
    comment = {"property": property_name(FEEDBACK.comment, pm), "rich_text": {"is_not_empty": True}}
    query = {
        "filter": _rated_filter(settings, start, end, {"or": low}, comment),
        "sorts": [{"property": run_start, "direction": "descending"}],
        "page_size": 100,
    }
    rows: list[dict[str, Any]] = []
    while len(rows) < MAX_COMMENT_ROWS:
        result: dict[str, Any] = notion.data_sources.query(settings.feedback_data_source_id, **query)  # type: ignore[assignment]
        rows += [_row(settings, page) for page in result.get("results", [])]
        if not result.get("has_more") or not result.get("next_cursor"):
            break
        query["start_cursor"] = result["next_cursor"]
    return rows[:MAX_COMMENT_ROWS]


def complaint_themes(
    notion: notion_client.Client, settings: Settings, data: ReportData, queue: set[str] | None
) -> themes.Themes | None:
    """The "What users complain about" section: this period's low-rated comments against the previous period's.

    One paginated query covers both periods; the day report has no such section (too few comments to group).
    """
    if data.period == "day":
        return None
    p_start, _ = kpi.previous_range(data.period, data.start)
    rows = low_rated_comments(notion, settings, p_start, data.end)
    lo = kpi.window(data.start, data.end, settings.timezone)[0]

    def this_period(row: dict[str, Any]) -> bool:
        when = parse_iso_or_none(row.get("run_start"))  # the recorder writes the run's start with its offset
        return when is not None and when >= lo

    def comment(row: dict[str, Any]) -> themes.Comment:
        return themes.Comment(row["comment"], row["url"], row["run_id"])

    current = [comment(r) for r in rows if this_period(r)]
    previous = [comment(r) for r in rows if not this_period(r)]
    return themes.summarise(current, previous, queue)


def review_queue_runs(smith: langsmith.Client, settings: Settings, data: ReportData) -> set[str] | None:
    """The runs in the review queue (None when there is none), and ``data.queue``: what entered it and what was
    reviewed in the period. Week and month only: one request per 100 queue items."""
    if data.period == "day" or not settings.learn:
        return None
    try:
        queue_id = queues.find_queue(smith, settings.review_queue_name)
        if queue_id is None:
            return None
        items = queues.queue_items(smith, queue_id)
    except NotionFeedbackError as exc:  # the page goes out without the queue's line, and the log says why
        log.warning("review queue unavailable: %s", exc)
        return None
    lo, hi = kpi.window(data.start, data.end, settings.timezone)
    data.queue = queues.queue_week(items, lo, hi)
    return set(items)


def dashboard_url(smith: langsmith.Client, settings: Settings) -> str | None:
    """The observation dashboard's page for the report's link (None when unknown): one request, never a write."""
    try:
        found = dashboard.find_dashboard(smith, settings)
    except Exception as exc:  # noqa: BLE001 - the page goes out without the link, and the log says why
        log.warning("dashboard unavailable: %s", exc)
        return None
    return found.url if found else None


def read_rows(
    notion: notion_client.Client, settings: Settings, data: ReportData, queue: set[str] | None, step: Progress
) -> None:
    """The rows the page quotes; a Feedback data source Notion refuses leaves those sections out, not the page."""
    step("lowest-rated interactions")
    try:
        data.lowest = lowest_rated(notion, settings, data.start, data.end)
        if data.period != "day":
            step("what users complain about")
        data.complaints = complaint_themes(notion, settings, data, queue)
    except APIResponseError as exc:
        log.warning("rows of the Feedback data source unavailable: %s", exc.code)


# -- the page -----------------------------------------------------------------------------------------------------


def report_title(period: str, start: date) -> str:
    if period == "day":
        return f"Daily report · {start.isoformat()}"
    if period == "week":
        year, week, _ = start.isocalendar()
        return f"Weekly report · {year}-W{week:02d}"
    return f"Monthly report · {start:%Y-%m}"


def period_label(period: str, start: date, end: date) -> str:
    if period == "day":
        return f"{start:%A %d %B %Y}"
    if period == "week":
        return f"Week {start.isocalendar()[1]}, {start:%d %b} – {end:%d %b %Y}"
    return f"{start:%B %Y}"


def _round(v: float | None, digits: int) -> float | None:
    return None if v is None else round(v, digits)


def row_properties(settings: Settings, data: ReportData) -> dict[str, Any]:
    """The Reports row: title, date, period and the headline KPIs as numbers (Notion charts them for free)."""
    k, pm = data.kpis, settings.property_map
    n = len(data.breaches)
    status = STATUS_QUIET if not k.runs else STATUS_ALERT if n else STATUS_OK
    numbers = {
        REPORTS.runs: k.runs,
        REPORTS.error_rate: _round(k.error_rate, 4),
        REPORTS.p95_latency_ms: _round(k.latency_p95_ms, 0),
        REPORTS.tokens_per_interaction: _round(k.tokens_per_interaction, 1),
        REPORTS.cost_usd: _round(k.cost_total, 4),
        REPORTS.cost_per_interaction_usd: _round(k.cost_per_interaction, 6),
        REPORTS.avg_rating: _round(k.rating_avg, 3),
        REPORTS.rating_count: k.rating_count,
        REPORTS.alerts: n,
    }
    props: dict[str, Any] = {
        property_name(REPORTS.title, pm): {"title": title_text(report_title(data.period, data.start))},
        property_name(REPORTS.date, pm): {
            "date": {"start": data.start.isoformat(), "end": data.end.isoformat() if data.end != data.start else None}
        },
        property_name(REPORTS.period, pm): {"select": {"name": data.period}},
        property_name(REPORTS.status, pm): {"select": {"name": status}},
    }
    props |= {property_name(p, pm): {"number": v} for p, v in numbers.items()}
    return props


def render_charts(settings: Settings, data: ReportData) -> dict[str, bytes]:
    pts = data.series.points
    volume, latency, cost, ratings, forecast = charts.CHART_NAMES
    scale = SCALES[settings.rating_scale]
    pngs: dict[str, bytes] = {
        volume: charts.volume_chart(pts),
        latency: charts.latency_chart(pts, settings.target_latency_avg_ms),
        cost: charts.cost_chart(pts, settings.target_cost_per_interaction_usd),
        ratings: charts.rating_chart(
            data.kpis.rating_distribution, [o for o, _, _ in scale.options], data.kpis.rating_avg
        ),
    }
    if data.forecast is not None:
        pngs[forecast] = charts.forecast_chart(data.forecast, *daily_cost_line(settings, data))
    return pngs


def daily_cost_line(settings: Settings, data: ReportData) -> tuple[float | None, str]:
    """The forecast chart's reference: the monthly budget spread over the month, else the cost target × traffic."""
    if settings.monthly_budget_usd:
        per_day = settings.monthly_budget_usd / calendar.monthrange(data.end.year, data.end.month)[1]
        return per_day, f"budget ${settings.monthly_budget_usd:,.0f}/month"
    fitted = {d for d, _ in data.forecast.history} if data.forecast else set()
    runs = [p.runs for p in data.history if p.day in fitted]
    if not runs:
        return None, ""
    target = settings.target_cost_per_interaction_usd
    return target * sum(runs) / len(runs), f"target ${target:g}/interaction × traffic"


def context(
    settings: Settings, data: ReportData, chart_names: list[str], now: datetime, dashboard_url: str | None = None
) -> dict[str, Any]:
    tz = ZoneInfo(settings.timezone)
    return {
        "title": report_title(data.period, data.start),
        "period": data.period,
        "period_label": period_label(data.period, data.start, data.end),
        "start": data.start,
        "end": data.end,
        "project": settings.langsmith_project,
        "timezone": settings.timezone,
        "generated_at": now.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        "k": data.kpis,
        "prev": data.previous,
        "change": kpi.changes(data.kpis, data.previous),
        "checks": data.checks,
        "breaches": data.breaches,
        "charts": chart_names,
        "lowest": data.lowest,
        "complaints": data.complaints,
        "queue": data.queue,
        "scale": [o for o, _, _ in SCALES[settings.rating_scale].options],
        "low_ratings": themes.low_options(SCALES[settings.rating_scale], settings.learn_low_rating),
        "trend_days": len(data.series.points),
        "experiment": data.experiment,
        "advice": data.advice,
        "forecast": data.forecast,
        "alerts": alerts.lines(data.alert_plan, _format) if data.alert_plan else [],
        "dashboard_url": dashboard_url,
    }


def build_blocks(text: str, uploaded: dict[str, str]) -> list[blocks.Block]:
    """The rendered template as blocks within Notion's limits, charts pointing at their uploads."""

    def image(src: str, caption: str) -> blocks.Block | None:
        scheme, _, name = src.partition(":")
        return blocks.image_upload(uploaded[name], caption) if scheme == "chart" and name in uploaded else None

    return blocks.fit(blocks.render(text, image))


def find_page(notion: notion_client.Client, engine: Engine, settings: Settings, period: str, start: date) -> str | None:
    """The page already published for (period, start): the state store first, else the Reports data source."""
    with engine.connect() as conn:
        row = conn.execute(
            select(published_reports.c.page_id).where(
                published_reports.c.period == period, published_reports.c.period_start == start.isoformat()
            )
        ).first()
    if row:
        return str(row[0])
    pm = settings.property_map
    result: dict[str, Any] = notion.data_sources.query(  # type: ignore[assignment]
        settings.reports_data_source_id,
        filter={
            "and": [
                {"property": property_name(REPORTS.title, pm), "title": {"equals": report_title(period, start)}},
                {"property": property_name(REPORTS.date, pm), "date": {"equals": start.isoformat()}},
            ]
        },
        page_size=1,
    )
    found = result.get("results") or []
    return str(found[0]["id"]) if found else None


def remember(engine: Engine, period: str, start: date, page_id: str) -> None:
    key = (published_reports.c.period == period) & (published_reports.c.period_start == start.isoformat())
    with engine.begin() as conn:
        conn.execute(published_reports.delete().where(key))
        conn.execute(
            published_reports.insert().values(
                period=period, period_start=start.isoformat(), page_id=page_id, published_at=utcnow()
            )
        )


def _gone(exc: APIResponseError) -> bool:
    """The remembered page was deleted or trashed in Notion: publish a new one."""
    return exc.status == 404 or (exc.status == 400 and ("archived" in str(exc) or "trash" in str(exc)))


def write_page(
    notion: notion_client.Client, engine: Engine, settings: Settings, data: ReportData, content: list[blocks.Block]
) -> tuple[str, str, bool]:
    """Create the page (properties + first batch of blocks) or empty and refill the existing one.

    Returns (page id, url, created). The state store learns the page id before the remaining appends, so a crash
    mid-way leaves a page that the next run finds and refills.
    """
    props = row_properties(settings, data)
    page_id = find_page(notion, engine, settings, data.period, data.start)
    page: dict[str, Any] | None = None
    rest = content
    if page_id:
        try:
            page = notion.pages.update(page_id, properties=props, erase_content=True)  # type: ignore[assignment]
        except APIResponseError as exc:
            if not _gone(exc):
                raise
            log.info("report page %s is gone from Notion; publishing a new one", page_id)
            page = None
    created = page is None
    if page is None:
        groups = list(blocks.batches(content))
        first = groups[0] if groups else []
        page = notion.pages.create(  # type: ignore[assignment]
            parent={"type": "data_source_id", "data_source_id": settings.reports_data_source_id},
            properties=props,
            children=first,
        )
        rest = [b for g in groups[1:] for b in g]
    assert page is not None
    remember(engine, data.period, data.start, page["id"])
    for group in blocks.batches(rest):
        notion.blocks.children.append(page["id"], children=group)
    return page["id"], page.get("url", ""), created


def upload_charts(notion: notion_client.Client, engine: Engine, start: date, pngs: dict[str, bytes]) -> dict[str, str]:
    """Each chart uploaded to Notion: chart name → file upload id (the upload limit is asked once a day)."""
    limit = uploads.upload_limit(notion, engine)
    return {name: uploads.upload_png(notion, f"{name}-{start}.png", png, limit) for name, png in pngs.items()}


def _write_or_explain(
    notion: notion_client.Client, engine: Engine, settings: Settings, data: ReportData, content: list[blocks.Block]
) -> tuple[str, str, bool]:
    """``write_page``, with a Reports database the integration cannot reach told as what to share."""
    try:
        return write_page(notion, engine, settings, data, content)
    except APIResponseError as exc:
        problem = access_error(
            exc,
            "write the report page",
            "the Reports database",
            "share the Reports database with the integration, or run `notion-feedback init` again",
        )
        if problem is None:
            raise
        raise problem from exc


# -- the whole thing ----------------------------------------------------------------------------------------------


@dataclass
class ReportResult:
    """What a published report cost and where it is."""

    period: str
    start: date
    end: date
    page_id: str
    url: str
    created: bool
    alerts: int
    runs: int
    blocks: int
    charts: int
    notion_requests: int
    langsmith_requests: int
    alert_transitions: int = 0  # alerts that fired or resolved with this report (notified once)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able, for the job log and `notion-feedback status`."""
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        return out | {"start": self.start.isoformat(), "end": self.end.isoformat()}

    def summary(self) -> str:
        verb = "published" if self.created else "updated"
        return (
            f"{report_title(self.period, self.start)} {verb}: {self.runs} interactions, {self.alerts} alert(s); "
            f"{self.notion_requests} Notion + {self.langsmith_requests} LangSmith requests"
        )


def publish_report(
    settings: Settings,
    period: str = "day",
    anchor: date | None = None,
    *,
    notion: notion_client.Client | None = None,
    smith: langsmith.Client | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
    notify: bool = True,
    review_queue: set[str] | None = None,
) -> ReportResult:
    """Publish (or refresh) the report of the ``period`` containing ``anchor`` (default: the last complete one).

    Alerts move only with the latest complete period (an older or backfilled report shows its breaches but
    notifies nothing); ``notify=False`` leaves the alert state untouched (benchmarks, previews).
    ``review_queue``: the run ids in the review queue, for the share of low-rated comments in it (None: unknown).
    """
    require(settings, "reports_data_source_id")
    if period not in kpi.PERIODS:
        raise ConfigError(f"unknown period {period!r}", f"use one of: {', '.join(kpi.PERIODS)}")
    template = load_template(settings)
    now = now or datetime.now(UTC)
    step = progress or (lambda _msg: None)
    latest = kpi.last_complete(period, now.astimezone(ZoneInfo(settings.timezone)).date())
    anchor = anchor or latest
    notion = notion or make_notion_client(settings)
    smith = smith or make_langsmith_client(settings)
    engine = open_state(settings.resolved_state_url)
    n0, s0 = sum(notion_counts(notion).values()), sum(smith_counts(smith).values())
    step("checking Notion")  # before minutes of LangSmith work: a wrong token or id is one request and one line
    settings = with_data_sources(notion, settings, "reports_data_source_id", "feedback_data_source_id")

    step("KPIs from LangSmith")
    data = gather(smith, engine, settings, period, anchor, now)
    is_latest = data.start == kpi.period_range(period, latest)[0]
    data.alert_plan = alerts.plan(engine, data.checks, period, data.start, moves_state=notify and is_latest)
    if review_queue is None:
        review_queue = review_queue_runs(smith, settings, data)
    read_rows(notion, settings, data, review_queue, step)
    step("charts")
    pngs = render_charts(settings, data)
    step("uploading charts")
    uploaded = upload_charts(notion, engine, data.start, pngs)
    step("rendering the page")
    link = dashboard_url(smith, settings)
    text = render_text(template, context(settings, data, list(uploaded), now, link))
    content = build_blocks(text, uploaded)
    step("writing to Notion")
    page_id, url, created = _write_or_explain(notion, engine, settings, data, content)
    delivery = alerts.Delivery()
    if data.alert_plan.moves_state:
        step("alerts")
        title = report_title(period, data.start)
        delivery = alerts.deliver(
            settings, data.alert_plan, notion, page_id, title=title, url=url, fmt=_format, now=now, engine=engine
        )
    return ReportResult(
        period=period,
        start=data.start,
        end=data.end,
        page_id=page_id,
        url=url,
        created=created,
        alerts=len(data.breaches),
        runs=data.kpis.runs,
        blocks=sum(blocks.elements(b) for b in content),
        charts=len(uploaded),
        notion_requests=sum(notion_counts(notion).values()) - n0,
        langsmith_requests=sum(smith_counts(smith).values()) - s0,
        alert_transitions=delivery.transitions,
    )

"""Feedback rows as the sync engine needs them: only the properties it reads, in edit order, past the 10k cap.

Notion rounds ``last_edited_time`` down to the minute, so the read is ``on_or_after`` a bound the caller moved back
by a lookback, and the caller de-duplicates by content. A single query stops at 10,000 results
(``request_status.type == "incomplete"``); the reader then starts a new query from the last timestamp it saw.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from notion_feedback.errors import QueryCapError, SchemaDriftError
from notion_feedback.notion.drift import verify_schema
from notion_feedback.notion.schema import FEEDBACK, Prop, property_name
from notion_feedback.notion.text import plain_text
from notion_feedback.timeutil import parse_iso

if TYPE_CHECKING:  # settings are only read here: importing rows stays free of the settings' dependencies
    from notion_feedback.config import Settings

PAGE_SIZE = 100
QUERY_RESULT_CAP = 10_000
# (property key, accepted Notion types, required). Missing optional properties are read as empty.
_READ: tuple[tuple[Prop, tuple[str, ...], bool], ...] = (
    (FEEDBACK.rating, ("select",), True),
    (FEEDBACK.run_id, ("rich_text", "title", "url"), True),
    (FEEDBACK.sync_status, ("select",), True),
    (FEEDBACK.sync_error, ("rich_text",), True),
    (FEEDBACK.comment, ("rich_text", "title"), False),
    (FEEDBACK.project_id, ("rich_text", "title", "url"), False),
    (FEEDBACK.run_start, ("date",), False),
)


@dataclass(frozen=True)
class Column:
    name: str  # the name in this workspace (after the user's property map)
    id: str  # Notion's property id, unquoted (filter_properties would double-encode a quoted id)
    type: str


@dataclass(frozen=True)
class FeedbackColumns:
    """Where each property the sync reads lives in this workspace's Feedback data source."""

    rating: Column
    run_id: Column
    sync_status: Column
    sync_error: Column
    comment: Column | None
    project_id: Column | None
    run_start: Column | None

    def filter_properties(self) -> list[str]:
        cols = (
            self.rating,
            self.run_id,
            self.sync_status,
            self.sync_error,
            self.comment,
            self.project_id,
            self.run_start,
        )
        return [c.id for c in cols if c is not None]


@dataclass(frozen=True)
class RatedRow:
    """One Feedback row, reduced to what decides its feedback in LangSmith and what it shows about the sync."""

    page_id: str
    url: str
    last_edited_time: str
    rating: str | None
    comment: str | None
    run_id: str | None
    project_id: str | None
    run_start: str | None
    sync_status: str | None
    sync_error: str | None
    rater: str | None  # last_edited_by: who touched the row last (the person rating, unless it was us)


def resolve_columns(data_source: dict[str, Any], settings: Settings) -> FeedbackColumns:
    """Find each property the sync needs; a missing or retyped required one stops the pass before any write."""
    props: dict[str, Any] = data_source.get("properties") or {}
    found: dict[str, Column | None] = {}
    for prop, types, required in _READ:
        name = property_name(prop, settings.property_map)
        spec = props.get(name)
        key = next(k for k, v in FEEDBACK.all().items() if v == prop)
        if spec is None or spec.get("type") not in types:
            if not required:
                found[key] = None
                continue
            # The explanation (renamed to what, retyped to what, and the setting that fixes it) lives in drift.py.
            drift = next((d for d in verify_schema(props, FEEDBACK.all(), settings.property_map) if d.key == key), None)
            what = drift.message if drift else f"{name} is not usable"
            fix = drift.fix if drift else f"restore {name!r} as a {types[0]} property in Notion"
            raise SchemaDriftError(
                f"the Feedback data source has changed: {what}; the sync needs it and wrote nothing",
                f"{fix} (`notion-feedback doctor` lists every difference)",
            )
        found[key] = Column(name=name, id=unquote(spec.get("id") or name), type=spec["type"])
    return FeedbackColumns(**found)  # type: ignore[arg-type]


def _text(props: dict[str, Any], col: Column | None) -> str | None:
    if col is None:
        return None
    value = props.get(col.name) or {}
    text = (value.get("url") or "") if col.type == "url" else plain_text(value.get(col.type))
    return text.strip() or None


def _select(props: dict[str, Any], col: Column) -> str | None:
    chosen = (props.get(col.name) or {}).get("select")
    return (chosen.get("name") or None) if chosen else None


def parse_row(page: dict[str, Any], cols: FeedbackColumns) -> RatedRow:
    props = page.get("properties") or {}
    start = None
    if cols.run_start is not None:
        start = ((props.get(cols.run_start.name) or {}).get("date") or {}).get("start")
    return RatedRow(
        page_id=page["id"],
        url=page.get("url") or "",
        last_edited_time=page.get("last_edited_time") or "",
        rating=_select(props, cols.rating),
        comment=_text(props, cols.comment),
        run_id=_text(props, cols.run_id),
        project_id=_text(props, cols.project_id),
        run_start=start,
        sync_status=_select(props, cols.sync_status),
        sync_error=_text(props, cols.sync_error),
        rater=(page.get("last_edited_by") or {}).get("id"),
    )


def notion_time(moment: datetime) -> str:
    """A datetime as Notion writes timestamps (UTC, milliseconds, Z)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _edited(op: str, value: str) -> dict[str, Any]:
    return {"timestamp": "last_edited_time", "last_edited_time": {op: value}}


def _run_query(
    query: Callable[..., dict[str, Any]], cols: FeedbackColumns, body: dict[str, Any]
) -> Iterator[tuple[list[RatedRow], dict[str, Any]]]:
    """One query followed through its pages; yields each page's rows with the raw response."""
    cursor: str | None = None
    while True:
        response = query(**body, **({"start_cursor": cursor} if cursor else {}))
        pages = [p for p in response.get("results", []) if p.get("object") == "page"]
        yield [parse_row(p, cols) for p in pages], response
        cursor = response.get("next_cursor")
        if not (response.get("has_more") and cursor):
            return


def _capped(response: dict[str, Any]) -> bool:
    return (response.get("request_status") or {}).get("type") == "incomplete"


def iter_row_pages(
    query: Callable[..., dict[str, Any]],
    data_source_id: str,
    cols: FeedbackColumns,
    since: str | None,
) -> Iterator[list[RatedRow]]:
    """Pages of rows edited on or after ``since`` (all rows when None), oldest edit first.

    ``query`` is ``data_sources.query`` wrapped by the caller's retry policy. Past the 10,000-result cap a new query
    starts at the last ``last_edited_time`` seen (on_or_after, so the boundary minute is read again; the caller
    de-duplicates). When a whole capped query sat in one minute, that minute is read again split by creation time.
    """
    base = {
        "data_source_id": data_source_id,
        "page_size": PAGE_SIZE,
        "filter_properties": cols.filter_properties(),
    }
    bound, bound_op = since, "on_or_after"
    while True:
        body = base | {"sorts": [{"timestamp": "last_edited_time", "direction": "ascending"}]}
        if bound is not None:
            body["filter"] = _edited(bound_op, bound)
        last_seen, capped = None, False
        for rows, response in _run_query(query, cols, body):
            capped = _capped(response)
            if rows:
                last_seen = rows[-1].last_edited_time
                yield rows
        if not capped or last_seen is None:
            return
        if bound is not None and bound_op == "on_or_after" and parse_iso(last_seen) <= parse_iso(bound):
            yield from _one_minute_by_creation(query, cols, base, last_seen)
            bound, bound_op = last_seen, "after"
        else:
            bound, bound_op = last_seen, "on_or_after"


def _one_minute_by_creation(
    query: Callable[..., dict[str, Any]], cols: FeedbackColumns, base: dict[str, Any], minute: str
) -> Iterator[list[RatedRow]]:
    """Every row last edited in ``minute``, in creation order, in windows under the cap."""
    created: str | None = None
    while True:
        parts = [_edited("on_or_after", minute), _edited("on_or_before", minute)]
        if created is not None:
            parts.append({"timestamp": "created_time", "created_time": {"on_or_after": created}})
        body = base | {"sorts": [{"timestamp": "created_time", "direction": "ascending"}], "filter": {"and": parts}}
        last_created, capped = None, False
        for rows, response in _run_query(query, cols, body):
            capped = _capped(response)
            if rows:
                yield rows
            if response.get("results"):
                last_created = response["results"][-1].get("created_time") or last_created
        if not capped or last_created is None:
            return
        if created is not None and parse_iso(last_created) <= parse_iso(created):
            raise QueryCapError(
                f"more than {QUERY_RESULT_CAP:,} Feedback rows were both created and last edited in the minute "
                f"{minute}: one Notion query cannot return them all",
                "edit a few of those rows again (or wait for new edits) so they spread over more minutes, then rerun",
            )
        created = last_created

"""The data-source query engine: Notion's filter and sort language, compiled to Python predicates.

Filters are validated up front (unknown property, wrong condition, compound nesting deeper than two levels)
so a bad query fails with 400 before any row is read, as Notion does. Timestamps are compared after rounding
down to the minute, because that is the only precision Notion itself keeps for pages.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from notion_feedback.sandbox.notion.common import floor_minute, parse_iso, plain_text
from notion_feedback.sandbox.notion.exceptions import body_error, validation

Row = dict[str, Any]
Predicate = Callable[[Row], bool]

TEXT_TYPES = ("title", "rich_text", "url", "email", "phone_number")
_TEXT_OPS = (
    "equals",
    "does_not_equal",
    "contains",
    "does_not_contain",
    "starts_with",
    "ends_with",
    "is_empty",
    "is_not_empty",
)
_NUMBER_OPS = (
    "equals",
    "does_not_equal",
    "greater_than",
    "less_than",
    "greater_than_or_equal_to",
    "less_than_or_equal_to",
    "is_empty",
    "is_not_empty",
)
_DATE_OPS = (
    "equals",
    "before",
    "after",
    "on_or_before",
    "on_or_after",
    "is_empty",
    "is_not_empty",
    "past_week",
    "past_month",
    "past_year",
    "next_week",
    "next_month",
    "next_year",
    "this_week",
)
_OPS = {
    **dict.fromkeys(TEXT_TYPES, _TEXT_OPS),
    "number": _NUMBER_OPS,
    "unique_id": _NUMBER_OPS,
    "checkbox": ("equals", "does_not_equal"),
    "select": ("equals", "does_not_equal", "is_empty", "is_not_empty"),
    "status": ("equals", "does_not_equal", "is_empty", "is_not_empty"),
    "multi_select": ("contains", "does_not_contain", "is_empty", "is_not_empty"),
    "date": _DATE_OPS,
    "created_time": _DATE_OPS,
    "last_edited_time": _DATE_OPS,
    "people": ("contains", "does_not_contain", "is_empty", "is_not_empty"),
    "created_by": ("contains", "does_not_contain", "is_empty", "is_not_empty"),
    "last_edited_by": ("contains", "does_not_contain", "is_empty", "is_not_empty"),
    "relation": ("contains", "does_not_contain", "is_empty", "is_not_empty"),
    "files": ("is_empty", "is_not_empty"),
}
# A filter may name a compatible type: rich_text conditions work on title/url/email/phone properties.
_ALIASES = {"rich_text": TEXT_TYPES, "text": TEXT_TYPES, "people": ("people", "created_by", "last_edited_by")}


def find_prop(schema: dict[str, dict[str, Any]], key: Any) -> dict[str, Any] | None:
    """By id (as stored, or URL-decoded) or by name."""
    if not isinstance(key, str):
        return None
    if key in schema:
        return schema[key]
    from urllib.parse import unquote

    for prop in schema.values():
        if prop["name"] == key or unquote(prop["id"]) == key:
            return prop
    return None


def _value(prop: dict[str, Any], row: Row) -> Any:
    """The comparable value of a property: plain text, number, datetime, ids..."""
    ptype = prop["type"]
    if ptype == "created_time":
        return floor_minute(parse_iso(row["created"]))
    if ptype == "last_edited_time":
        return floor_minute(parse_iso(row["edited"]))
    if ptype == "created_by":
        return [row["created_by"]]
    if ptype == "last_edited_by":
        return [row["edited_by"]]
    stored = row["props"].get(prop["id"])
    if ptype in ("title", "rich_text"):
        return plain_text(stored)
    if ptype in ("select", "status"):
        return stored["name"] if stored else None
    if ptype == "multi_select":
        return [o["name"] for o in stored or []]
    if ptype == "relation":
        return [r["id"] for r in stored or []]
    if ptype == "date":
        return _instant(stored["start"]) if stored else None
    if ptype == "checkbox":
        return bool(stored)
    return stored


def _instant(raw: str) -> datetime:
    dt = parse_iso(raw) if "T" in raw else datetime.combine(date.fromisoformat(raw[:10]), datetime.min.time())
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _date_cond(op: str, arg: Any, path: str, now: datetime) -> Callable[[Any], bool]:
    if op in ("is_empty", "is_not_empty"):
        want = op == "is_empty"
        return lambda v: (v is None) == want
    relative = {
        "past_week": (now - timedelta(days=7), now),
        "past_month": (now - timedelta(days=30), now),
        "past_year": (now - timedelta(days=365), now),
        "next_week": (now, now + timedelta(days=7)),
        "next_month": (now, now + timedelta(days=30)),
        "next_year": (now, now + timedelta(days=365)),
    }
    if op in relative:
        lo, hi = relative[op]
        return lambda v: v is not None and lo <= v <= hi
    if op == "this_week":
        start = datetime.combine(now.date() - timedelta(days=now.weekday()), datetime.min.time(), UTC)
        return lambda v: v is not None and start <= v < start + timedelta(days=7)
    if not isinstance(arg, str):
        raise body_error(f"{path}.{op}", "should be a valid ISO 8601 date string", arg)
    try:
        bound = _instant(arg)
    except ValueError:
        raise body_error(f"{path}.{op}", "should be a valid ISO 8601 date string", arg) from None
    if "T" not in arg:  # a date: whole-day semantics
        day = bound.date()
        compare: dict[str, Callable[[Any], bool]] = {
            "equals": lambda v: v.astimezone(UTC).date() == day,
            "before": lambda v: v.astimezone(UTC).date() < day,
            "after": lambda v: v.astimezone(UTC).date() > day,
            "on_or_before": lambda v: v.astimezone(UTC).date() <= day,
            "on_or_after": lambda v: v.astimezone(UTC).date() >= day,
        }
    else:
        compare = {
            "equals": lambda v: v == bound,
            "before": lambda v: v < bound,
            "after": lambda v: v > bound,
            "on_or_before": lambda v: v <= bound,
            "on_or_after": lambda v: v >= bound,
        }
    fn = compare[op]
    return lambda v: v is not None and fn(v)


def _cond(ptype: str, op: str, arg: Any, path: str, now: datetime) -> Callable[[Any], bool]:
    if ptype in ("date", "created_time", "last_edited_time"):
        return _date_cond(op, arg, path, now)
    if op in ("is_empty", "is_not_empty"):
        if arg is not True:
            raise body_error(f"{path}.{op}", "should be `true`", arg)
        want = op == "is_empty"
        return lambda v: (v in (None, "", [])) == want
    if ptype in TEXT_TYPES:
        if not isinstance(arg, str):
            raise body_error(f"{path}.{op}", "should be a string", arg)
        low = arg.lower()
        return {
            "equals": lambda v: (v or "") == arg,
            "does_not_equal": lambda v: (v or "") != arg,
            "contains": lambda v: low in (v or "").lower(),
            "does_not_contain": lambda v: low not in (v or "").lower(),
            "starts_with": lambda v: (v or "").lower().startswith(low),
            "ends_with": lambda v: (v or "").lower().endswith(low),
        }[op]
    if ptype in ("number", "unique_id"):
        if isinstance(arg, bool) or not isinstance(arg, int | float):
            raise body_error(f"{path}.{op}", "should be a number", arg)
        return {
            "equals": lambda v: v is not None and v == arg,
            "does_not_equal": lambda v: v is None or v != arg,
            "greater_than": lambda v: v is not None and v > arg,
            "less_than": lambda v: v is not None and v < arg,
            "greater_than_or_equal_to": lambda v: v is not None and v >= arg,
            "less_than_or_equal_to": lambda v: v is not None and v <= arg,
        }[op]
    if ptype == "checkbox":
        if not isinstance(arg, bool):
            raise body_error(f"{path}.{op}", "should be a boolean", arg)
        return (lambda v: v == arg) if op == "equals" else (lambda v: v != arg)
    if ptype in ("select", "status"):
        if not isinstance(arg, str):
            raise body_error(f"{path}.{op}", "should be a string", arg)
        return (lambda v: v == arg) if op == "equals" else (lambda v: v != arg)
    if ptype == "multi_select":
        return (lambda v: arg in v) if op == "contains" else (lambda v: arg not in v)
    if ptype in ("people", "created_by", "last_edited_by", "relation"):
        from notion_feedback.sandbox.notion.common import as_uuid

        want = as_uuid(arg) or arg
        return (lambda v: want in v) if op == "contains" else (lambda v: want not in v)
    raise validation(f"Filtering on {ptype} properties is not supported by the sandbox.")


def compile_filter(
    flt: Any, schema: dict[str, dict[str, Any]], now: datetime, path: str = "body.filter", depth: int = 0
) -> Predicate:
    """Validate and compile a filter object; ``depth`` counts compound levels (Notion allows two)."""
    if not isinstance(flt, dict):
        raise body_error(path, "should be an object", flt)
    for compound in ("and", "or"):
        if compound in flt:
            if depth >= 2:
                raise body_error(path, "should not nest compound filters more than two levels deep", flt)
            parts = flt[compound]
            if not isinstance(parts, list):
                raise body_error(f"{path}.{compound}", "should be an array", parts)
            subs = [compile_filter(p, schema, now, f"{path}.{compound}[{i}]", depth + 1) for i, p in enumerate(parts)]
            if compound == "and":
                return lambda row: all(s(row) for s in subs)
            return lambda row: any(s(row) for s in subs)
    if "timestamp" in flt:
        ts = flt["timestamp"]
        if ts not in ("created_time", "last_edited_time"):
            raise body_error(f"{path}.timestamp", "should be `created_time` or `last_edited_time`", ts)
        prop = {"id": ts, "name": ts, "type": ts}
        return _leaf(prop, ts, flt.get(ts), path, now)
    if "property" not in flt:
        raise body_error(path, "should have a `property`, `timestamp`, `and` or `or` key", flt)
    prop = find_prop(schema, flt["property"])
    if prop is None:
        raise validation(f"Could not find property with name or id: {flt['property']}")
    kinds = [k for k in flt if k != "property"]
    if len(kinds) != 1:
        raise body_error(path, "should have exactly one condition type", flt)
    kind = kinds[0]
    if kind != prop["type"] and prop["type"] not in _ALIASES.get(kind, ()):
        raise validation(f"Filter type {kind} does not match property type {prop['type']} for property {prop['name']}.")
    return _leaf(prop, prop["type"], flt[kind], f"{path}.{kind}", now)


def _leaf(prop: dict[str, Any], ptype: str, cond: Any, path: str, now: datetime) -> Predicate:
    if not isinstance(cond, dict) or len(cond) != 1:
        raise body_error(path, "should be an object with exactly one condition", cond)
    op, arg = next(iter(cond.items()))
    if op not in _OPS.get(ptype, ()):
        raise body_error(f"{path}.{op}", "should be not present", arg)
    test = _cond(ptype, op, arg, path, now)
    return lambda row: test(_value(prop, row))


def compile_sorts(sorts: Any, schema: dict[str, dict[str, Any]]) -> Callable[[list[Row]], list[Row]]:
    """A function that orders rows by the given sorts (ties keep creation order)."""
    if sorts is None:
        return lambda rows: rows
    if not isinstance(sorts, list):
        raise body_error("body.sorts", "should be an array", sorts)
    keys = []
    for i, s in enumerate(sorts):
        if not isinstance(s, dict) or s.get("direction", "ascending") not in ("ascending", "descending"):
            raise body_error(f"body.sorts[{i}].direction", "should be `ascending` or `descending`", s)
        if "timestamp" in s:
            if s["timestamp"] not in ("created_time", "last_edited_time"):
                raise body_error(
                    f"body.sorts[{i}].timestamp", "should be `created_time` or `last_edited_time`", s["timestamp"]
                )
            prop = {"id": s["timestamp"], "type": s["timestamp"], "name": s["timestamp"]}
        else:
            prop = find_prop(schema, s.get("property"))
            if prop is None:
                raise validation(f"Could not find sort property with name or id: {s.get('property')}")
        keys.append((prop, s.get("direction", "ascending") == "descending"))

    def compare(a: Row, b: Row) -> int:
        for prop, desc in keys:
            va, vb = _sortable(_value(prop, a)), _sortable(_value(prop, b))
            if va == vb:
                continue
            if va is None or vb is None:  # empty values go last in both directions
                return 1 if va is None else -1
            result = -1 if va < vb else 1
            return -result if desc else result
        return a["seq"] - b["seq"]

    return lambda rows: sorted(rows, key=functools.cmp_to_key(compare))


def _sortable(v: Any) -> Any:
    if v in ("", []):
        return None
    if isinstance(v, list):
        return ",".join(map(str, v))
    if isinstance(v, str):
        return v.lower()
    return v

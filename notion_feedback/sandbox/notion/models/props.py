"""Data-source property schemas and page property values: validation on write, Notion's shapes on read.

A schema property is stored as ``{"id", "name", "type", "config", "description"}``; a page stores, per
property id, the *response* form of its value (rich text already normalised, select as ``{id,name,color}``),
so reading is a cheap wrap and the query engine filters on exactly what a client would see.
"""

from __future__ import annotations

import itertools
import random
import string
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from notion_feedback.sandbox.notion.common import as_uuid, check_array, fmt_minute, parse_iso, rich_text
from notion_feedback.sandbox.notion.constants import COLORS
from notion_feedback.sandbox.notion.exceptions import body_error, validation

SCHEMA_TYPES = (
    "title",
    "rich_text",
    "number",
    "select",
    "multi_select",
    "status",
    "date",
    "people",
    "files",
    "checkbox",
    "url",
    "email",
    "phone_number",
    "formula",
    "relation",
    "created_time",
    "created_by",
    "last_edited_time",
    "last_edited_by",
    "unique_id",
    "button",
    "verification",
    "place",
    "location",
)
COMPUTED = ("formula", "created_time", "created_by", "last_edited_time", "last_edited_by", "unique_id", "button")
NUMBER_FORMATS = ("number", "number_with_commas", "percent", "dollar", "euro", "pound", "yen", "rupee", "won", "yuan")
_ID_CHARS = string.ascii_letters + string.digits + "!#$&()*+,:;<=>?@[]^_`{|}~"
_DEFAULT_STATUS = (
    ("Not started", "default", "To-do", "gray"),
    ("In progress", "blue", "In progress", "blue"),
    ("Done", "green", "Complete", "green"),
)
_color_cycle = itertools.cycle(COLORS[1:])


def new_prop_id(taken: set[str]) -> str:
    """Notion property ids are 3-4 random characters, URL-encoded (``fk%5EY``): clients must not parse them."""
    while True:
        pid = quote("".join(random.choice(_ID_CHARS) for _ in range(4)), safe="")
        if pid not in taken and pid != "title":
            return pid


def _options(raw: Any, path: str, old: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    by_name = {o["name"]: o for o in old or []}
    by_id = {o["id"]: o for o in old or []}
    out = []
    for i, opt in enumerate(check_array(raw or [], path)):
        if not isinstance(opt, dict) or not isinstance(opt.get("name", by_id.get(opt.get("id"), {}).get("name")), str):
            raise body_error(f"{path}[{i}].name", "should be defined", opt)
        prev = by_id.get(opt.get("id")) or by_name.get(opt.get("name"))
        name = opt.get("name") or prev["name"]
        if "," in name:
            raise validation(f"Option name ({name}) cannot contain commas.")
        color = opt.get("color") or (prev or {}).get("color") or next(_color_cycle)
        if color not in COLORS:
            raise body_error(f"{path}[{i}].color", f"should be one of {', '.join(COLORS)}", color)
        out.append(
            {
                "id": (prev or {}).get("id") or new_prop_id(set()),
                "name": name,
                "color": color,
                "description": opt.get("description", (prev or {}).get("description")),
            }
        )
    return out


def schema_config(ptype: str, cfg: Any, path: str, old: dict[str, Any] | None = None) -> dict[str, Any]:
    """Normalise one property's type configuration (the object under its type key)."""
    if ptype not in SCHEMA_TYPES:
        raise body_error(f"{path}.type", f"should be one of {', '.join(SCHEMA_TYPES)}", ptype)
    cfg = cfg if isinstance(cfg, dict) else {}
    old = old or {}
    if ptype == "number":
        fmt = cfg.get("format", old.get("format", "number"))
        if fmt not in NUMBER_FORMATS:
            raise body_error(f"{path}.number.format", "should be a valid number format", fmt)
        return {"format": fmt}
    if ptype in ("select", "multi_select"):
        if "options" not in cfg:
            return {"options": old.get("options", [])}
        return {"options": _options(cfg["options"], f"{path}.{ptype}.options", old.get("options"))}
    if ptype == "status":
        if old:
            return old
        options, groups = [], []
        for name, color, group, gcolor in _DEFAULT_STATUS:
            oid = new_prop_id(set())
            options.append({"id": oid, "name": name, "color": color, "description": None})
            groups.append({"id": new_prop_id(set()), "name": group, "color": gcolor, "option_ids": [oid]})
        return {"options": options, "groups": groups}
    if ptype == "unique_id":
        return {"prefix": cfg.get("prefix", old.get("prefix"))}
    if ptype == "formula":
        return {"expression": cfg.get("expression", old.get("expression", ""))}
    if ptype == "relation":
        ds = as_uuid(cfg.get("data_source_id"))
        if ds is None:
            raise body_error(f"{path}.relation.data_source_id", "should be defined", cfg.get("data_source_id"))
        kind = cfg.get("type", "single_property")
        return {"data_source_id": ds, "type": kind, kind: cfg.get(kind) or {}}
    return {}


def render_schema(prop: dict[str, Any], database_of: Callable[[str], str | None]) -> dict[str, Any]:
    config = dict(prop["config"])
    if prop["type"] == "relation":
        config = {"database_id": database_of(config["data_source_id"]), **config}
    return {
        "id": prop["id"],
        "name": prop["name"],
        "description": prop.get("description"),
        "type": prop["type"],
        prop["type"]: config,
    }


def _text_list(raw: Any, path: str, mentions: Callable | None) -> list[dict[str, Any]]:
    return rich_text(raw, path, mentions)


def _select(prop: dict[str, Any], raw: Any, path: str, *, create: bool) -> dict[str, Any] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not ({"name", "id"} & raw.keys()):
        raise body_error(path, "should be an object with `name` or `id`", raw)
    options = prop["config"].setdefault("options", [])
    for opt in options:
        if ("id" in raw and opt["id"] == raw["id"]) or ("id" not in raw and opt["name"] == raw.get("name")):
            return {"id": opt["id"], "name": opt["name"], "color": opt["color"]}
    if "id" in raw or not create:
        label = raw.get("name") or raw.get("id")
        kind = prop["type"]
        raise validation(f'Invalid {kind} option. {kind.capitalize()} option "{label}" does not exist.')
    name = raw["name"]
    if not isinstance(name, str) or not name.strip():
        raise body_error(f"{path}.name", "should be a non-empty string", name)
    if len(name) > 100:
        raise body_error(f"{path}.name.length", "should be ≤ `100`", len(name))
    if "," in name:
        raise validation(f"Option name ({name}) cannot contain commas.")
    opt = {
        "id": new_prop_id({o["id"] for o in options}),
        "name": name,
        "color": raw.get("color") or next(_color_cycle),
        "description": None,
    }
    options.append(opt)
    return {"id": opt["id"], "name": opt["name"], "color": opt["color"]}


def _date(raw: Any, path: str) -> dict[str, Any] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("start"), str):
        raise body_error(f"{path}.start", "should be defined", raw)
    for key in ("start", "end"):
        if raw.get(key) is not None:
            try:
                parse_iso(raw[key])
            except (TypeError, ValueError):
                raise body_error(f"{path}.{key}", "should be a valid ISO 8601 date string", raw[key]) from None
    return {"start": raw["start"], "end": raw.get("end"), "time_zone": raw.get("time_zone")}


def _people(raw: Any, vpath: str, known_user: Callable[[str], bool]) -> list[str]:
    """A people value: user ids that parse and that the workspace knows."""
    ids = []
    for i, user in enumerate(check_array(raw, vpath)):
        uid = as_uuid((user or {}).get("id") if isinstance(user, dict) else None)
        if uid is None:
            raise body_error(f"{vpath}[{i}].id", "should be a valid uuid", user)
        if not known_user(uid):
            raise validation(f"Could not find user with ID: {uid}.")
        ids.append(uid)
    return ids


def _relation(raw: Any, vpath: str) -> list[dict[str, str]]:
    """A relation value: page references by id."""
    out = []
    for i, ref in enumerate(check_array(raw, vpath)):
        rid = as_uuid((ref or {}).get("id") if isinstance(ref, dict) else None)
        if rid is None:
            raise body_error(f"{vpath}[{i}].id", "should be a valid uuid", ref)
        out.append({"id": rid})
    return out


def _files(raw: Any, vpath: str, file_ref: Callable[[dict[str, Any], str], dict[str, Any]] | None) -> list[Any]:
    """A files value: each entry resolved by ``file_ref`` (uploads, external links), named."""
    out = []
    for i, f in enumerate(check_array(raw, vpath)):
        if not isinstance(f, dict):
            raise body_error(f"{vpath}[{i}]", "should be an object", f)
        if file_ref is None:
            raise body_error(f"{vpath}[{i}]", "is not supported", f)
        ref = file_ref(f, f"{vpath}[{i}]")
        out.append({"name": f.get("name") or ref.pop("_name", "file"), **ref})
    return out


def write_value(
    prop: dict[str, Any],
    raw_value: Any,
    path: str,
    *,
    mentions: Callable | None = None,
    known_user: Callable[[str], bool] = lambda _: True,
    file_ref: Callable[[dict[str, Any], str], dict[str, Any]] | None = None,
) -> Any:
    """Validate one request property value against its schema and return the stored (response) form."""
    ptype, name = prop["type"], prop["name"]
    if isinstance(raw_value, list) and ptype in ("title", "rich_text"):
        raw_value = {ptype: raw_value}
    if not isinstance(raw_value, dict):
        raise validation(f"{name} is expected to be {ptype}.")
    given = raw_value.get("type") or next((k for k in raw_value if k in SCHEMA_TYPES), None)
    if given != ptype:
        raise validation(f"{name} is expected to be {ptype}.")
    if ptype in COMPUTED:
        raise validation(f"Cannot update property {name} of type {ptype}: it is computed by Notion.")
    raw, vpath = raw_value.get(ptype), f"{path}.{ptype}"
    if ptype in ("title", "rich_text"):
        return _text_list(raw, vpath, mentions)
    if ptype == "number":
        if raw is not None and (isinstance(raw, bool) or not isinstance(raw, int | float)):
            raise body_error(vpath, "should be a number or `null`", raw)
        return raw
    if ptype == "checkbox":
        if not isinstance(raw, bool):
            raise body_error(vpath, "should be a boolean", raw)
        return raw
    if ptype in ("select", "status"):
        return _select(prop, raw, vpath, create=ptype == "select")
    if ptype == "multi_select":
        return [_select(prop, item, f"{vpath}[{i}]", create=True) for i, item in enumerate(check_array(raw, vpath))]
    if ptype in ("url", "email", "phone_number"):
        limit = 2000 if ptype == "url" else 200
        if raw is None:
            return None
        if not isinstance(raw, str) or not raw:
            raise body_error(vpath, "should be a non-empty string or `null`", raw)
        if len(raw) > limit:
            raise body_error(f"{vpath}.length", f"should be ≤ `{limit}`", len(raw))
        return raw
    if ptype == "date":
        return _date(raw, vpath)
    if ptype == "people":
        return _people(raw, vpath, known_user)
    if ptype == "relation":
        return _relation(raw, vpath)
    if ptype == "files":
        return _files(raw, vpath, file_ref)
    if ptype == "verification":
        if not isinstance(raw, dict) or raw.get("state") not in ("verified", "unverified"):
            raise body_error(f"{vpath}.state", "should be `verified` or `unverified`", raw)
        return {"state": raw["state"], "date": raw.get("date"), "verified_by": None}
    return raw


def empty_value(ptype: str) -> Any:
    if ptype in ("title", "rich_text", "multi_select", "people", "relation", "files"):
        return []
    if ptype == "checkbox":
        return False
    if ptype == "verification":
        return {"state": "unverified", "date": None, "verified_by": None}
    return None


def render_value(
    prop: dict[str, Any],
    page: dict[str, Any],
    user: Callable[[str], dict[str, Any]],
    file_view: Callable[[dict[str, Any]], dict[str, Any]],
) -> dict[str, Any]:
    """``{"id", "type", <type>: value}`` for one property of one row, computed types included."""
    ptype, pid = prop["type"], prop["id"]
    stored = page["props"].get(pid, empty_value(ptype))
    if ptype == "created_time":
        value: Any = fmt_minute(page["created"])
    elif ptype == "last_edited_time":
        value = fmt_minute(page["edited"])
    elif ptype == "created_by":
        value = user(page["created_by"])
    elif ptype == "last_edited_by":
        value = user(page["edited_by"])
    elif ptype == "unique_id":
        value = {"prefix": prop["config"].get("prefix"), "number": stored}
    elif ptype == "formula":
        value = {"type": "string", "string": None}
    elif ptype == "button":
        value = {}
    elif ptype == "people":
        value = [user(uid) for uid in stored]
    elif ptype == "files":
        value = [file_view(f) for f in stored]
    else:
        value = stored
    out = {"id": pid, "type": ptype, ptype: value}
    if ptype == "relation":
        out["has_more"] = False
    return out

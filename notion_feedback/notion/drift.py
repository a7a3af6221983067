"""Compare a data source's properties with what the product expects, and explain each difference in words.

Pure and fast (no requests): the sync engine calls it before each pass, ``doctor`` prints it. A property the user
renamed is recognised (same id, or the only unclaimed property of the same type) and the message says how to map
it back in settings instead of asking them to rename it again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from notion_feedback.notion.schema import FEEDBACK, Prop, RatingScale, property_name

MISSING, RENAMED, WRONG_TYPE, OPTIONS = "missing", "renamed", "wrong_type", "options"
_TYPE_WORDS = {
    "rich_text": "Text",
    "title": "Title",
    "select": "Select",
    "multi_select": "Multi-select",
    "number": "Number",
    "date": "Date",
    "url": "URL",
    "status": "Status",
    "created_time": "Created time",
    "last_edited_time": "Last edited time",
    "checkbox": "Checkbox",
    "people": "Person",
    "formula": "Formula",
}


@dataclass(frozen=True)
class Drift:
    """One difference. ``blocking`` is False for what only Notion itself writes (the product can live without)."""

    key: str
    kind: str
    message: str
    fix: str
    blocking: bool = True
    actual_name: str | None = None  # for a rename: the property's name in Notion now

    def __str__(self) -> str:
        return f"{self.message} (fix: {self.fix})"


def _words(notion_type: str) -> str:
    return _TYPE_WORDS.get(notion_type, notion_type)


def map_setting(property_map: dict[str, str], default_name: str, actual_name: str) -> str:
    """The NOTION_FEEDBACK_PROPERTY_MAP value that maps ``default_name`` to ``actual_name``, keeping other entries."""
    merged = {**property_map, default_name: actual_name}
    return "NOTION_FEEDBACK_PROPERTY_MAP='" + json.dumps(merged, ensure_ascii=False) + "'"


def _options(config: dict[str, Any]) -> list[str]:
    return [o.get("name", "") for o in (config.get("select") or {}).get("options") or []]


def _renamed_to(key: str, prop: Prop, unclaimed: dict[str, Any], known_ids: dict[str, str]) -> str | None:
    """The unclaimed property that is ``prop`` renamed: by its remembered id, else the only one of its type."""
    by_id = {c.get("id"): n for n, c in unclaimed.items()}
    pid = known_ids.get(key) or ("title" if prop.type == "title" else None)
    if pid and pid in by_id:
        return by_id[pid]
    same_type = [n for n, c in unclaimed.items() if c.get("type") == prop.type]
    return same_type[0] if len(same_type) == 1 else None


def _missing(key: str, prop: Prop, name: str, property_map: dict[str, str], blocking: bool) -> Drift:
    mapped = f" (mapped from {prop.name} in NOTION_FEEDBACK_PROPERTY_MAP)" if name != prop.name else ""
    return Drift(
        key,
        MISSING,
        f"{name}{mapped} is missing",
        f"add a {_words(prop.type)} property named {name!r} in Notion, or map an existing one with "
        f"{map_setting(property_map, prop.name, '<its name>')}",
        blocking,
    )


def _options_drift(key: str, name: str, config: dict[str, Any], scale: RatingScale) -> Drift | None:
    """The Rating options against the scale's: what is lacking and what the scale does not know."""
    have = _options(config)
    want = [option for option, _, _ in scale.options]
    missing = [o for o in want if o not in have]
    extra = [o for o in have if o not in want]
    if not missing and not extra:
        return None
    parts = []
    if missing:
        parts.append("lacks " + ", ".join(missing))
    if extra:
        parts.append("has " + ", ".join(extra) + " which the scale does not know")
    return Drift(
        key,
        OPTIONS,
        f"{name}'s options do not match the {scale.name} scale: it " + " and ".join(parts),
        f"make the options of {name!r} exactly {', '.join(want)} in Notion, or set "
        f"NOTION_FEEDBACK_RATING_SCALE to the scale they are for",
        True,
        name,
    )


def verify_schema(
    actual_properties: dict[str, Any],
    expected: dict[str, Prop],
    property_map: dict[str, str],
    *,
    scale: RatingScale | None = None,
    known_ids: dict[str, str] | None = None,
) -> list[Drift]:
    """Every way ``actual_properties`` (a data source's ``properties``) differs from ``expected`` (``FEEDBACK.all()``).

    ``scale`` checks the Rating options; ``known_ids`` (key → property id, remembered from ``init``) makes rename
    detection exact, otherwise an unclaimed property of the same type stands for a renamed one when it is the only
    candidate.
    """
    drifts: list[Drift] = []
    known_ids = known_ids or {}
    wanted_names = {property_name(p, property_map) for p in expected.values()}
    unclaimed = {n: c for n, c in actual_properties.items() if n not in wanted_names}
    for key, prop in expected.items():
        name = property_name(prop, property_map)
        blocking = prop.written_by != "notion"
        config = actual_properties.get(name)
        if config is None:
            candidate = _renamed_to(key, prop, unclaimed, known_ids)
            if candidate is None:
                drifts.append(_missing(key, prop, name, property_map, blocking))
                continue
            unclaimed.pop(candidate, None)
            fix = f"set {map_setting(property_map, prop.name, candidate)}"
            drifts.append(Drift(key, RENAMED, f"{name} was renamed to {candidate}", fix, blocking, candidate))
            config, name = actual_properties[candidate], candidate
        actual_type = config.get("type")
        if actual_type != prop.type:
            drifts.append(
                Drift(
                    key,
                    WRONG_TYPE,
                    f"{name} is a {_words(str(actual_type))} property; it must be {_words(prop.type)}",
                    f"in Notion, change the type of {name!r} back to {_words(prop.type)}",
                    blocking,
                    name,
                )
            )
            continue
        if scale is not None and prop == FEEDBACK.rating:
            drift = _options_drift(key, name, config, scale)
            if drift is not None:
                drifts.append(drift)
    return drifts

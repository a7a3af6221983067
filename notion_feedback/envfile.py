"""``.env`` files: the documented example (generated from Settings, so the docs cannot drift) and safe updates."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from pydantic import SecretStr

from notion_feedback.config import Settings, env_name
from notion_feedback.private_files import write_private
from notion_feedback.state import safe_url

_SECTIONS = {
    "notion_token": "The two services",
    "parent_page_id": "The Notion workspace (printed or written by `notion-feedback init`)",
    "rating_scale": "Ratings",
    "notion_requests_per_second": "Budgets and limits",
    "sample_rate": "Capture (the agent side)",
    "home": "State and scheduling",
    "target_latency_avg_ms": "Report targets",
    "log_level": "Logging",
}


def _default_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def render_env_example() -> str:
    """Every setting with its documentation and default, as the shipped ``.env.example``."""
    lines = [
        "# notion-feedback settings. Copy to .env and fill in what you need; every line is optional unless noted.",
        "# Generated from notion_feedback/config.py by `notion-feedback config --example`.",
    ]
    for name, field in Settings.model_fields.items():
        if name in _SECTIONS:
            lines += ["", f"# == {_SECTIONS[name]} " + "=" * max(0, 100 - len(_SECTIONS[name]))]
        doc = " ".join((field.description or "").split())
        lines += ["", *("# " + part for part in textwrap.wrap(doc, 110))]
        default = (
            None
            if field.default_factory is None and field.is_required()
            else field.get_default(call_default_factory=True)
        )
        lines.append(f"{env_name(name)}={_default_text(default)}")
    return "\n".join(lines) + "\n"


def describe(settings: Settings) -> list[tuple[str, str]]:
    """(variable, value) for every setting, secrets shown as set/unset only."""
    out = []
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if name == "state_url" and value is not None:
            shown = safe_url(settings.resolved_state_url)  # the address helps; its password is hidden
        elif isinstance(value, SecretStr):
            shown = "(set, hidden)"
        elif value is None:
            shown = "(unset)"
        else:
            shown = _default_text(value)
        out.append((env_name(name), shown))
    return out


def update_env_file(path: Path, values: dict[str, str]) -> None:
    """Set ``values`` in a .env file, keeping every other line (and its comments) as it was."""
    lines = path.read_text().splitlines() if path.exists() else []
    pending = dict(values)
    for i, line in enumerate(lines):
        key = line.split("=", 1)[0].strip().removeprefix("export ").strip()
        if "=" in line and not line.lstrip().startswith("#") and key in pending:
            lines[i] = f"{key}={pending.pop(key)}"
    lines += [f"{k}={v}" for k, v in pending.items()]
    write_private(path, "\n".join(lines) + "\n")

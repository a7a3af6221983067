"""A function named by a "package.module:function" reference: how settings and commands name a team's own code
(a redaction hook, an agent to evaluate, a judge), loaded where it runs."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from notion_feedback.errors import ConfigError


def load_callable(ref: str, named_by: str) -> Callable[..., Any]:
    """The function ``ref`` names; ``named_by`` (the setting or option) is what the error tells the user to fix.
    The current folder is importable, as it is for ``python -m``: a team's module beside its ``.env`` is found."""
    module_name, _, name = ref.partition(":")
    cwd = str(Path.cwd())
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        found = getattr(importlib.import_module(module_name), name) if module_name and name else None
    except (ImportError, AttributeError, ValueError) as exc:
        found, cause = None, f"{exc.__class__.__name__}: {exc}"
    else:
        cause = "it names no function"
    if not callable(found):
        raise ConfigError(
            f"{named_by}={ref!r} cannot be loaded ({cause})",
            'name a function as "package.module:function", importable where the command runs',
        )
    return found

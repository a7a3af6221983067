"""Send rows an agent's recorder left in the local spool (the agent died or stopped before its sender finished)."""

from __future__ import annotations

import time
from typing import Any

from notion_feedback.capture import drain_spool
from notion_feedback.config import load_settings

DEADLINE_SECONDS = 50.0  # well inside the sync interval: the next run picks up what is left


def run() -> dict[str, Any]:
    """Rows an agent on this machine could not deliver reach Notion; an agent's own sender, if alive, keeps them."""
    return {"sent": drain_spool(load_settings(), deadline=time.monotonic() + DEADLINE_SECONDS)}

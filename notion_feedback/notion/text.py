"""Text into Notion's limits: rich text runs of at most 2,000 characters, at most 100 runs per value."""

from __future__ import annotations

from typing import Any

from notion_feedback.notion.limits import MAX_RUNS, MAX_TEXT_CHARS

ELLIPSIS = "…"


def rich_text(text: str, *, max_runs: int = MAX_RUNS, href: str | None = None) -> list[dict[str, Any]]:
    """Split ``text`` into runs Notion accepts; text beyond ``max_runs`` runs is cut with an ellipsis."""
    if not text:
        return []
    runs = [text[i : i + MAX_TEXT_CHARS] for i in range(0, len(text), MAX_TEXT_CHARS)]
    if len(runs) > max_runs:
        runs = runs[:max_runs]
        runs[-1] = runs[-1][: MAX_TEXT_CHARS - len(ELLIPSIS)] + ELLIPSIS
    out = []
    for run in runs:
        item: dict[str, Any] = {"type": "text", "text": {"content": run}}
        if href:
            item["text"]["link"] = {"url": href}
        out.append(item)
    return out


def title_text(text: str, limit: int = MAX_TEXT_CHARS) -> list[dict[str, Any]]:
    """A one-run title: the first ``limit`` characters, cut with an ellipsis when longer."""
    text = " ".join(text.split()) if "\n" in text else text
    if len(text) > limit:
        text = text[: limit - len(ELLIPSIS)] + ELLIPSIS
    return rich_text(text, max_runs=1)


def plain_text(value: list[dict[str, Any]] | None) -> str:
    """The text of a rich-text array as Notion returns it."""
    return "".join(item.get("plain_text") or item.get("text", {}).get("content", "") for item in value or [])

"""What every command does the same way: load settings, set up logging, turn product errors into messages."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, TaskID

from notion_feedback.config import Settings, load_settings
from notion_feedback.errors import NotionFeedbackError
from notion_feedback.logs import setup_logging
from notion_feedback.masking import mask_secrets

console = Console(stderr=True)


def settings_or_exit(**overrides: object) -> Settings:
    """Settings, with logging configured; a bad setting exits with code 2 and the variable's name."""
    with friendly_errors():
        settings = load_settings(**overrides)
    setup_logging(settings.log_level, settings.log_format, settings.secrets())
    return settings


@contextlib.contextmanager
def friendly_errors(settings: Settings | None = None) -> Iterator[None]:
    """Product errors become a red message with the fix and the error's exit code (2: a setting; 1: a failed check),
    with no traceback and no secrets."""
    try:
        yield
    except NotionFeedbackError as exc:
        known = settings.secrets() if settings else []
        console.print(f"[bold red]error:[/] {escape(mask_secrets(exc.message, known))}", highlight=False)
        if exc.fix:
            console.print(f"[yellow]fix:[/] {escape(mask_secrets(exc.fix, known))}", highlight=False)
        raise typer.Exit(exc.exit_code) from None


class ReportProgress:
    """The progress line: which period, which step, and why nothing moves while LangSmith's rate limit holds the
    requests back (without a terminal, where the line is not redrawn, each wait is a line of its own)."""

    def __init__(self, bar: Progress, task: TaskID) -> None:
        self.bar, self.task, self.line = bar, task, ""

    def step(self, where: str, message: str) -> None:
        self.line = f"{where}: {message}"
        self.bar.update(self.task, description=escape(self.line))

    def waiting(self, seconds: float) -> None:
        if not seconds:  # requests go on
            self.bar.update(self.task, description=escape(self.line))
            return
        why = f"waiting {seconds:.0f} s for LangSmith's rate limit"
        self.bar.update(self.task, description=escape(f"{self.line} · {why}" if self.line else why))
        if not self.bar.console.is_terminal:
            self.bar.console.print(f"  {why}", highlight=False)

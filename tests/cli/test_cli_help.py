"""Every command's `--help` answers, and shows a type only beside options that take a value."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from notion_feedback.cli.app import COMMAND_MODULES, app

HELP_OF = [[], *([module.__name__.rsplit(".", 1)[1].removesuffix("_command")] for module in COMMAND_MODULES)]


def _help(args: list[str]) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("args", HELP_OF, ids=lambda a: " ".join(a) or "notion-feedback")
def test_help_exits_zero_and_shows_no_type_beside_a_flag(args: list[str]) -> None:
    text = _help(args)
    assert "Usage:" in text
    assert "<bool>" not in text.lower() and "BOOLEAN" not in text
    # Typer's raw type labels (`<str>`, `<int range>`, `<path>`) say less than a name such as PORT or PATH.
    assert not re.search(r"<(str|int|int range|path|float)>", text), text
    help_line = next(line for line in text.splitlines() if "--help" in line and "Show this message" in line)
    assert re.search(r"--help\s+Show this message", help_line), help_line


@pytest.mark.parametrize(
    ("command", "option", "metavar"),
    [
        ("report", "--date", "YYYY-MM-DD"),
        ("report", "--period", "day|week|month"),
        ("demo", "--data-dir", "DIR"),
        ("sandbox", "--notion-port", "PORT"),
        ("init", "--env-file", "PATH"),
        ("status", "--errors", "N"),
    ],
)
def test_an_option_that_takes_a_value_names_it(command: str, option: str, metavar: str) -> None:
    line = next(line for line in _help([command]).splitlines() if line.lstrip("│ *").startswith(f"{option} "))
    assert re.search(rf"{re.escape(option)}\s+{re.escape(metavar)}\b", line), line


def test_a_negatable_flag_shows_both_forms_and_no_type() -> None:
    line = next(line for line in _help(["sandbox"]).splitlines() if "--no-rate-limit" in line)
    assert "--rate-limit" in line and "<" not in line and "bool" not in line.lower(), line

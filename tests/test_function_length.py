"""No function in the package is longer than a screen: a long one is split into named steps."""

from __future__ import annotations

import ast
from pathlib import Path

import notion_feedback

PACKAGE = Path(notion_feedback.__file__).parent
MAX_LINES = 80


def long_functions(root: Path, limit: int) -> list[str]:
    """``path:line name (n lines)`` for every function or method of more than ``limit`` lines under ``root``."""
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > limit:
                    found.append(f"{path.relative_to(root.parent)}:{node.lineno} {node.name} ({lines} lines)")
    return found


def test_no_function_is_longer_than_80_lines() -> None:
    too_long = long_functions(PACKAGE, MAX_LINES)
    assert not too_long, "split into named helpers:\n" + "\n".join(too_long)


def test_the_check_sees_a_long_function(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "m.py").write_text("def short():\n    pass\n\n\ndef long():\n" + "    x = 1\n" * 90)
    assert long_functions(package, MAX_LINES) == ["pkg/m.py:5 long (91 lines)"]

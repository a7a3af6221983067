"""The sandbox's shape: it imports nothing of the product, and its modules import one another without a circle."""

from __future__ import annotations

import ast
from pathlib import Path

import notion_feedback.sandbox

SANDBOX = Path(notion_feedback.sandbox.__file__).parent
PREFIX = "notion_feedback.sandbox"


def _module_name(path: Path) -> str:
    parts = path.relative_to(SANDBOX).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((PREFIX, *parts))


MODULES = {_module_name(p): p for p in sorted(SANDBOX.rglob("*.py"))}


def _imported(path: Path) -> list[str]:
    """Every module an ``import`` or ``from … import`` names, at any depth (imports inside functions count)."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import"
            base = node.module or ""
            found.append(base)
            # ``from package import module`` imports the module too
            found += [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in MODULES]
    return found


def test_the_sandbox_imports_nothing_of_the_product() -> None:
    product = {
        f"{_module_name(path)}: {name}"
        for path in MODULES.values()
        for name in _imported(path)
        if (name == "notion_feedback" or name.startswith("notion_feedback."))
        and name != PREFIX
        and not name.startswith(PREFIX + ".")
    }
    assert product == set()


def _graph() -> dict[str, set[str]]:
    """Explicit imports between sandbox modules (a package's ``__init__`` running first is not an edge)."""
    return {
        name: {target for target in _imported(path) if target in MODULES and target != name}
        for name, path in MODULES.items()
    }


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_no_import_cycle_among_sandbox_modules() -> None:
    assert _cycle(_graph()) is None


def test_the_cycle_finder_finds_one() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_one_folder_per_emulated_service() -> None:
    for service in ("notion", "langsmith"):
        assert {"urls", "responses", "emulator", "constants", "exceptions", "models"} <= {
            p.stem for p in (SANDBOX / service).iterdir() if p.suffix == ".py" or p.is_dir()
        }
    assert not [p.name for p in SANDBOX.glob("*.py") if p.stem.startswith(("notion_", "langsmith_", "viewer_"))]

"""The dependency rule of docs/architecture.md §2, checked on every import in the package (imports inside
functions count): a part imports only parts on lower layers, and the three stages never import one another."""

from __future__ import annotations

import ast
from pathlib import Path

import notion_feedback

PACKAGE = Path(notion_feedback.__file__).parent

# Lower number = lower layer. Modules at the package root are the foundation (settings, errors, state, time).
LAYERS = {
    "foundation": 0,
    "notion": 1,
    "smith": 1,
    "capture": 2,
    "sync": 2,
    "report": 2,
    "learn": 2,
    "daemon": 3,
    "setup": 3,
    "demo": 4,
    "cli": 4,
    "testing": 4,
}
STAGES = {"capture", "sync", "report", "learn"}
# Settings validate Notion ids and addresses when they are read; the parser is pure and lives with the adapter.
ALLOWED = {("foundation", "notion_feedback.notion.ids")}


def _part(module: str) -> str | None:
    bits = module.split(".")
    if bits[0] != "notion_feedback" or len(bits) == 1:
        return None
    if bits[1] == "sandbox":
        return "sandbox"
    return bits[1] if bits[1] in LAYERS else "foundation"


def _imports() -> list[tuple[str, str, str]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "__init__.py":
            continue  # the public facade: it re-exports every part, loading the heavy ones on first use
        me = _part(".".join(("notion_feedback", *path.relative_to(PACKAGE).with_suffix("").parts)))
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found += [(str(path.relative_to(PACKAGE)), me, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.append((str(path.relative_to(PACKAGE)), me, node.module))
    return found


def test_every_import_points_down_or_sideways_within_a_part() -> None:
    wrong = []
    for where, me, module in _imports():
        other = _part(module)
        if other is None or me is None or me == other or me == "sandbox" or (me, module) in ALLOWED:
            continue
        if other == "sandbox":
            if me not in ("demo", "cli", "testing"):  # only the front ends start the emulators
                wrong.append(f"{where} imports {module} (the sandbox is for the front ends)")
        elif LAYERS[other] > LAYERS[me]:
            wrong.append(f"{where} ({me}) imports {module} ({other}, a higher layer)")
        elif me in STAGES and other in STAGES:
            wrong.append(f"{where} ({me}) imports {module}: stages share code through a lower layer")
    assert not wrong, "\n".join(wrong)


def test_the_rule_sees_every_part_of_the_package() -> None:
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders - {"sandbox"} <= set(LAYERS), f"new folder without a layer: {folders - set(LAYERS)}"

"""The commands the README and ``docs/`` show are run, so none goes stale.

Every shell fence (```` ```bash ````) in ``README.md`` and ``docs/*.md`` must be marked ``runnable``
(```` ```bash runnable ````); a fence that is not fails the suite, so new docs cannot escape. The commands of a
document run in order (a guide is a walk-through), in one fresh folder, against the sandbox, with the sandbox's
credentials in the environment (as a user has them after filling in ``.env``). Each must exit 0 and print no
traceback.

What a test cannot run as written is adapted by the rules in ``ADAPT`` below, each with its reason; commands that
run until stopped (the daemon, the demo) are started, must say they are running, and are then stopped the way
the docs say (SIGTERM for the daemon, Ctrl-C for the demo) and must exit cleanly.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from notion_feedback.sandbox.server import Sandbox

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```", re.S | re.M)
SHELL = {"bash", "sh", "shell", "console"}
PLACEHOLDER_PAGE = "0123456789abcdef0123456789abcdef"  # the page id the docs use in example URLs


@dataclass(frozen=True)
class Block:
    doc: Path
    line: int
    info: str
    commands: tuple[str, ...]

    @property
    def where(self) -> str:
        return f"{self.doc.relative_to(REPO)}:{self.line}"


@dataclass(frozen=True)
class Adapt:
    """How one documented command runs under test; ``ready`` set means it runs until stopped."""

    pattern: str
    replace: str | None = None
    cwd_repo: bool = False
    ready: str | None = None
    stop: int = signal.SIGTERM
    why: str = ""


ADAPT = (
    Adapt(r"^scripts/test$", "scripts/test --collect-only -q", why="the suite cannot run itself inside itself"),
    Adapt(
        r"^scripts/demo$",
        "scripts/demo --days 2 --interactions-per-day 5 --no-rate-limit --data-dir demo-data",
        ready="Daemon",
        stop=signal.SIGINT,
        why="runs until Ctrl-C; a small workspace reaches its daemon in seconds",
    ),
    Adapt(r"^pip install -e \.$", cwd_repo=True, why="installs the clone the docs are read in (already installed)"),
    Adapt(r"^notion-feedback run\b", ready="lease acquired", why="the daemon runs until SIGTERM"),
)


def shell_blocks() -> list[Block]:
    blocks = []
    for doc in DOCS:
        text = doc.read_text()
        for match in FENCE.finditer(text):
            if match.group(1) not in SHELL:
                continue
            commands = tuple(c for c in (_strip(line) for line in match.group(3).splitlines()) if c)
            blocks.append(Block(doc, text[: match.start()].count("\n") + 1, match.group(2).strip(), commands))
    return blocks


def _strip(line: str) -> str:
    """The command without its trailing comment (docs align comments after two or more spaces)."""
    line = line.strip()
    if line.startswith("#"):
        return ""
    return re.split(r"\s{2,}#|\s#\s", line, maxsplit=1)[0].strip()


def test_every_shell_fence_is_marked_runnable() -> None:
    unmarked = [b.where for b in shell_blocks() if "runnable" not in b.info.split()]
    assert not unmarked, f"shell fences not marked `runnable` (so no test runs them): {unmarked}"


def _adapt(command: str) -> tuple[str, Adapt | None]:
    for rule in ADAPT:
        if re.search(rule.pattern, command):
            return (rule.replace or command), rule
    return command, None


def _env(sandbox: Sandbox, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTION", "LANGSMITH", "LANGCHAIN"))}
    bin_dir = str(Path(sys.executable).parent)
    values = sandbox.env()
    values.pop("NOTION_SANDBOX_ROOT_PAGE_ID", None)
    return (
        env
        | values
        | {
            "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
            "LANGSMITH_PROJECT": "docs-commands",
            "NOTION_FEEDBACK_HOME": str(home),
            "COLUMNS": "100",
        }
    )


def _run_until_ready(argv: str, cwd: Path, env: dict[str, str], rule: Adapt) -> str:
    proc = subprocess.Popen(
        argv,
        shell=True,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout or ()), daemon=True)
    reader.start()
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None and not any(rule.ready in ln for ln in lines[:]):
        time.sleep(0.2)
    alive = proc.poll() is None
    ready = any(rule.ready in line for line in lines[:])
    if alive:
        os.killpg(proc.pid, rule.stop)
    try:
        proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    reader.join(timeout=10)
    output = "".join(lines)
    assert alive and ready, f"`{argv}` exited or took 240 s without saying {rule.ready!r}:\n{output[-3000:]}"
    assert proc.returncode in (0, -rule.stop, 128 + rule.stop), f"`{argv}` stopped badly:\n{output[-3000:]}"
    return output


def _docs_with_commands() -> list[Path]:
    return sorted({b.doc for b in shell_blocks()})


@pytest.mark.parametrize("doc", _docs_with_commands(), ids=lambda d: str(d.relative_to(REPO)))
def test_documented_commands_run(doc: Path, sandbox: Sandbox, tmp_path: Path) -> None:
    env = _env(sandbox, tmp_path / "home")
    root = sandbox.notion.root_page_id.replace("-", "")
    for block in (b for b in shell_blocks() if b.doc == doc):
        for documented in block.commands:
            _run_documented(block, documented, root, env, tmp_path)


def _run_documented(block: Block, documented: str, root: str, env: dict[str, str], folder: Path) -> None:
    command, rule = _adapt(documented)
    command = command.replace(PLACEHOLDER_PAGE, root)
    if command.startswith("scripts/"):
        script = command.split()[0]
        command = shlex.quote(str(REPO / script)) + command[len(script) :]
    cwd = REPO if rule and rule.cwd_repo else folder
    if rule and rule.ready:
        output = _run_until_ready(command, cwd, env, rule)
    else:
        done = subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
        output = done.stdout + done.stderr
        assert done.returncode == 0, f"{block.where}: `{documented}` exited {done.returncode}:\n{output[-3000:]}"
    assert "Traceback" not in output, f"{block.where}: `{documented}` printed a traceback:\n{output[-3000:]}"

"""One project resolver with one cache: every part of the product asks smith.projects, and a process reads a
project's id once."""

from __future__ import annotations

import ast
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
from langsmith import utils as ls_utils

from notion_feedback.errors import LangSmithAccessError
from notion_feedback.smith import projects
from notion_feedback.smith.client import make_langsmith_client

PACKAGE = Path(projects.__file__).resolve().parents[1]


class CountingClient:
    """The two calls the resolver makes, counted; projects exist when named in ``known``."""

    def __init__(self, api_url: str = "http://ls.test", known: tuple[str, ...] = ()) -> None:
        self.api_url = api_url
        self.known = {name: str(uuid.uuid4()) for name in known}
        self.reads = 0
        self.creates = 0

    def read_project(self, *, project_name: str) -> SimpleNamespace:
        self.reads += 1
        if project_name not in self.known:
            raise ls_utils.LangSmithNotFoundError(f"no project {project_name}")
        return SimpleNamespace(id=self.known[project_name], url=f"{self.api_url}/p/{project_name}")

    def create_project(self, project_name: str) -> SimpleNamespace:
        self.creates += 1
        self.known[project_name] = str(uuid.uuid4())
        return SimpleNamespace(id=self.known[project_name], url=None)


@pytest.fixture(autouse=True)
def _empty_cache():
    projects.forget()
    yield
    projects.forget()


def test_two_lookups_cost_one_request() -> None:
    client = CountingClient(known=("agent",))
    first = projects.project_id(client, "agent")  # type: ignore[arg-type]
    second = projects.project_id(client, "agent")  # type: ignore[arg-type]
    assert first == second == client.known["agent"]
    assert client.reads == 1
    assert projects.cached_project("http://ls.test/", "agent") == projects.project(client, "agent")  # type: ignore[arg-type]
    assert client.reads == 1


def test_fresh_reads_again_and_endpoints_are_kept_apart() -> None:
    client = CountingClient(known=("agent",))
    projects.project_id(client, "agent")  # type: ignore[arg-type]
    projects.project(client, "agent", fresh=True)  # type: ignore[arg-type]
    assert client.reads == 2
    other = CountingClient(api_url="http://eu.ls.test", known=("agent",))
    assert projects.project_id(other, "agent") == other.known["agent"]  # type: ignore[arg-type]
    assert other.reads == 1


def test_a_missing_project_is_an_access_error_and_is_not_remembered() -> None:
    client = CountingClient()
    for _ in range(2):
        with pytest.raises(LangSmithAccessError, match="no project named 'nope'") as err:
            projects.project_id(client, "nope")  # type: ignore[arg-type]
        assert err.value.exit_code == 2 and "LANGSMITH_PROJECT" in err.value.fix
    assert client.reads == 2 and client.creates == 0
    created = projects.project_id(client, "nope", create=True)  # type: ignore[arg-type]
    assert created == client.known["nope"] and client.creates == 1
    assert projects.project_id(client, "nope") == created  # type: ignore[arg-type]
    assert client.reads == 3


def test_against_the_sandbox_two_lookups_are_one_request(settings, sandbox) -> None:
    client = make_langsmith_client(settings)
    client.create_project(settings.langsmith_project)
    before = sandbox.langsmith.control.count()
    a = projects.project_id(client, settings.langsmith_project)
    b = projects.project_id(client, settings.langsmith_project)
    assert a == b == str(client.read_project(project_name=settings.langsmith_project).id)
    assert sandbox.langsmith.control.count() - before == 2, "one lookup, then the check's own read"


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_no_other_module_reads_a_project_by_name() -> None:
    readers = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "sandbox" not in path.parts and path.name != "projects.py" and "read_project(" in path.read_text()
    ]
    assert readers == []


def test_the_notion_package_does_not_reach_up_into_capture() -> None:
    for path in (PACKAGE / "notion").glob("*.py"):
        upward = {m for m in _imports(path) if m.startswith("notion_feedback.capture")}
        assert not upward, f"{path.name} imports {upward}"

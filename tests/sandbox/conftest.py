"""Fixtures for the Notion emulator's own tests: a Notion-only sandbox and real notion-client clients.

The session sandbox is shared (tests create their own pages under the root page); tests that move the clock,
reset state or restart use ``fresh_notion`` instead, so they never disturb the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from contract_fixtures import contract_dir
from notion_client import Client

from notion_feedback.sandbox.server import Sandbox, SandboxOptions


@pytest.fixture(scope="session")
def cassette_dir() -> Path:
    """Real Notion HTTP recordings (see ``contract_fixtures``); skips when absent."""
    return contract_dir("notion-cassettes")


@pytest.fixture(scope="session")
def notion_sb() -> Iterator[Sandbox]:
    with Sandbox(SandboxOptions(langsmith=False, rate_limit=False)) as sb:
        yield sb


@pytest.fixture()
def notion(notion_sb: Sandbox) -> Client:
    """A real notion-client 3.1 client on the shared sandbox.

    Used without ``with``: the client's ``__enter__`` replaces an injected httpx client with a fresh one.
    """
    notion_sb.notion.control.faults = type(notion_sb.notion.control.faults)()
    return Client(auth=notion_sb.notion.token, base_url=notion_sb.notion_url)


@pytest.fixture()
def root(notion_sb: Sandbox, notion: Client) -> str:
    """A fresh page under the sandbox root for one test's objects."""
    page = notion.pages.create(
        parent={"page_id": notion_sb.notion.root_page_id}, properties={"title": [{"text": {"content": "test page"}}]}
    )
    return page["id"]


@pytest.fixture()
def fresh_notion() -> Iterator[Callable[..., Sandbox]]:
    """Factory for private sandboxes (own clock, state, limits); all stopped at teardown."""
    started: list[Sandbox] = []

    def make(**options: object) -> Sandbox:
        sb = Sandbox(SandboxOptions(langsmith=False, **{"rate_limit": False, **options})).start()
        started.append(sb)
        return sb

    yield make
    for sb in started:
        sb.stop()


@pytest.fixture()
def make_ds(notion: Client, root: str) -> Callable[..., str]:
    """Factory: a database with one data source under the test's page; returns the data source id."""

    def make(
        properties: dict | None = None, title: str = "Ratings", client: Client | None = None, parent: str | None = None
    ) -> str:
        db = (client or notion).databases.create(
            parent={"type": "page_id", "page_id": parent or root},
            title=[{"text": {"content": title}}],
            initial_data_source={"properties": properties or {"Name": {"title": {}}}},
        )
        return db["data_sources"][0]["id"]

    return make

"""Fixtures shared by the product's tests: one sandbox (both emulators) per session, reset for each test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from state_backend import backend, fresh_state_url

from notion_feedback.config import Settings
from notion_feedback.sandbox.server import Sandbox, SandboxOptions
from notion_feedback.smith import projects
from notion_feedback.testing import FAST, sandbox_settings


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--slow", action="store_true", help="also run the long trials (fault storms, killed processes)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave the long trials out of the default run; ``--slow`` adds them, ``-m slow`` selects only them."""
    if config.getoption("--slow") or config.getoption("-m"):
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]


def pytest_report_header(config: pytest.Config) -> str:
    return f"state store: {backend()}"


REPO = Path(__file__).resolve().parents[1]


@pytest.fixture()
def state_url(tmp_path: Path) -> str:
    """A fresh state store for this test (SQLite, or PostgreSQL under NOTION_FEEDBACK_TEST_POSTGRES)."""
    return fresh_state_url(tmp_path)


@pytest.fixture(scope="session")
def sandbox_session() -> Iterator[Sandbox]:
    with Sandbox(SandboxOptions(rate_limit=False)) as sb:
        yield sb


@pytest.fixture()
def sandbox(sandbox_session: Sandbox) -> Iterator[Sandbox]:
    """Both emulators, empty (but for Notion's root page), without rate limits or faults."""
    for emulator in (sandbox_session.notion, sandbox_session.langsmith):
        emulator.control.reset()
        emulator.control.set_limits(enabled=False)
    projects.forget()  # the reset deleted every project: ids this process remembered are gone
    yield sandbox_session


@pytest.fixture()
def settings(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, state_url: str) -> Settings:
    """Settings pointing at the sandbox, with state under a temporary home (no .env is read)."""
    monkeypatch.chdir(tmp_path)
    return sandbox_settings(
        sandbox.env(),
        tmp_path / "home",
        state_url=None if state_url.startswith("sqlite") else state_url,
        langsmith_project="notion-feedback-tests",
        **FAST,
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Chromium (Debian's), one per test module; fails with how to install it when missing."""
    from browser_support import CHROMIUM_ARGS, chromium_path
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()

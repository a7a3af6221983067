"""Shared fixtures for the LangSmith emulator tests: one LangSmith-only sandbox per session, reset per test,
and real ``langsmith.Client`` instances pointed at it (sync and background-batched)."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from typing import Any

import langsmith
import pytest
from contract_fixtures import contract_dir

from notion_feedback.sandbox.server import Sandbox, SandboxOptions


def load_payloads() -> dict[str, dict[str, Any]]:
    """Payloads the real LangSmith SDK sent (see ``contract_fixtures``); skips the calling test when absent."""
    folder = contract_dir("langsmith-sdk-payloads")
    return {p.name: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


@pytest.fixture(scope="session")
def ls_sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxOptions(notion=False, rate_limit=False)) as sb:
        yield sb


@pytest.fixture()
def ls(ls_sandbox: Sandbox) -> Iterator[Any]:
    """The emulator, emptied, limits off, no faults."""
    em = ls_sandbox.langsmith
    em.control.reset()
    em.control.set_limits(enabled=False)
    yield em
    em.control.reset()


def make_client(em: Any, **kw: Any) -> langsmith.Client:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return langsmith.Client(api_url=em.base_url, api_key=em.api_key, **kw)


@pytest.fixture()
def client(ls: Any) -> langsmith.Client:
    """Synchronous: every create/update is its own request (``auto_batch_tracing=False``)."""
    return make_client(ls, auto_batch_tracing=False)


@pytest.fixture()
def bg_client(ls: Any) -> Iterator[langsmith.Client]:
    """The SDK's default background path (multipart, zstd); call ``flush()`` before reading."""
    c = make_client(ls)
    yield c
    c.flush()


# Apply in each test module: the SDK deprecates list_runs/read_run, which these tests exercise on purpose.
QUIET = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::langsmith.utils.LangSmithWarning")

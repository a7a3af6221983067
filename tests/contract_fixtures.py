"""Where the recorded real-API material lives, for the tests that hold the sandbox to it.

The material (real Notion HTTP recordings, payloads the real LangSmith SDK sent) is not part of the repository.
``NOTION_FEEDBACK_CONTRACT_FIXTURES`` names the folder holding ``notion-cassettes/`` and
``langsmith-sdk-payloads/``; without it, ``../fixtures`` of a ``shared`` folder beside the clone is used when it
exists. When neither is there the contract tests skip with one line saying so, except when
``NOTION_FEEDBACK_REQUIRE_CONTRACT=1`` (set by ``.ci/run``): then a missing folder fails the run, so CI can never
pass with the contract tests quietly skipped.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ENV_DIR = "NOTION_FEEDBACK_CONTRACT_FIXTURES"
ENV_REQUIRE = "NOTION_FEEDBACK_REQUIRE_CONTRACT"
DEFAULT_DIR = REPO.parent / "shared" / "fixtures"


def fixtures_root() -> Path:
    """The configured folder (it may not exist)."""
    configured = os.environ.get(ENV_DIR, "").strip()
    return Path(configured).expanduser() if configured else DEFAULT_DIR


def contract_dir(name: str) -> Path:
    """``<fixtures>/<name>``, or skip (fail under ``NOTION_FEEDBACK_REQUIRE_CONTRACT=1``) when it is absent."""
    folder = fixtures_root() / name
    if folder.is_dir() and any(folder.iterdir()):
        return folder
    reason = f"contract fixtures not found at {folder}: set {ENV_DIR} to the folder holding {name}/"
    if os.environ.get(ENV_REQUIRE) == "1":
        pytest.fail(reason + f" ({ENV_REQUIRE}=1 requires them)")
    pytest.skip(reason)

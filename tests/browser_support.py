"""Headless Chromium from Debian's packages for the browser tests (Playwright's own download is never used)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium") or "", shutil.which("chromium-browser") or ""):
        if candidate and Path(candidate).exists():
            return candidate
    if os.environ.get("NOTION_FEEDBACK_SKIP_BROWSER") == "1":
        pytest.skip("NOTION_FEEDBACK_SKIP_BROWSER=1 and Chromium is not installed")
    pytest.fail(
        "Chromium is not installed: run `scripts/install-browser` (as root: apt-get install chromium), "
        "or set NOTION_FEEDBACK_SKIP_BROWSER=1 on a machine that cannot run browsers"
    )

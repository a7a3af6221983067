"""The package's public names: all resolve, and importing the package stays cheap for an agent process."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

import notion_feedback
from notion_feedback import errors


def test_importing_the_package_loads_neither_matplotlib_nor_the_report_nor_the_sync_engine() -> None:
    code = (
        "import json, sys, notion_feedback\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {'matplotlib', 'notion_feedback'})))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=60)
    loaded = json.loads(out.stdout)
    assert not [m for m in loaded if m.startswith(("matplotlib", "notion_feedback.report", "notion_feedback.sync"))]


def test_every_public_name_resolves() -> None:
    for name in notion_feedback.__all__:
        assert getattr(notion_feedback, name) is not None, name
    from notion_feedback.report.publish import publish_report
    from notion_feedback.sync.engine import run_sync

    assert notion_feedback.publish_report is publish_report and notion_feedback.run_sync is run_sync


def test_every_public_error_is_exported() -> None:
    public = {
        name
        for name, obj in vars(errors).items()
        if inspect.isclass(obj) and issubclass(obj, errors.NotionFeedbackError) and not name.startswith("_")
    }
    assert public <= set(notion_feedback.__all__)

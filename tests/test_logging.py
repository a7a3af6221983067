"""The product's log handler follows sys.stderr, so a host that swaps it never gets a write to a closed file."""

from __future__ import annotations

import io
import logging
import sys

from notion_feedback.logs import setup_logging


def test_log_lines_go_to_the_current_stderr_and_secrets_stay_masked(monkeypatch) -> None:
    setup_logging("INFO", "text", secrets=["s3cr3t-value-123"])
    first = io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    logging.getLogger("notion_feedback.test").warning("first line")
    first.close()  # a CLI runner closes the stream it lent
    second = io.StringIO()
    monkeypatch.setattr(sys, "stderr", second)
    logging.getLogger("notion_feedback.test").warning("second line with s3cr3t-value-123")
    text = second.getvalue()
    assert "second line" in text and "s3cr3t-value-123" not in text
    assert "Logging error" not in text and "Traceback" not in text

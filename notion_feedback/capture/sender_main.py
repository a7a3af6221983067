"""``python -m notion_feedback.capture.sender_main --spool <path> [--parent <pid>]``: the recorder's sender process.

A module of its own so that ``-m`` does not run a second copy of ``sender`` (the package imports that one). Its
settings come from the environment the recorder passes (they hold the token; nothing secret is on the command
line), and what it prints is masked.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from notion_feedback.capture.sender import SpoolSender, describe
from notion_feedback.capture.spool import Spool
from notion_feedback.config import load_settings
from notion_feedback.errors import NotionFeedbackError
from notion_feedback.logs import setup_logging
from notion_feedback.masking import mask_secrets

log = logging.getLogger("notion_feedback.capture.sender")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m notion_feedback.capture.sender_main",
        description="Send the rows waiting in a recorder's spool to Notion (settings from the environment).",
    )
    parser.add_argument("--spool", type=Path, required=True, help="the spool file (NOTION_FEEDBACK_HOME/spool.sqlite3)")
    parser.add_argument("--parent", type=int, default=None, help="pid of the agent; exit once it is gone and done")
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())  # finish the request in flight, then exit
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    secrets: list[str] = []
    try:
        settings = load_settings(_env_file=None)
        secrets = settings.secrets()
        setup_logging(settings.log_level, settings.log_format, secrets)
        sender = SpoolSender(settings, Spool(args.spool), stop=stop)
    except NotionFeedbackError as exc:
        print(mask_secrets(f"notion-feedback sender: {exc}", secrets), file=sys.stderr)
        return 2
    try:
        sender.run_as_process(args.parent)
    except Exception as exc:  # noqa: BLE001 - one line, masked; the rows stay in the spool for the next sender
        log.error("the recorder's sender stopped: %s; rows wait in the spool", mask_secrets(describe(exc), secrets))
        return 1
    finally:
        sender.spool.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

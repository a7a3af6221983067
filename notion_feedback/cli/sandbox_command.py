"""``notion-feedback sandbox``: serve the local Notion and LangSmith emulators until interrupted."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import typer

from notion_feedback.demo.runner import ENV_FILE as DEMO_ENV
from notion_feedback.envfile import update_env_file
from notion_feedback.sandbox.server import Sandbox, SandboxOptions


def sandbox(
    host: str = typer.Option(
        "127.0.0.1", metavar="HOST", help="Loopback address to bind (127.0.0.1, localhost or ::1)."
    ),
    notion_port: int = typer.Option(0, metavar="PORT", help="Port of the Notion emulator; 0 picks a free one."),
    langsmith_port: int = typer.Option(0, metavar="PORT", help="Port of the LangSmith emulator; 0 picks a free one."),
    data_dir: Path | None = typer.Option(
        None,
        metavar="DIR",
        help="Keep the emulated workspaces in SQLite here, so they survive a restart (default: memory).",
    ),
    rate_limit: bool | None = typer.Option(
        None,
        "--rate-limit/--no-rate-limit",
        help="Emulate the services' rate limits (Notion ~3 req/s; LangSmith per endpoint). Default: as the sandbox "
        "in --data-dir last ran, else on.",
    ),
) -> None:
    """Run local emulators of the Notion and LangSmith APIs that the real SDKs cannot tell apart.

    Prints one NAME=value line per setting on stdout (and where to look on stderr), then serves until Ctrl-C.
    To use them from another shell, keep them in a file, wait for its last line (the admin token), and load it
    (NOTION_BASE_URL, NOTION_TOKEN, ... are then set):

        notion-feedback sandbox --data-dir ./ws > sandbox.env &
        until grep -qs ADMIN_TOKEN sandbox.env; do sleep 0.2; done
        set -a; . ./sandbox.env; set +a

    With --data-dir the workspaces survive a restart, and the sandbox opens again on the ports and rate limits
    it had, so a saved sandbox.env (or the demo's DIR/demo.env) stays right.

    Admin routes on each server, with Authorization: Bearer $NOTION_SANDBOX_ADMIN_TOKEN (printed with the rest):
    GET /_sandbox/stats, POST /_sandbox/reset, POST /_sandbox/faults
    (e.g. {"status": {"500": 0.1}, "latency_ms": 50, "storm_seconds": 10}), POST /_sandbox/clock.
    """
    try:
        sb = Sandbox(
            SandboxOptions(
                host=host,
                notion_port=notion_port,
                langsmith_port=langsmith_port,
                data_dir=data_dir,
                rate_limit=rate_limit,
            )
        ).start()
    except (OSError, ValueError) as exc:
        typer.secho(f"error: cannot start the sandbox: {exc}", fg="red", err=True)
        typer.secho("fix: pick free ports (or 0), and a loopback --host", fg="yellow", err=True)
        raise typer.Exit(2) from None
    stop = threading.Event()  # before the lines go out: whoever read them may stop us at once
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    if data_dir is not None and (data_dir / DEMO_ENV).exists():  # a demo's settings follow the sandbox
        update_env_file(data_dir / DEMO_ENV, sb.env())
    for name, value in sb.env().items():
        typer.echo(f"{name}={value}")
    viewer = getattr(sb.notion, "viewer_url", None)
    if viewer:
        typer.echo(f"# workspace viewer: {viewer}", err=True)
    typer.echo("# serving; Ctrl-C to stop", err=True)
    try:
        stop.wait()
    finally:
        sb.stop()


def register(app: typer.Typer) -> None:
    app.command(rich_help_panel="Try it")(sandbox)

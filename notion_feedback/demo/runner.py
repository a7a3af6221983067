"""The demo, end to end on the local sandbox: workspace, traffic, ratings, sync, reports, then the daemon.

Steps, each skipped when the data directory shows it was done (so a re-run never duplicates anything):

1. start both emulators with their state under ``<data-dir>/sandbox`` (Notion's rate limit on, as in real life);
2. point this process's settings at them through environment variables, so the jobs' ``load_settings()`` agrees;
3. ``init``: the Feedback and Reports data sources under the sandbox's root page;
4. traffic through the capture API (``interaction`` + ``Recorder``); rows already in Notion (by Run ID) are skipped;
5. ratings and comments as people would make them in Notion (the emulator's person actor);
6. a sync pass, the daily reports of the last days and the last weekly rollup;
7. unless ``once``: the daemon on the quick schedule until Ctrl-C.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from notion_client import Client
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from notion_feedback.config import Settings, load_settings
from notion_feedback.demo.traffic import Synthetic, generate, send
from notion_feedback.errors import DemoError
from notion_feedback.notion.schema import FEEDBACK, property_name
from notion_feedback.notion.text import plain_text
from notion_feedback.private_files import write_private
from notion_feedback.sandbox.langsmith.constants import STATS_LIMIT_ENV
from notion_feedback.sandbox.server import Sandbox, SandboxOptions
from notion_feedback.state import get_value, open_state, set_value

log = logging.getLogger(__name__)

PROJECT = "support-agent-demo"
TRAFFIC_KEY = "demo.traffic"
RATINGS_KEY = "demo.ratings"
ENV_FILE = "demo.env"
DAILY_BACKFILL = 3  # daily report pages published at once (the trend charts still cover every day)


@dataclass
class DemoOptions:
    data_dir: Path = Path("demo-data")
    once: bool = False
    days: int = 14
    per_day: int = 10
    seed: int = 7
    notion_port: int = 0
    langsmith_port: int = 0
    rate_limit: bool = True
    daily_reports: int = DAILY_BACKFILL
    weekly: bool = True


@dataclass
class DemoResult:
    viewer_url: str
    interactions: int
    new_interactions: int
    ratings: int
    sync: dict[str, Any]
    reports: list[dict[str, Any]]
    env: dict[str, str]
    seconds: dict[str, float] = field(default_factory=dict)
    learn: dict[str, Any] = field(default_factory=dict)


def _demo_env(sb: Sandbox, data_dir: Path, rate_limit: bool = True) -> dict[str, str]:
    """Everything that points the product at the sandbox; product state lives under the data directory."""
    env = sb.env()
    root = env.pop("NOTION_SANDBOX_ROOT_PAGE_ID")
    home = (data_dir / "home").resolve()
    env |= {
        "NOTION_FEEDBACK_PARENT_PAGE_ID": root,
        "NOTION_FEEDBACK_HOME": str(home),
        "NOTION_FEEDBACK_STATE_URL": f"sqlite:///{home / 'state.sqlite3'}",
        "LANGSMITH_PROJECT": PROJECT,
        "NOTION_FEEDBACK_RATING_SCALE": "1-5",
        "NOTION_FEEDBACK_PROPERTY_MAP": "{}",
        "NOTION_FEEDBACK_SAMPLE_RATE": "1.0",
        # Nothing else talks to Notion while the traffic is recorded, so the recorder may use the whole budget
        # (still under the emulated ~3 requests/s: the emulator's rate limit stays on).
        "NOTION_FEEDBACK_RECORDER_REQUESTS_PER_SECOND": "2.5",
        "NOTION_FEEDBACK_RECORDER_FLUSH_SECONDS": "600",
        # The emulated LangSmith allows the EU figure for /runs/stats (see start_sandbox); the product paces to it.
        "NOTION_FEEDBACK_LANGSMITH_STATS_PER_10S": "20",
        "LANGSMITH_TRACING": "false",  # the demo traces explicitly; the SDK's own auto-tracing stays off
        # Mark every synced row "Synced" (one more request per rating) so the viewer shows the loop closing.
        "NOTION_FEEDBACK_SYNC_STATUS_WRITEBACK": "all",
        "NOTION_FEEDBACK_LEASE_SECONDS": "15",  # a demo killed with -9 is replaced quickly by the next one
    }
    if not rate_limit:  # no emulated limit to respect (--no-rate-limit): the product need not pace itself either
        env |= {
            "NOTION_FEEDBACK_NOTION_REQUESTS_PER_SECOND": "100",
            "NOTION_FEEDBACK_NOTION_BURST": "50",
            "NOTION_FEEDBACK_RECORDER_REQUESTS_PER_SECOND": "100",
            "NOTION_FEEDBACK_LANGSMITH_REQUESTS_PER_SECOND": "500",
            "NOTION_FEEDBACK_LANGSMITH_STATS_PER_10S": "1000",
        }
    return env


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Set variables for the duration; afterwards the environment is exactly as before (whatever set meanwhile)."""
    saved = dict(os.environ)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _progress(console: Console) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _rows_by_run_id(client: Client, settings: Settings) -> dict[str, dict[str, Any]]:
    """Every Feedback row, by its Run ID (two requests per 200 rows)."""
    name = property_name(FEEDBACK.run_id, settings.property_map)
    out: dict[str, dict[str, Any]] = {}
    cursor = None
    while True:
        body: dict[str, Any] = {"page_size": 100}
        if cursor:
            body["start_cursor"] = cursor
        page = client.data_sources.query(settings.feedback_data_source_id, **body)
        for row in page["results"]:
            run_id = plain_text(row["properties"].get(name, {}).get("rich_text", []))
            if run_id:
                out[run_id] = row
        if not page.get("has_more"):
            return out
        cursor = page["next_cursor"]


def person_client(settings: Settings) -> Client:
    """Notion as a workspace member uses it: edits are a person's, and (like the app) not the integration's
    API traffic, so they neither count against its rate limit nor meet injected faults."""
    token = settings.notion_token.get_secret_value() if settings.notion_token else ""
    client = Client(
        auth=token,
        base_url=settings.notion_base_url,
        notion_version=settings.notion_api_version,
        logger=logging.getLogger("notion_feedback.demo"),
    )
    client.client.headers.update({"X-Sandbox-Actor": "person", "X-Sandbox-Bypass": "1"})  # set after the SDK's own
    return client


def rate_like_people(settings: Settings, items: list[Synthetic], on_each: Callable[[], None] | None = None) -> int:
    """Set Rating (and sometimes Comment) on the rows people rated, as they would in Notion."""
    client = person_client(settings)
    rows = _rows_by_run_id(client, settings)
    rating_prop = property_name(FEEDBACK.rating, settings.property_map)
    comment_prop = property_name(FEEDBACK.comment, settings.property_map)
    done = 0
    for item in items:
        row = rows.get(item.run_id)
        if item.rating is None or row is None:
            continue
        current = (row["properties"].get(rating_prop, {}).get("select") or {}).get("name")
        if current != str(item.rating):
            props: dict[str, Any] = {rating_prop: {"select": {"name": str(item.rating)}}}
            if item.comment:
                props[comment_prop] = {"rich_text": [{"type": "text", "text": {"content": item.comment}}]}
            client.pages.update(row["id"], properties=props)
        done += 1
        if on_each:
            on_each()
    return done


class Demo:
    def __init__(self, options: DemoOptions, console: Console | None = None) -> None:
        self.options = options
        self.console = console or Console(stderr=True)
        self.sandbox: Sandbox | None = None
        self.env: dict[str, str] = {}
        self._env_context: Any = None

    # -- steps -------------------------------------------------------------------------------------------------------

    def start_sandbox(self) -> Sandbox:
        opts = self.options
        # LangSmith documents /runs/stats at 1 request per 10 s per key in the US region and 20 per 10 s in the EU;
        # reports make about ten such calls on a cold cache, so the demo emulates the EU figure (unless told).
        stats_limit = {STATS_LIMIT_ENV: os.environ.get(STATS_LIMIT_ENV, "20/10")}
        try:
            with _environment(stats_limit):
                self.sandbox = Sandbox(
                    SandboxOptions(
                        notion_port=opts.notion_port,
                        langsmith_port=opts.langsmith_port,
                        data_dir=opts.data_dir,  # the same directory `notion-feedback sandbox --data-dir` opens
                        rate_limit=opts.rate_limit,
                    )
                ).start()
        except OSError as exc:
            raise DemoError(
                f"cannot start the sandbox: {exc}", "pick free ports with --notion-port/--langsmith-port (or 0)"
            ) from exc
        return self.sandbox

    def settings(self) -> Settings:
        return load_settings()

    def init_workspace(self) -> Settings:
        from notion_feedback.setup.workspace import init_workspace

        settings = self.settings()
        ids = init_workspace(settings, self.env["NOTION_FEEDBACK_PARENT_PAGE_ID"])
        self.env |= ids.env()
        os.environ.update(ids.env())
        return self.settings()

    def traffic(self, settings: Settings, items: list[Synthetic]) -> int:
        """Send the interactions not yet in Notion; returns how many were new."""
        from notion_feedback.capture import Recorder
        from notion_feedback.notion.client import make_notion_client
        from notion_feedback.smith.client import make_langsmith_client

        engine = open_state(settings.resolved_state_url)
        marker = json.dumps(
            {
                "days": self.options.days,
                "per_day": self.options.per_day,
                "seed": self.options.seed,
                "count": len(items),
                "last": items[-1].run_id if items else None,
            }
        )
        with engine.connect() as conn:
            done = get_value(conn, TRAFFIC_KEY)
        if done == marker:
            return 0
        existing = _rows_by_run_id(make_notion_client(settings), settings)
        todo = [item for item in items if item.run_id not in existing]
        if todo:
            smith = make_langsmith_client(settings)
            recorder = Recorder(settings, langsmith_client=smith)
            try:
                with _progress(self.console) as bar:
                    task = bar.add_task("agent traffic (traced in LangSmith)", total=len(todo))
                    send(todo, recorder, smith, settings.langsmith_project, on_each=lambda _: bar.advance(task))
                    rows = bar.add_task("rows written to Notion by the recorder", total=len(todo))
                    while recorder.pending():
                        bar.update(rows, completed=len(todo) - recorder.pending())
                        recorder.flush(timeout=0.5)
                    bar.update(rows, completed=len(todo))
            finally:
                recorder.close(timeout=60)
            if recorder.stats.failed:
                raise DemoError(
                    f"{recorder.stats.failed} rows were refused by the Notion emulator",
                    "see the log above; delete the data directory to start the demo afresh",
                )
        with engine.begin() as conn:
            set_value(conn, TRAFFIC_KEY, marker)
        return len(todo)

    def ratings(self, settings: Settings, items: list[Synthetic]) -> int:
        engine = open_state(settings.resolved_state_url)
        with engine.connect() as conn:
            if get_value(conn, RATINGS_KEY):
                return 0
        rated = [item for item in items if item.rating is not None]
        with _progress(self.console) as bar:
            task = bar.add_task("people rate answers in Notion", total=len(rated))
            count = rate_like_people(settings, items, on_each=lambda: bar.advance(task))
        with engine.begin() as conn:
            set_value(conn, RATINGS_KEY, str(count))
        return count

    def sync(self, settings: Settings) -> dict[str, Any]:
        from notion_feedback.daemon.jobruns import SYNC_JOB, run_recorded, summary_of
        from notion_feedback.sync.engine import SyncSummary, run_sync

        with _progress(self.console) as bar:
            task = bar.add_task("sync ratings → LangSmith feedback", total=None)

            def progress(summary: Any) -> None:
                bar.update(task, completed=summary.rows_seen)

            summary = run_recorded(
                settings, SYNC_JOB, lambda: run_sync(settings, progress=progress), SyncSummary.counts
            )
        return {k: v for k, v in summary_of(summary).items() if not isinstance(v, list)}

    def learn(self, settings: Settings) -> dict[str, Any]:
        """The datasets and the review queue from the ratings just synced (the daemon's `learn` job)."""
        from notion_feedback.daemon.jobruns import LEARN_JOB, run_recorded
        from notion_feedback.learn import LearnResult, run_learn

        with _progress(self.console) as bar:
            task = bar.add_task("datasets and review queue from the ratings", total=None)
            result = run_recorded(
                settings,
                LEARN_JOB,
                lambda: run_learn(settings, progress=lambda _step, n: bar.advance(task, n)),
                LearnResult.counts,
            )
        return result.counts()

    def reports(self, settings: Settings) -> list[dict[str, Any]]:
        from notion_feedback.cli.common import ReportProgress
        from notion_feedback.daemon.jobruns import REPORT_JOBS, run_recorded
        from notion_feedback.report.kpi import last_complete, period_range
        from notion_feedback.report.publish import ReportResult, publish_report
        from notion_feedback.smith.client import make_langsmith_client, observe_rate_limit_waits

        today = datetime.now(UTC).astimezone(ZoneInfo(settings.timezone)).date()
        anchors: list[tuple[str, date]] = []
        last_day = last_complete("day", today)
        anchors += [("day", last_day - timedelta(days=i)) for i in range(self.options.daily_reports - 1, -1, -1)]
        if self.options.weekly:
            week = period_range("week", last_complete("week", today))[0]
            anchors.append(("week", week))
        out = []
        smith = make_langsmith_client(settings)
        with _progress(self.console) as bar:
            shown = ReportProgress(bar, bar.add_task("report pages", total=len(anchors)))
            observe_rate_limit_waits(smith, shown.waiting)
            for period, anchor in anchors:
                step = partial(shown.step, f"report: {period} {anchor}")
                step("starting")
                publish = partial(publish_report, settings, period, anchor, smith=smith, progress=step)
                out.append(run_recorded(settings, REPORT_JOBS[period], publish, ReportResult.as_dict).as_dict())
                bar.advance(shown.task)
        return out

    # -- the whole demo ----------------------------------------------------------------------------------------------

    def __enter__(self) -> Demo:
        """Start the sandbox and point this process at it (environment variables, so every job agrees)."""
        self.options.data_dir.mkdir(parents=True, exist_ok=True)
        sb = self.start_sandbox()
        self.env = _demo_env(sb, self.options.data_dir, self.options.rate_limit)
        self._env_context = _environment(self.env)
        self._env_context.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.stop()
        finally:
            if self._env_context is not None:
                self._env_context.__exit__(None, None, None)
                self._env_context = None

    def cycle(self) -> DemoResult:
        """Workspace, traffic, ratings, sync, reports: each step skipped when already done."""
        opts, sb = self.options, self.sandbox
        assert sb is not None, "use the demo as a context manager"
        timings: dict[str, float] = {}
        clock = time.monotonic()

        def lap(name: str) -> None:
            nonlocal clock
            now = time.monotonic()
            timings[name] = round(now - clock, 1)
            clock = now

        self.console.print(f"[bold]Sandbox[/] Notion {sb.notion_url}  LangSmith {sb.langsmith_url}", soft_wrap=True)
        settings = self.init_workspace()
        lap("init")
        items = generate(opts.days, opts.per_day, opts.seed, settings.timezone)
        new = self.traffic(settings, items)
        lap("traffic")
        rated = self.ratings(settings, items)
        lap("ratings")
        sync = self.sync(settings)
        lap("sync")
        learned = self.learn(settings)
        lap("learn")
        reports = self.reports(settings)
        lap("reports")
        self.write_env_file()
        return DemoResult(
            viewer_url=sb.notion.viewer_url,
            interactions=len(items),
            new_interactions=new,
            ratings=rated,
            sync=sync,
            reports=reports,
            env=dict(self.env),
            seconds=timings,
            learn=learned,
        )

    def run(self) -> DemoResult:
        """The `demo` command: one cycle, then (unless ``once``) the daemon on the quick schedule until Ctrl-C."""
        with self:
            result = self.cycle()
            if not self.options.once:
                show_where_to_look(self.console, result, self.options)
                self.keep_running(self.settings())
            return result

    def keep_running(self, settings: Settings) -> None:
        from notion_feedback.daemon.scheduler import Daemon

        self.console.print("[bold]Daemon[/] running on the quick schedule (sync every 20 s); Ctrl-C to stop.")
        Daemon(settings, quick=True).run()
        self.console.print(f"Stopped. The workspace stays in {self.options.data_dir}: run the demo again to resume.")

    def write_env_file(self) -> Path:
        """The settings that reach this demo's workspace again (`notion-feedback sandbox --data-dir` + these)."""
        path = self.options.data_dir / ENV_FILE
        keep = [k for k in self.env if not k.startswith("NOTION_FEEDBACK_RECORDER_")]
        write_private(path, "".join(f"{k}={self.env[k]}\n" for k in keep))  # it holds the sandbox's tokens
        path.chmod(0o600)
        return path

    def stop(self) -> None:
        if self.sandbox is not None:
            self.sandbox.stop()
            self.sandbox = None


def show_where_to_look(console: Console, result: DemoResult, options: DemoOptions) -> None:
    """Addresses and commands each on a line of its own that the console never wraps (``soft_wrap``), so a narrow
    terminal cannot break one in the middle and each copies whole."""
    viewer = result.viewer_url
    console.print()
    console.print("[bold green]Workspace viewer:[/]")
    console.print(f"  {escape(viewer)}", soft_wrap=True, highlight=False)
    console.print("  Feedback rows: rate an answer there (Rating dropdown); the next sync sends it to LangSmith.")
    for report in result.reports:
        console.print(f"  Report {report['period']} {report['start']}:", highlight=False)
        console.print(f"    {escape(viewer)}page/{escape(report['page_id'])}", soft_wrap=True, highlight=False)
    ports = " ".join(
        f"--{name}-port {url.rsplit(':', 1)[1]}"
        for name, url in (("notion", result.env["NOTION_BASE_URL"]), ("langsmith", result.env["LANGSMITH_ENDPOINT"]))
    )
    env_file = shlex.quote(str(options.data_dir / ENV_FILE))
    console.print("[bold]Open this workspace again:[/]")
    command = f"notion-feedback sandbox --data-dir {shlex.quote(str(options.data_dir))} {ports}"
    console.print(f"  {escape(command)}", soft_wrap=True, highlight=False)
    console.print("  then use its settings:")
    console.print(f"  set -a; . {escape(env_file)}; set +a", soft_wrap=True, highlight=False)

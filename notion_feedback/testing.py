"""Sandbox fixtures for a team's own tests of its agent, in the spirit of httpx's ``MockTransport`` and moto's
``mock_aws``: both emulators on 127.0.0.1, a ready workspace, and a person's hands on the rows.

    from notion_feedback.capture import Recorder, interaction
    from notion_feedback.sync.engine import run_sync
    from notion_feedback.testing import sandbox

    def test_a_rating_reaches_langsmith() -> None:
        with sandbox() as sb:                        # emulators up, workspace initialised, temp home
            recorder = Recorder(sb.settings)
            with interaction("my-agent") as it:          # traced into the sandbox's LangSmith
                it.end({"answer": "42"})
            recorder.record(it, question="meaning?", answer="42")
            assert recorder.close(timeout=30)
            (row,) = sb.rows()
            sb.edit(row["id"], rating="5", comment="spot on")   # as a person would, in Notion
            run_sync(sb.settings)
            assert [f["score"] for f in sb.feedback().values()] == [5.0]

Plain functions and a dataclass, no pytest plugin: ``sandbox()`` is a context manager that stops its servers and
removes its temporary folder on exit; ``make_world`` does the same set-up on a sandbox the caller already runs (a
session-wide one, reset between tests). ``sb.settings`` points at the emulators with the state store and private
files under the temporary home; ``sb.notion`` and ``sb.langsmith`` are the real SDK clients; ``sb.admin`` is the
running :class:`~notion_feedback.sandbox.server.Sandbox` (faults, clock, request counts, bulk loaders).

The fault trial (``bench/fault_trial.py``) is not here: it is a benchmark of the product's own guarantees that no
user's test needs, so it stays a script, and its test runs it as one; what it shares with the tests (this module's
workspace, rows and feedback read-back) is what a user's test shares with them too.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import langsmith
import notion_client
from langsmith.run_trees import RunTree

from notion_feedback.config import Settings
from notion_feedback.errors import LangSmithAccessError, SandboxRequestError
from notion_feedback.notion.schema import FEEDBACK, property_name
from notion_feedback.notion.text import rich_text, title_text
from notion_feedback.sandbox.server import Sandbox, SandboxOptions
from notion_feedback.setup.workspace import init_workspace
from notion_feedback.smith.feedback import feedback_id

NOTION_VERSION = "2025-09-03"
_RETRIED = (429, 500, 502, 503, 504, 529)  # a person's browser tries again; faults are for the product's requests
# What `Sandbox.env()` prints that is a setting under the same name (the root page is the workspace's parent).
_SETTINGS = ("NOTION_TOKEN", "NOTION_BASE_URL", "LANGSMITH_API_KEY", "LANGSMITH_ENDPOINT", "LANGSMITH_WEB_URL")
# Fast enough that a test never waits on the product's own budgets (the emulators' limits are off by default).
FAST = {
    "notion_requests_per_second": 50,
    "notion_burst": 50,
    "recorder_requests_per_second": 50,
    "langsmith_requests_per_second": 1000,
    "langsmith_stats_per_10s": 10000,
}


def sandbox_settings(env: dict[str, str], home: Path, **overrides: Any) -> Settings:
    """Settings for the sandbox whose variables are ``env``, with state under ``home``; no .env is read, so a
    developer's own settings never leak into a test."""
    values: dict[str, Any] = {name: env[name] for name in _SETTINGS if name in env}
    if "NOTION_SANDBOX_ROOT_PAGE_ID" in env:
        values["parent_page_id"] = env["NOTION_SANDBOX_ROOT_PAGE_ID"]
    return Settings(_env_file=None, **values, home=home, **overrides)


def fresh_state_url(folder: Path, postgres_server: str | None = None) -> str:
    """A state store nobody has used: a new SQLite file under ``folder``, or a new database on
    ``postgres_server`` (a ``postgresql://`` URL with the right to create databases)."""
    if not postgres_server:
        return f"sqlite:///{folder / 'state' / 'state.sqlite3'}"
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"nf_{uuid.uuid4().hex[:16]}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return make_url(postgres_server).set(database=name).render_as_string(hide_password=False)


@dataclass
class World:
    """A ready Feedback data source and LangSmith project on a running sandbox, and the settings for both."""

    settings: Settings
    project_id: str
    notion_url: str
    notion_token: str
    langsmith: langsmith.Client
    admin: Sandbox | None = None

    @property
    def ds_id(self) -> str:
        return self.settings.feedback_data_source_id  # type: ignore[return-value]

    @property
    def notion(self) -> notion_client.Client:
        """The real Notion SDK on the emulator, as the integration (the product's own identity)."""
        return notion_client.Client(auth=self.notion_token, base_url=self.notion_url, notion_version=NOTION_VERSION)

    def prop(self, key: str) -> str:
        """The column's name for a schema key (``rating``, ``run_id``…), after the settings' property map."""
        return property_name(getattr(FEEDBACK, key), self.settings.property_map)

    # -- LangSmith side ---------------------------------------------------------------------------------
    def trace_runs(self, n: int) -> list[str]:
        """``n`` root runs traced with the real SDK into the project."""
        ids = []
        for i in range(n):
            run = RunTree(
                name="agent",
                run_type="chain",
                inputs={"question": f"q{i}"},
                project_name=self.settings.langsmith_project,
                ls_client=self.langsmith,
            )
            run.post()
            run.end(outputs={"answer": f"a{i}"})
            run.patch()
            ids.append(str(run.id))
        return ids

    def batch_runs(self, n: int) -> list[str]:
        """``n`` finished root runs, sent with the real SDK's batch ingestion (one request per 100 runs)."""
        now = datetime.now(UTC)
        ids = [str(uuid.uuid4()) for _ in range(n)]
        for start in range(0, n, 100):
            creates = [
                {
                    "id": rid,
                    "trace_id": rid,
                    "dotted_order": f"{now:%Y%m%dT%H%M%S%fZ}{rid}",
                    "name": "agent",
                    "run_type": "chain",
                    "inputs": {"question": f"q{start + i}"},
                    "outputs": {"answer": f"a{start + i}"},
                    "start_time": now,
                    "end_time": now,
                    "session_name": self.settings.langsmith_project,
                }
                for i, rid in enumerate(ids[start : start + 100])
            ]
            self.langsmith.batch_ingest_runs(create=creates)
        return ids

    def feedback(self) -> dict[str, dict[str, Any]]:
        """Every feedback with the rating key, by id: {id: {run_id, score, comment}}."""
        out = {}
        for fb in self.langsmith.list_feedback(feedback_key=[self.settings.rating_key]):
            out[str(fb.id)] = {"run_id": str(fb.run_id), "score": fb.score, "comment": fb.comment or None}
        return out

    def fid(self, page_id: str) -> str:
        """The feedback id the sync gives a row's rating (derived from the page, so a retry never duplicates)."""
        return feedback_id(page_id, self.settings.rating_key)

    def expected_feedback(self) -> dict[str, dict[str, Any]]:
        """The feedback the Notion rows call for, read back from Notion itself (the source of truth)."""
        out: dict[str, dict[str, Any]] = {}
        for row in self.rows():
            props = row["properties"]
            rating = (props[self.prop("rating")].get("select") or {}).get("name")
            comment = "".join(t["plain_text"] for t in props[self.prop("comment")]["rich_text"]) or None
            if rating:
                out[self.fid(row["id"])] = {"run_id": self.run_id_of(row), "score": float(rating), "comment": comment}
        return out

    # -- Notion side ------------------------------------------------------------------------------------
    def rows(self) -> Iterator[dict[str, Any]]:
        """Every live row of the Feedback data source, read from Notion page by page."""
        cursor = None
        while True:
            body: dict[str, Any] = {"page_size": 100, **({"start_cursor": cursor} if cursor else {})}
            page = self.request("POST", f"/v1/data_sources/{self.ds_id}/query", body, person=False)
            yield from page["results"]
            cursor = page.get("next_cursor")
            if not page.get("has_more"):
                return

    def run_id_of(self, row: dict[str, Any]) -> str:
        return "".join(t["plain_text"] for t in row["properties"][self.prop("run_id")]["rich_text"])

    def row_properties(
        self, run_id: str | None, *, rating: str | None = None, comment: str | None = None, question: str = "q"
    ) -> dict[str, Any]:
        """A row's properties as the recorder writes them (for bulk loading), optionally already rated."""
        props: dict[str, Any] = {
            self.prop("question"): {"title": title_text(question)},
            self.prop("run_id"): {"rich_text": rich_text(run_id or "")},
            self.prop("project_id"): {"rich_text": rich_text(self.project_id)},
        }
        if rating is not None:
            props[self.prop("rating")] = {"select": {"name": rating}}
        if comment is not None:
            props[self.prop("comment")] = {"rich_text": rich_text(comment)}
        return props

    def request(self, method: str, path: str, body: dict[str, Any] | None = None, *, person: bool = True) -> Any:
        """One Notion API call made by a person (``person=False``: by the integration), retried through the
        emulator's injected faults so that only the product's own requests meet them."""
        headers = {
            "Authorization": f"Bearer {self.notion_token}",
            "Notion-Version": NOTION_VERSION,
            "x-sandbox-actor": "person" if person else "bot",
        }
        for _ in range(20):
            response = httpx.request(method, f"{self.notion_url}{path}", json=body, headers=headers, timeout=30)
            if response.status_code not in _RETRIED:
                break
        if response.is_error:
            raise SandboxRequestError(f"{method} {path} answered {response.status_code}: {response.text[:300]}")
        return response.json()

    def add_row(self, run_id: str | None, *, rating: str | None = None, comment: str | None = None) -> str:
        """A person adds a row (the recorder's is ``Recorder.record``); returns its page id."""
        body = {
            "parent": {"data_source_id": self.ds_id},
            "properties": self.row_properties(run_id, rating=rating, comment=comment),
        }
        return self.request("POST", "/v1/pages", body)["id"]

    def edit(self, page_id: str, **props: Any) -> dict[str, Any]:
        """A person edits the row: ``rating=``, ``comment=``, ``run_id=``, ``sync_status=`` (None clears)."""
        out: dict[str, Any] = {}
        for key, value in props.items():
            name = self.prop(key)
            if key in ("rating", "sync_status"):
                out[name] = {"select": {"name": value} if value else None}
            else:
                out[name] = {"rich_text": rich_text(value or "")}
        return self.request("PATCH", f"/v1/pages/{page_id}", {"properties": out})

    def trash(self, page_id: str) -> None:
        """A person deletes the row (Notion moves it to the trash)."""
        self.request("PATCH", f"/v1/pages/{page_id}", {"in_trash": True})

    def page(self, page_id: str) -> dict[str, Any]:
        return self.request("GET", f"/v1/pages/{page_id}", person=False)

    def shown(self, page_id: str) -> tuple[str | None, str]:
        """(Sync status, Sync error) as the row displays them."""
        props = self.page(page_id)["properties"]
        status = (props[self.prop("sync_status")].get("select") or {}).get("name")
        error = "".join(t["plain_text"] for t in props[self.prop("sync_error")]["rich_text"])
        return status, error


def make_world(sb: Sandbox, settings: Settings, **overrides: Any) -> World:
    """Create the workspace with the product's own ``init`` on a running sandbox and return a World whose
    settings point at it (``overrides`` are applied on top)."""
    from notion_feedback.smith import projects

    projects.forget()  # the per-process project cache outlives a sandbox's reset
    ids = init_workspace(settings, settings.parent_page_id)  # type: ignore[arg-type]
    update = {
        "feedback_data_source_id": ids.feedback_data_source_id,
        "reports_data_source_id": ids.reports_data_source_id,
        "langsmith_requests_per_second": 1000.0,
    }
    settings = settings.model_copy(update=update | overrides)
    env = sb.env()
    client = langsmith.Client(
        api_url=env["LANGSMITH_ENDPOINT"],
        api_key=env["LANGSMITH_API_KEY"],
        web_url=env.get("LANGSMITH_WEB_URL"),
        auto_batch_tracing=False,
    )
    if not ids.langsmith_project_id:
        raise LangSmithAccessError("init created no LangSmith project on the sandbox")
    return World(settings, ids.langsmith_project_id, env["NOTION_BASE_URL"], env["NOTION_TOKEN"], client, sb)


@contextmanager
def sandbox(*, rate_limit: bool = False, project: str = "agent-tests", **overrides: Any) -> Iterator[World]:
    """Both emulators on free loopback ports, a temporary home (state store, spool, private files) and an
    initialised workspace; everything is stopped and removed on exit, whatever the test did.

    ``rate_limit=True`` turns on the emulators' real-service limits; ``overrides`` are settings."""
    home = Path(tempfile.mkdtemp(prefix="notion-feedback-test-"))
    try:
        with Sandbox(SandboxOptions(rate_limit=rate_limit)) as sb:
            settings = sandbox_settings(sb.env(), home / "home", **(FAST | {"langsmith_project": project}))
            yield make_world(sb, settings, **overrides)
    finally:
        shutil.rmtree(home, ignore_errors=True)

"""Helpers for the sync tests and benches: a workspace on the sandbox, traced runs, rows, and a person's edits."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import langsmith
from langsmith.run_trees import RunTree

from notion_feedback.config import Settings
from notion_feedback.notion.schema import FEEDBACK, property_name
from notion_feedback.notion.text import rich_text, title_text
from notion_feedback.setup.workspace import init_workspace
from notion_feedback.smith.feedback import feedback_id


@dataclass
class World:
    """A ready Feedback data source, a LangSmith project, and the settings pointing at both."""

    settings: Settings
    project_id: str
    notion_url: str
    notion_token: str
    langsmith: langsmith.Client

    @property
    def ds_id(self) -> str:
        return self.settings.feedback_data_source_id  # type: ignore[return-value]

    def prop(self, key: str) -> str:
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
        """``n`` finished root runs, sent with the real SDK's batch ingestion (one request per 100 runs): a row
        per run, as the recorder writes them (one run takes one rating)."""
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

    def rows(self) -> Iterator[dict[str, Any]]:
        """Every live row of the Feedback data source, read from Notion page by page."""
        cursor = None
        while True:
            body: dict[str, Any] = {"page_size": 100, **({"start_cursor": cursor} if cursor else {})}
            page = self._request("POST", f"/v1/data_sources/{self.ds_id}/query", body, person=False)
            yield from page["results"]
            cursor = page.get("next_cursor")
            if not page.get("has_more"):
                return

    def run_id_of(self, row: dict[str, Any]) -> str:
        return "".join(t["plain_text"] for t in row["properties"][self.prop("run_id")]["rich_text"])

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

    def fid(self, page_id: str) -> str:
        return feedback_id(page_id, self.settings.rating_key)

    # -- Notion side ------------------------------------------------------------------------------------
    def row_properties(
        self, run_id: str | None, *, rating: str | None = None, comment: str | None = None, question: str = "q"
    ) -> dict[str, Any]:
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

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None, *, person: bool = True) -> Any:
        headers = {
            "Authorization": f"Bearer {self.notion_token}",
            "Notion-Version": "2025-09-03",
            "x-sandbox-actor": "person" if person else "bot",
        }
        for _ in range(20):
            response = httpx.request(method, f"{self.notion_url}{path}", json=body, headers=headers, timeout=30)
            if response.status_code not in (429, 500, 502, 503, 504, 529):
                break
        response.raise_for_status()
        return response.json()

    def add_row(self, run_id: str | None, *, rating: str | None = None, comment: str | None = None) -> str:
        body = {
            "parent": {"data_source_id": self.ds_id},
            "properties": self.row_properties(run_id, rating=rating, comment=comment),
        }
        return self._request("POST", "/v1/pages", body)["id"]

    def edit(self, page_id: str, **props: Any) -> dict[str, Any]:
        """A person edits the row: ``rating=``, ``comment=``, ``run_id=``, ``sync_status=`` (None clears)."""
        out: dict[str, Any] = {}
        for key, value in props.items():
            name = self.prop(key)
            if key in ("rating", "sync_status"):
                out[name] = {"select": {"name": value} if value else None}
            else:
                out[name] = {"rich_text": rich_text(value or "")}
        return self._request("PATCH", f"/v1/pages/{page_id}", {"properties": out})

    def page(self, page_id: str) -> dict[str, Any]:
        return self._request("GET", f"/v1/pages/{page_id}", person=False)

    def shown(self, page_id: str) -> tuple[str | None, str]:
        """(Sync status, Sync error) as the row displays them."""
        props = self.page(page_id)["properties"]
        status = (props[self.prop("sync_status")].get("select") or {}).get("name")
        error = "".join(t["plain_text"] for t in props[self.prop("sync_error")]["rich_text"])
        return status, error


def make_world(sb: Any, settings: Settings, **overrides: Any) -> World:
    """Create the workspace with the product's own ``init`` and return settings that point at it."""
    from notion_feedback.smith import projects

    projects.forget()  # the per-process project cache outlives the sandbox's reset
    ids = init_workspace(settings, settings.parent_page_id)  # type: ignore[arg-type]
    update = {"feedback_data_source_id": ids.feedback_data_source_id, "langsmith_requests_per_second": 1000.0}
    settings = settings.model_copy(update=update | overrides)
    env = sb.env()
    client = langsmith.Client(
        api_url=env["LANGSMITH_ENDPOINT"], api_key=env["LANGSMITH_API_KEY"], auto_batch_tracing=False
    )
    assert ids.langsmith_project_id
    return World(settings, ids.langsmith_project_id, env["NOTION_BASE_URL"], env["NOTION_TOKEN"], client)


def random_uuid() -> str:
    return str(uuid.uuid4())

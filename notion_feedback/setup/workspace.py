"""Set the workspace up: the Feedback and Reports data sources under a page, and their LangSmith counterparts.

Idempotent: what exists (by the ids in settings, else by title among the parent page's children) is found and
left as it is; only what is missing is created. The parent may be given as a page id (with or without dashes) or
as the URL a user copies from the browser, in any of Notion's URL forms.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from typing import Any

from notion_client import APIResponseError
from notion_client.helpers import iterate_paginated_api

from notion_feedback.config import Settings, require
from notion_feedback.errors import ConfigError, LangSmithAccessError
from notion_feedback.notion.access import access_error
from notion_feedback.notion.client import make_notion_client
from notion_feedback.notion.ids import parse_notion_id
from notion_feedback.notion.schema import (
    FEEDBACK,
    FEEDBACK_TITLE,
    REPORTS,
    REPORTS_TITLE,
    SCALES,
    SYNC_STATUS_OPTIONS,
    Prop,
    property_name,
)

log = logging.getLogger(__name__)


@dataclass
class WorkspaceIds:
    """What ``init`` found or created; ``env_lines()`` gives the settings that point the product at it."""

    parent_page_id: str
    feedback_database_id: str
    feedback_data_source_id: str
    reports_database_id: str
    reports_data_source_id: str
    langsmith_project_id: str | None = None
    created: list[str] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        return {
            "NOTION_FEEDBACK_PARENT_PAGE_ID": self.parent_page_id,
            "NOTION_FEEDBACK_FEEDBACK_DATA_SOURCE_ID": self.feedback_data_source_id,
            "NOTION_FEEDBACK_REPORTS_DATA_SOURCE_ID": self.reports_data_source_id,
        }

    def env_lines(self) -> list[str]:
        return [f"{k}={v}" for k, v in self.env().items()]


def _property_schema(prop: Prop, settings: Settings) -> dict[str, Any]:
    if prop is FEEDBACK.rating:
        return prop.schema({"options": SCALES[settings.rating_scale].select_options()})
    if prop is FEEDBACK.sync_status:
        return prop.schema({"options": [{"name": n, "color": c} for n, c in SYNC_STATUS_OPTIONS]})
    if prop.type == "select":
        return prop.schema({"options": []})
    return prop.schema()


def feedback_schema(settings: Settings) -> dict[str, Any]:
    """Every Feedback property as data-source configuration, under the workspace's names."""
    return {property_name(p, settings.property_map): _property_schema(p, settings) for p in FEEDBACK.all().values()}


def reports_schema(settings: Settings) -> dict[str, Any]:
    return {property_name(p, settings.property_map): _property_schema(p, settings) for p in REPORTS.all().values()}


def _title(obj: dict[str, Any]) -> str:
    return "".join(t.get("plain_text") or t.get("text", {}).get("content", "") for t in obj.get("title") or [])


class _Setup:
    def __init__(self, settings: Settings, parent: str) -> None:
        self.settings = settings
        self.parent = parent
        self.notion = make_notion_client(settings)

    def check_parent(self) -> None:
        try:
            self.notion.pages.retrieve(self.parent)
        except APIResponseError as exc:
            raise access_error(exc, "open the parent page", f"the page {self.parent}") or exc from None

    def _from_data_source(self, data_source_id: str) -> tuple[str, str] | None:
        try:
            ds = self.notion.data_sources.retrieve(data_source_id)
        except APIResponseError as exc:
            if exc.status in (400, 404):
                log.warning("data source %s from settings not found; looking under the page instead", data_source_id)
                return None
            raise access_error(exc, "read the data source", f"the data source {data_source_id}") or exc from None
        parent = ds.get("parent") or {}
        return parent.get("database_id") or ds.get("database_parent", {}).get("database_id", ""), ds["id"]

    def _children_databases(self) -> dict[str, str]:
        """Title → database id of the databases directly under the parent page (first one of each title wins)."""
        found: dict[str, str] = {}
        for block in iterate_paginated_api(self.notion.blocks.children.list, block_id=self.parent, page_size=100):
            if block.get("type") == "child_database" and not block.get("in_trash", block.get("archived", False)):
                found.setdefault(block["child_database"].get("title", ""), block["id"])
        return found

    def find_or_create(
        self,
        title: str,
        configured_ds: str | None,
        schema: dict[str, Any],
        created: list[str],
        children: dict[str, str],
    ) -> tuple[str, str]:
        if configured_ds:
            hit = self._from_data_source(configured_ds)
            if hit is not None:
                return hit
        if title in children:
            db = self.notion.databases.retrieve(children[title])
            sources = db.get("data_sources") or []
            if sources:
                return db["id"], sources[0]["id"]
        db = self.notion.databases.create(
            parent={"type": "page_id", "page_id": self.parent},
            title=[{"type": "text", "text": {"content": title}}],
            initial_data_source={"properties": schema},
        )
        created.append(f"Notion database {title!r}")
        sources = db.get("data_sources") or []
        if not sources:  # an older shape: read it back
            sources = self.notion.databases.retrieve(db["id"]).get("data_sources") or []
        return db["id"], sources[0]["id"]


REPORTS_VIEW_NAME = "Newest first"


def ensure_reports_view(notion: Any, database_id: str, data_source_id: str, date_name: str, created: list[str]) -> None:
    """The Reports database opens on a table of its rows by Date, newest first (a view is all that can sort them
    in Notion's UI). A view already sorted that way is kept; a workspace whose API has no views is left as it is."""
    newest_first = [{"property": date_name, "direction": "descending"}]
    try:
        listed = notion.request(path="views", method="GET", query={"data_source_id": data_source_id})
        for ref in listed.get("results") or []:
            view = notion.request(path=f"views/{ref['id']}", method="GET")
            if view.get("sorts") == newest_first:
                return
        notion.request(
            path="views",
            method="POST",
            body={
                "data_source_id": data_source_id,
                "database_id": database_id,
                "name": REPORTS_VIEW_NAME,
                "type": "table",
                "sorts": newest_first,
                "position": {"type": "start"},
            },
        )
    except APIResponseError as exc:
        log.warning("the Reports view sorted by %s was not made (%s %s)", date_name, exc.status, exc.code)
        return
    created.append(f"Notion view {REPORTS_VIEW_NAME!r} of {REPORTS_TITLE!r}")


def setup_learning(settings: Settings, client: Any, created: list[str]) -> None:
    """The two datasets and the review queue the learning job keeps (each created once, when missing)."""
    from notion_feedback.learn import review
    from notion_feedback.learn.datasets import DESCRIPTIONS
    from notion_feedback.smith import datasets, queues

    for kind, description in DESCRIPTIONS.items():
        name = settings.dataset_name(kind)
        if datasets.find_dataset(client, name) is None:
            datasets.create_dataset(client, name, description)
            created.append(f"LangSmith dataset {name!r}")
    if queues.find_queue(client, settings.review_queue_name) is None:
        review.create(client, settings)
        created.append(f"LangSmith annotation queue {settings.review_queue_name!r}")


def setup_dashboard(settings: Settings, client: Any, project_id: str, created: list[str]) -> None:
    """The observation dashboard of the project (its charts split by variant), created once, when missing; a
    dashboard left with fewer charts (a creation cut short) gets the missing ones."""
    from notion_feedback.smith import dashboard

    found = dashboard.find_dashboard(client, settings)
    if found is not None and found.complete:
        return
    dashboard.complete_dashboard(client, settings, project_id, found)
    what = "" if found is None else f" (its missing charts: it had {found.charts} of {len(dashboard.CHARTS)})"
    created.append(f"LangSmith dashboard {dashboard.title(settings)!r}{what}")


def setup_langsmith(settings: Settings, created: list[str]) -> str:
    """The project (created if missing), the feedback config of the rating key, the dashboard and (learning on)
    the datasets and review queue; returns the project id."""
    import langsmith.utils as ls_utils

    from notion_feedback.smith import projects
    from notion_feedback.smith.client import make_langsmith_client

    client = make_langsmith_client(settings)
    wanted = SCALES[settings.rating_scale].feedback_config()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            existing = list(client.list_feedback_configs(feedback_key=[settings.rating_key]))
            existing = [c for c in existing if getattr(c, "feedback_key", None) == settings.rating_key]
            if not existing:
                client.create_feedback_config(settings.rating_key, feedback_config=wanted)  # type: ignore[arg-type]
                created.append(f"LangSmith feedback config {settings.rating_key!r}")
            else:
                have = dict(existing[0].feedback_config)
                if have.get("type") != wanted["type"] or any(
                    float(have.get(k) or 0) != float(wanted[k]) for k in ("min", "max")
                ):
                    raise ConfigError(
                        f"LangSmith already has feedback key {settings.rating_key!r} with another scale ({have})",
                        f"set NOTION_FEEDBACK_RATING_KEY to a new key, or NOTION_FEEDBACK_RATING_SCALE to match "
                        f"{settings.rating_key!r}",
                    )
            project_id = projects.project(client, settings.langsmith_project, create=True, fresh=True).id
            setup_dashboard(settings, client, project_id, created)
            if settings.learn:
                setup_learning(settings, client, created)
    except ls_utils.LangSmithAuthError:
        raise LangSmithAccessError(
            "LangSmith rejected the API key", "set LANGSMITH_API_KEY to a key of your LangSmith workspace"
        ) from None
    except ls_utils.LangSmithConnectionError:
        raise LangSmithAccessError(
            f"LangSmith is not reachable at {settings.langsmith_endpoint}",
            "check LANGSMITH_ENDPOINT (default https://api.smith.langchain.com) and your network",
        ) from None
    return project_id


def init_workspace(settings: Settings, parent: str, *, langsmith: bool = True) -> WorkspaceIds:
    """Find or create both data sources under ``parent`` and the LangSmith side; safe to run again."""
    require(settings, "notion_token")
    parent_id = parse_notion_id(parent)
    setup = _Setup(settings, parent_id)
    setup.check_parent()
    created: list[str] = []
    children = {} if (settings.feedback_data_source_id and settings.reports_data_source_id) else None
    if children is None:
        children = setup._children_databases()
    fb_db, fb_ds = setup.find_or_create(
        FEEDBACK_TITLE, settings.feedback_data_source_id, feedback_schema(settings), created, children
    )
    rp_db, rp_ds = setup.find_or_create(
        REPORTS_TITLE, settings.reports_data_source_id, reports_schema(settings), created, children
    )
    ensure_reports_view(setup.notion, rp_db, rp_ds, property_name(REPORTS.date, settings.property_map), created)
    project_id = setup_langsmith(settings, created) if langsmith and settings.langsmith_api_key else None
    return WorkspaceIds(parent_id, fb_db, fb_ds, rp_db, rp_ds, project_id, created)

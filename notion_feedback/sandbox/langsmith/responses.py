"""HTTP handlers of the LangSmith emulator, one method per row of ``urls``: parse the request, call the models.

State lives in ``models.store.LangSmithStore``; this module only speaks HTTP.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import orjson
from starlette.requests import Request
from starlette.responses import Response

from notion_feedback.sandbox.langsmith.constants import SERVER_VERSION
from notion_feedback.sandbox.langsmith.exceptions import ApiError, PayloadError
from notion_feedback.sandbox.langsmith.ingest import decode_body, parse_batch, parse_multipart
from notion_feedback.sandbox.langsmith.models import charts as ch
from notion_feedback.sandbox.langsmith.models import datasets as ds
from notion_feedback.sandbox.langsmith.models import feedback as fbk
from notion_feedback.sandbox.langsmith.models import queues as aq
from notion_feedback.sandbox.langsmith.models.pricing import PriceMap
from notion_feedback.sandbox.langsmith.models.query import query_runs, run_docs
from notion_feedback.sandbox.langsmith.models.runs import parse_time
from notion_feedback.sandbox.langsmith.models.similarity import search
from notion_feedback.sandbox.langsmith.models.stats import dashboard, session_stats, stats
from notion_feedback.sandbox.langsmith.models.store import TENANT_ID, LangSmithStore
from notion_feedback.sandbox.langsmith.models.v2 import query_runs_v2


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS, default=str)


async def _json(request: Request) -> Any:
    raw = decode_body(await request.body(), request.headers.get("content-encoding"))
    if not raw:
        return {}
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(422, "Request body is not valid JSON") from exc


def _params(request: Request) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in request.query_params.multi_items():
        out.setdefault(k, []).append(v)
    return out


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() in ("1", "true", "yes")


class LangSmithResponses:
    """The handlers, over one store. ``base_url`` gives the emulator's address once its port is bound."""

    def __init__(self, store: LangSmithStore, prices: PriceMap, zstd: bool, base_url: Callable[[], str]) -> None:
        self.store = store
        self.prices = prices
        self.zstd = zstd
        self._base_url = base_url

    async def info(self, _: Request) -> Response:
        return JSON(
            {
                "version": SERVER_VERSION,
                "license_expiration_time": None,
                "batch_ingest_config": {
                    "use_multipart_endpoint": True,
                    "scale_up_qsize_trigger": 1000,
                    "scale_up_nthreads_limit": 16,
                    "scale_down_nempty_trigger": 4,
                    "size_limit": 100,
                    "size_limit_bytes": 20_971_520,
                },
                "instance_flags": {
                    "zstd_compression_enabled": self.zstd,
                    "ch_query_enabled": True,
                    "sdb_query_enabled": False,
                    "search_enabled": True,
                    "dataset_examples_multipart_enabled": False,  # the SDK then sends /examples/bulk
                    "generate_ai_query_enabled": False,
                    "org_creation_disabled": True,
                    "show_ttl_ui": False,
                    "trace_tier_duration_days": {"longlived": 400, "shortlived": 14},
                },
                "customer_info": None,
            }
        )

    async def settings(self, _: Request) -> Response:
        return JSON(
            {
                "id": TENANT_ID,
                "display_name": "Sandbox workspace",
                "created_at": "2024-01-01T00:00:00+00:00",
                "tenant_handle": "sandbox",
            }
        )

    async def price_map(self, _: Request) -> Response:
        return JSON(self.prices.to_json())

    async def gone(self, _: Request) -> Response:
        return JSON({"detail": "Composite feedback formulas are no longer supported."}, status_code=410)

    # sessions
    async def sessions_create(self, request: Request) -> Response:
        body = await _json(request)
        return JSON(self.store.create_session(body, upsert=_flag(request, "upsert")))

    def _with_stats(self, request: Request, doc: dict[str, Any]) -> dict[str, Any]:
        if not _flag(request, "include_stats"):
            return doc
        start = parse_time(request.query_params.get("stats_start_time"))
        return {**doc, **session_stats(self.store, doc["id"], start)}

    async def sessions_list(self, request: Request) -> Response:
        q = _params(request)
        names = set(q.get("name", []))
        ids = set(q.get("id", []))
        contains = (q.get("name_contains") or [""])[-1].lower()
        limit = min(int((q.get("limit") or ["100"])[-1]), 100)
        offset = int((q.get("offset") or ["0"])[-1])
        with self.store.lock:
            docs = [
                d
                for d in self.store.sessions.values()
                if (not names or d["name"] in names) and (not ids or d["id"] in ids) and contains in d["name"].lower()
            ]
            docs.sort(key=lambda d: d["start_time"], reverse=True)
            page = [self._with_stats(request, d) for d in docs[offset : offset + limit]]
        return JSON(page)

    async def session_read(self, request: Request) -> Response:
        with self.store.lock:
            return JSON(self._with_stats(request, self.store.get_session(request.path_params["session_id"])))

    async def session_update(self, request: Request) -> Response:
        return JSON(self.store.update_session(request.path_params["session_id"], await _json(request)))

    async def session_delete(self, request: Request) -> Response:
        self.store.delete_session(request.path_params["session_id"])
        return JSON({}, status_code=202)

    async def session_dashboard(self, request: Request) -> Response:
        return JSON(dashboard(self.store, request.path_params["session_id"], await _json(request)))

    # runs
    async def runs_multipart(self, request: Request) -> Response:
        raw = decode_body(await request.body(), request.headers.get("content-encoding"))
        up = parse_multipart(raw, request.headers.get("content-type", ""))
        self.store.ingest(up.posts, up.patches)
        for run_id, name, ctype, data in up.attachments:
            self.store.add_attachment(run_id, name, ctype, data)
        for fb in up.feedback:
            fbk.create_feedback(self.store, fb, lenient=True)
        return JSON({}, status_code=202)

    async def runs_batch(self, request: Request) -> Response:
        up = parse_batch(await _json(request))
        self.store.ingest(up.posts, up.patches)
        return JSON({}, status_code=202)

    async def runs_create(self, request: Request) -> Response:
        body = await _json(request)
        if not isinstance(body, dict):
            raise ApiError(422, "run must be a JSON object")
        self.store.ingest([body], [], strict=True)
        return JSON({}, status_code=202)

    async def run_update(self, request: Request) -> Response:
        body = await _json(request)
        if not isinstance(body, dict):
            raise ApiError(422, "run update must be a JSON object")
        self.store.ingest([], [{**body, "id": request.path_params["run_id"]}])
        return JSON({}, status_code=202)

    async def run_read(self, request: Request) -> Response:
        with self.store.lock:
            self.store.refresh()
            row = self.store.row_of(request.path_params["run_id"])
            if row is None:
                raise ApiError(404, "Run not found")
            return JSON(run_docs(self.store, np.asarray([row]), None)[0])

    async def runs_query(self, request: Request) -> Response:
        return JSON(query_runs(self.store, await _json(request)))

    async def runs_query_v2(self, request: Request) -> Response:
        return JSON(query_runs_v2(self.store, await _json(request)))

    async def runs_stats(self, request: Request) -> Response:
        return JSON(stats(self.store, await _json(request)))

    # feedback
    async def feedback_create(self, request: Request) -> Response:
        return JSON(fbk.create_feedback(self.store, await _json(request)))

    async def feedback_list(self, request: Request) -> Response:
        try:
            return JSON(fbk.list_feedback(self.store, _params(request)))
        except (PayloadError, ValueError) as exc:
            raise ApiError(422, str(exc)) from exc

    async def feedback_read(self, request: Request) -> Response:
        return JSON(fbk.get_feedback(self.store, request.path_params["feedback_id"])[1])

    async def feedback_update(self, request: Request) -> Response:
        return JSON(fbk.update_feedback(self.store, request.path_params["feedback_id"], await _json(request)))

    async def feedback_delete(self, request: Request) -> Response:
        fbk.delete_feedback(self.store, request.path_params["feedback_id"])
        return JSON({})

    async def tokens_create(self, request: Request) -> Response:
        body = await _json(request)
        base = self._base_url() or str(request.base_url).rstrip("/")
        if isinstance(body, list):
            return JSON([fbk.create_token(self.store, b, base) for b in body])
        return JSON(fbk.create_token(self.store, body, base))

    async def tokens_list(self, request: Request) -> Response:
        q = _params(request)
        limit = min(int((q.get("limit") or ["100"])[-1]), 100)
        offset = int((q.get("offset") or ["0"])[-1])
        items = fbk.list_tokens(self.store, (q.get("run_id") or [None])[-1])
        return JSON(items[offset : offset + limit])

    async def token_use(self, request: Request) -> Response:
        if request.method == "GET":
            body: dict[str, Any] = {}
            for k in ("score", "value", "comment", "correction"):
                v = request.query_params.get(k)
                if v is None:
                    continue
                if k == "score":
                    try:
                        body[k] = float(v) if "." in v else int(v)
                    except ValueError as exc:
                        raise ApiError(422, "score must be a number") from exc
                else:
                    body[k] = v
        else:
            body = await _json(request)
        doc = fbk.use_token(self.store, request.path_params["token"], body if isinstance(body, dict) else {})
        return JSON(doc)

    async def configs_list(self, request: Request) -> Response:
        return JSON(fbk.list_configs(self.store, _params(request)))

    async def configs_create(self, request: Request) -> Response:
        return JSON(fbk.upsert_config(self.store, await _json(request)))

    async def configs_update(self, request: Request) -> Response:
        return JSON(fbk.update_config(self.store, await _json(request)))

    async def configs_delete(self, request: Request) -> Response:
        fbk.delete_config(self.store, request.query_params.get("feedback_key", ""))
        return JSON({})

    async def attachment(self, request: Request) -> Response:
        item = self.store.attachments.get((request.path_params["run_id"], request.path_params["name"]))
        if item is None:
            raise ApiError(404, "Attachment not found")
        return Response(item[1], media_type=item[0])

    # datasets and examples
    async def datasets_create(self, request: Request) -> Response:
        return JSON(ds.create_dataset(self.store, await _json(request)))

    async def datasets_list(self, request: Request) -> Response:
        return JSON(ds.list_datasets(self.store, _params(request)))

    async def dataset_read(self, request: Request) -> Response:
        with self.store.lock:
            return JSON(ds.public_dataset(self.store, ds.get_dataset(self.store, request.path_params["dataset_id"])))

    async def dataset_delete(self, request: Request) -> Response:
        ds.delete_dataset(self.store, request.path_params["dataset_id"])
        return JSON({})

    async def dataset_index(self, request: Request) -> Response:
        ds.set_indexed(self.store, request.path_params["dataset_id"])
        return JSON({})

    async def dataset_search(self, request: Request) -> Response:
        return JSON(search(self.store, request.path_params["dataset_id"], await _json(request)))

    async def examples_bulk_create(self, request: Request) -> Response:
        return JSON(ds.create_examples(self.store, await _json(request)))

    async def examples_bulk_update(self, request: Request) -> Response:
        return JSON(ds.update_examples(self.store, await _json(request)))

    async def examples_list(self, request: Request) -> Response:
        return JSON(ds.list_examples(self.store, _params(request)))

    async def examples_delete(self, request: Request) -> Response:
        ds.delete_examples(self.store, _params(request).get("example_ids", []), strict=False)
        return JSON({})

    async def examples_hard_delete(self, request: Request) -> Response:
        body = await _json(request)
        ids = body.get("example_ids") if isinstance(body, dict) else None
        if not isinstance(ids, list):
            raise ApiError(422, "example_ids must be a list")
        ds.delete_examples(self.store, ids, strict=False)  # the emulator keeps no versions: both deletes are hard
        return JSON({})

    async def example_read(self, request: Request) -> Response:
        return JSON(ds.public_example(ds.get_example(self.store, request.path_params["example_id"])))

    async def example_update(self, request: Request) -> Response:
        return JSON(ds.update_example(self.store, request.path_params["example_id"], await _json(request)))

    async def example_delete(self, request: Request) -> Response:
        ds.delete_examples(self.store, [request.path_params["example_id"]], strict=True)
        return JSON({})

    # annotation queues
    async def queues_create(self, request: Request) -> Response:
        return JSON(aq.create_queue(self.store, await _json(request)))

    async def queues_list(self, request: Request) -> Response:
        return JSON(aq.list_queues(self.store, _params(request)))

    async def queue_read(self, request: Request) -> Response:
        return JSON(aq.public_queue(aq.get_queue(self.store, request.path_params["queue_id"]), rubric=True))

    async def queue_update(self, request: Request) -> Response:
        return JSON(aq.update_queue(self.store, request.path_params["queue_id"], await _json(request)))

    async def queue_delete(self, request: Request) -> Response:
        aq.delete_queue(self.store, request.path_params["queue_id"])
        return JSON({})

    async def queue_runs(self, request: Request) -> Response:
        q = _params(request)
        runs = aq.queue_runs(self.store, request.path_params["queue_id"], (q.get("status") or [None])[-1])
        return JSON(ds.page_of(q, runs))

    async def queue_run_at(self, request: Request) -> Response:
        runs = aq.queue_runs(self.store, request.path_params["queue_id"], "needs_my_review")
        try:
            index = int(request.path_params["index"])
        except ValueError as exc:
            raise ApiError(422, "index must be an integer") from exc
        if not 0 <= index < len(runs):
            raise ApiError(404, "No run at this index of the annotation queue")
        return JSON(runs[index])

    async def queue_remove_run(self, request: Request) -> Response:
        aq.remove_run(self.store, request.path_params["queue_id"], request.path_params["run_id"])
        return JSON({})

    async def queue_run_status(self, request: Request) -> Response:
        return JSON(aq.set_status(self.store, request.path_params["queue_run_id"], await _json(request)))

    async def queue_add_runs(self, request: Request) -> Response:
        body = await _json(request)
        if not isinstance(body, list):
            raise ApiError(422, "the body must be a list of run ids")
        items = aq.add_runs(self.store, request.path_params["queue_id"], body)
        keys = ("id", "queue_id", "run_id", "added_at", "last_reviewed_time", "source_proposed_example_id")
        return JSON([aq.public_item(i, keys) for i in items])

    async def queue_size(self, request: Request) -> Response:
        status = request.query_params.get("status")
        return JSON({"size": len(aq.queue_items(self.store, request.path_params["queue_id"], status))})

    async def queue_items_create(self, request: Request) -> Response:
        items = aq.create_items(self.store, request.path_params["queue_id"], await _json(request))
        keys = ("id", "added_at", "item_type", "last_reviewed_time", "project_id", "queue_id", "run_id")
        keys += ("source_proposed_example_id", "start_time", "thread_id")
        return JSON({"items": [aq.public_item(i, keys) for i in items]})

    async def queue_items_list(self, request: Request) -> Response:
        return JSON(aq.list_items(self.store, request.path_params["queue_id"], dict(request.query_params)))

    async def queue_items_count(self, request: Request) -> Response:
        status = request.query_params.get("status")
        if not status:
            raise ApiError(422, "status is required")
        return JSON({"count": len(aq.queue_items(self.store, request.path_params["queue_id"], status))})

    async def queue_item_status(self, request: Request) -> Response:
        return JSON(aq.set_status(self.store, request.path_params["queue_item_id"], await _json(request)))

    # custom charts: sections (dashboards) and their charts
    async def sections_create(self, request: Request) -> Response:
        return JSON(ch.create_section(self.store, await _json(request)))

    async def sections_list(self, request: Request) -> Response:
        return JSON(ch.list_sections(self.store, _params(request)))

    async def section_read(self, request: Request) -> Response:
        return JSON(ch.read_section(self.store, request.path_params["section_id"], await _json(request)))

    async def section_delete(self, request: Request) -> Response:
        ch.delete_section(self.store, request.path_params["section_id"])
        return JSON({})

    async def charts_create(self, request: Request) -> Response:
        return JSON(ch.create_chart(self.store, await _json(request)))

    async def charts_list(self, request: Request) -> Response:
        return JSON(ch.list_charts(self.store, await _json(request)))

    async def chart_read(self, request: Request) -> Response:
        return JSON(ch.read_chart(self.store, request.path_params["chart_id"], await _json(request)))

    async def chart_delete(self, request: Request) -> Response:
        ch.delete_chart(self.store, request.path_params["chart_id"])
        return JSON({})

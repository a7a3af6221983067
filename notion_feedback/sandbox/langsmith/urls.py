"""The LangSmith route table: (method, path, handler name); handlers are ``LangSmithResponses`` methods.

``V1_ROUTES`` are served both bare (``/runs/query``: what the Python SDK sends when ``api_url`` has no path)
and under ``/api/v1``; ``V2_ROUTES`` under their full path. Order matters where paths overlap
(``/feedback/tokens`` before ``/feedback/{feedback_id}``, ``/examples/bulk`` before ``/examples/{example_id}``,
``/charts/section`` and ``/charts/create`` before ``/charts/{chart_id}``).
The generated client (``client.annotation_queues``) sends ``/api/v1/platform/…``, the ``/platform`` rows.
A new endpoint is one row here and one method there.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Mount, Route

V1_ROUTES = [
    ("GET", "/info", "info"),
    ("GET", "/settings", "settings"),
    ("GET", "/model-price-map", "price_map"),
    ("POST", "/sessions", "sessions_create"),
    ("GET", "/sessions", "sessions_list"),
    ("GET", "/sessions/{session_id}", "session_read"),
    ("PATCH", "/sessions/{session_id}", "session_update"),
    ("DELETE", "/sessions/{session_id}", "session_delete"),
    ("POST", "/sessions/{session_id}/dashboard", "session_dashboard"),
    ("POST", "/runs/multipart", "runs_multipart"),
    ("POST", "/runs/batch", "runs_batch"),
    ("POST", "/runs/query", "runs_query"),
    ("POST", "/runs/stats", "runs_stats"),
    ("POST", "/runs", "runs_create"),
    ("GET", "/runs/{run_id}", "run_read"),
    ("PATCH", "/runs/{run_id}", "run_update"),
    ("POST", "/feedback", "feedback_create"),
    ("GET", "/feedback", "feedback_list"),
    ("POST", "/feedback/tokens", "tokens_create"),
    ("GET", "/feedback/tokens", "tokens_list"),
    ("GET", "/feedback/tokens/{token}", "token_use"),
    ("POST", "/feedback/tokens/{token}", "token_use"),
    ("GET", "/feedback/formulas", "gone"),
    ("POST", "/feedback/formulas", "gone"),
    ("GET", "/feedback/formulas/{fid}", "gone"),
    ("PATCH", "/feedback/formulas/{fid}", "gone"),
    ("DELETE", "/feedback/formulas/{fid}", "gone"),
    ("GET", "/feedback/{feedback_id}", "feedback_read"),
    ("PATCH", "/feedback/{feedback_id}", "feedback_update"),
    ("DELETE", "/feedback/{feedback_id}", "feedback_delete"),
    ("GET", "/feedback-configs", "configs_list"),
    ("POST", "/feedback-configs", "configs_create"),
    ("PATCH", "/feedback-configs", "configs_update"),
    ("DELETE", "/feedback-configs", "configs_delete"),
    ("GET", "/public/attachments/{run_id}/{name}", "attachment"),
    ("POST", "/datasets", "datasets_create"),
    ("GET", "/datasets", "datasets_list"),
    ("GET", "/datasets/{dataset_id}", "dataset_read"),
    ("DELETE", "/datasets/{dataset_id}", "dataset_delete"),
    ("POST", "/datasets/{dataset_id}/index", "dataset_index"),
    ("POST", "/datasets/{dataset_id}/search", "dataset_search"),
    ("POST", "/examples/bulk", "examples_bulk_create"),
    ("PATCH", "/examples/bulk", "examples_bulk_update"),
    ("GET", "/examples", "examples_list"),
    ("DELETE", "/examples", "examples_delete"),
    ("POST", "/platform/datasets/examples/delete", "examples_hard_delete"),
    ("GET", "/examples/{example_id}", "example_read"),
    ("PATCH", "/examples/{example_id}", "example_update"),
    ("DELETE", "/examples/{example_id}", "example_delete"),
    ("POST", "/annotation-queues", "queues_create"),
    ("GET", "/annotation-queues", "queues_list"),
    ("GET", "/annotation-queues/{queue_id}", "queue_read"),
    ("PATCH", "/annotation-queues/{queue_id}", "queue_update"),
    ("DELETE", "/annotation-queues/{queue_id}", "queue_delete"),
    ("POST", "/annotation-queues/status/{queue_run_id}", "queue_run_status"),
    ("POST", "/annotation-queues/{queue_id}/runs", "queue_add_runs"),
    ("GET", "/annotation-queues/{queue_id}/runs", "queue_runs"),
    ("DELETE", "/annotation-queues/{queue_id}/runs/{run_id}", "queue_remove_run"),
    ("GET", "/annotation-queues/{queue_id}/run/{index}", "queue_run_at"),
    ("GET", "/annotation-queues/{queue_id}/size", "queue_size"),
    ("POST", "/platform/annotation-queues/{queue_id}/items", "queue_items_create"),
    ("GET", "/platform/annotation-queues/{queue_id}/items", "queue_items_list"),
    ("GET", "/platform/annotation-queues/{queue_id}/items/count", "queue_items_count"),
    ("POST", "/platform/annotation-queues/items/{queue_item_id}/status", "queue_item_status"),
    ("POST", "/charts/section", "sections_create"),
    ("GET", "/charts/section", "sections_list"),
    ("POST", "/charts/section/{section_id}", "section_read"),
    ("DELETE", "/charts/section/{section_id}", "section_delete"),
    ("POST", "/charts/create", "charts_create"),
    ("POST", "/charts", "charts_list"),
    ("POST", "/charts/{chart_id}", "chart_read"),
    ("DELETE", "/charts/{chart_id}", "chart_delete"),
]
V2_ROUTES = [
    ("POST", "/api/v2/runs/query", "runs_query_v2"),
    ("POST", "/v1/platform/datasets/examples/delete", "examples_hard_delete"),
]


def starlette_routes(handlers: Any, extra: list[Any]) -> list[Any]:
    """The table as Starlette routes on ``handlers``, after ``extra`` (the admin routes)."""

    def build(table: list[tuple[str, str, str]]) -> list[Route]:
        return [Route(path, getattr(handlers, name), methods=[method]) for method, path, name in table]

    v1 = build(V1_ROUTES)
    return [*extra, *build(V2_ROUTES), Mount("/api/v1", routes=v1), *v1]

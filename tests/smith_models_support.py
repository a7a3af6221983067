"""Check recorded LangSmith exchanges against the ``langsmith`` SDK's own models (the 0.15 line).

The wheel ships two sets: ``langsmith.types``, generated from LangSmith's OpenAPI spec, and ``langsmith.schemas``,
what ``langsmith.Client`` parses answers into. ``CONTRACTS`` names, route by route, the models an answer (or each
item of a list answer) must validate as and the types a request body must fit. Validation alone is lenient —
every one of these models accepts unknown keys — so the check also refuses a key that none of the route's models
declares, at any depth: an invented field fails as it does under ``tsc``'s excess-property check for Notion.

A route without a model in the SDK says why (``unmodelled``); an error answer must carry ``detail``, the one key
the SDK's error handling reads (``langsmith.utils.raise_for_status_with_text``).
"""

from __future__ import annotations

import inspect
import json
import re
import types as pytypes
import typing
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Union
from uuid import UUID

import pydantic
import typing_extensions
from langsmith import schemas
from langsmith import types as api
from langsmith.client import Client
from langsmith.types.annotation_queues import (
    ItemCreateParams,
    ItemCreateResponse,
    ItemCreateStatusParams,
    ItemCreateStatusResponse,
    ItemListResponse,
    ItemRetrieveCountResponse,
)
from langsmith.types.annotation_queues.run_create_response import RunCreateResponseItem
from langsmith.types.custom_charts_section import (
    ChartSingleCustomChartResponseSerialized,
    ChartSingleCustomChartResponseSerializedSeries,
    ChartSingleCustomChartResponseSerializedSeriesFilters,
)
from langsmith.types.run_schema_with_annotation_queue_info import RunSchemaWithAnnotationQueueInfo
from langsmith.types.runs.streaming_query_v2_response import StreamingQueryV2Response

from notion_feedback.sandbox.exchanges import Exchange
from notion_feedback.sandbox.langsmith.urls import V1_ROUTES, V2_ROUTES


@dataclass(frozen=True)
class Contract:
    """What one route's exchanges must fit."""

    answer: tuple[Any, ...] = ()
    """Models the answer validates as (each of them); its keys must be declared by one of them."""
    items: str | None = None
    """The answer is a list of such objects: ``""`` for a bare JSON list, else the key that holds the list."""
    request: tuple[Any, ...] = ()
    """Models or TypedDicts the JSON request body fits, or an SDK method whose keyword parameters it uses."""
    unmodelled: str = ""
    """Why part of the exchange is not checked: the SDK has no model for it."""


SESSION = (schemas.TracerSession, api.TracerSession)
FEEDBACK = (schemas.Feedback,)
CONFIG = (schemas.FeedbackConfigSchema,)
RUN = (schemas.Run, RunSchemaWithAnnotationQueueInfo)
RUN_SENT = (schemas.Run, schemas.RunLikeDict)
KEYS_ONLY = (schemas.RunLikeDict, RunSchemaWithAnnotationQueueInfo)
"""Models whose keys count but which are not validated on their own: ``RunLikeDict`` (what the SDK sends with a
run, ``session_name``…) has an annotation the SDK imports only for type checkers, so pydantic cannot build it;
``RunSchemaWithAnnotationQueueInfo`` is the only place the wheel ships the API's own run schema (``share_token``,
``s3_urls``, ``inputs_preview``…), inside an annotation-queue item whose ``queue_run_id`` a plain run lacks.
``schemas.Run`` validates the values in both cases."""


class RunStatsRequest(typing_extensions.TypedDict, total=False):
    """The body of ``POST /runs/stats``: the keys ``Client.get_run_stats`` puts in its payload, plus ``group_by``
    (typed by the SDK's ``RunStatsGroupByParam``) and ``select``, which the API takes and the method does not pass
    (the product sends them through ``request_with_retries``)."""

    id: list[UUID]
    trace: UUID
    parent_run: UUID
    run_type: str
    session: list[UUID]
    reference_example: list[UUID]
    start_time: datetime
    end_time: datetime
    error: bool
    query: str
    filter: str
    trace_filter: str
    tree_filter: str
    is_root: bool
    data_source_type: str
    group_by: api.RunStatsGroupByParam
    select: list[str]


class DatasetCreateRequest(typing_extensions.TypedDict, total=False):
    """The body of ``POST /datasets``: the keys ``Client.create_dataset`` puts in its payload (the SDK has no
    model for it; ``extra`` carries the metadata)."""

    name: str
    description: str
    data_type: str
    transformations: list[schemas.DatasetTransformation]
    extra: dict[str, Any]
    inputs_schema_definition: dict[str, Any]
    outputs_schema_definition: dict[str, Any]
    tag_value_ids: list[str]


class SectionCreateRequest(typing_extensions.TypedDict, total=False):
    """The body of ``POST /charts/section``: ``CustomChartsSectionCreate`` of the generated ``langsmith-java`` SDK
    (the Python SDK has no custom-chart methods or request models)."""

    title: str
    description: str
    index: int


class SectionAnswer(pydantic.BaseModel):
    """``CustomChartsSectionResponse`` (``langsmith-java``): a section as created and listed, without charts."""

    id: UUID
    title: str
    description: str | None = None
    index: int | None = None
    chart_count: int | None = None
    created_at: datetime | None = None
    modified_at: datetime | None = None


class ChartSeriesCreate(typing_extensions.TypedDict, total=False):
    """``CustomChartSeriesCreate`` (``langsmith-java``): one series of a chart to create."""

    name: str
    metric: str
    feedback_key: str
    filters: ChartSingleCustomChartResponseSerializedSeriesFilters
    group_by: api.RunStatsGroupByParam
    project_metric: str
    workspace_id: str


class ChartCreateRequest(typing_extensions.TypedDict, total=False):
    """The body of ``POST /charts/create``: ``CustomChartCreate`` (``langsmith-java``)."""

    title: str
    chart_type: str
    series: list[ChartSeriesCreate]
    section_id: UUID
    index: int
    description: str
    metadata: dict[str, Any]
    common_filters: ChartSingleCustomChartResponseSerializedSeriesFilters


class ChartAnswer(pydantic.BaseModel):
    """``CustomChartResponse`` (``langsmith-java``): a chart as created, its series as the Python SDK's
    ``CustomChartsSection`` types them."""

    id: UUID
    title: str
    chart_type: str
    index: int
    section_id: UUID
    series: list[ChartSingleCustomChartResponseSerializedSeries] | None = None
    description: str | None = None
    metadata: dict[str, Any] | None = None


class ChartsListRequest(typing_extensions.TypedDict, total=False):
    """The body of ``POST /charts``: ``CustomChartsRequest`` (``langsmith-java``)."""

    after_index: int
    end_time: datetime
    start_time: datetime
    omit_data: bool
    stride: api.TimedeltaInputParam
    tag_value_id: list[UUID]
    timezone: str


DATASET = (schemas.Dataset, api.Dataset)
EXAMPLE = (schemas.Example,)
EXAMPLE_SENT = (schemas.ExampleCreate, schemas.Example)
"""What ``POST /examples/bulk`` carries: ``ExampleCreate`` as the SDK dumps it by alias (``outputs``) with the
``dataset_id`` it adds, both of which ``schemas.Example`` declares."""
QUEUE = (schemas.AnnotationQueueWithDetails, api.AnnotationQueueSchema)
QUEUE_READ = (schemas.AnnotationQueueWithDetails, api.AnnotationQueueRetrieveResponse)
QUEUE_RUN = (schemas.RunWithAnnotationQueueInfo, RunSchemaWithAnnotationQueueInfo)
DECLARED_BY_THE_API = {"feedback_thread_id"}
"""Answer keys the API's OpenAPI schema declares (``FeedbackSchema``, as the generated ``langsmith-java`` SDK
shows) and the Python SDK's hand-written ``schemas.Feedback`` not yet: allowed, and listed in docs/sandbox.md."""
CONTRACTS: dict[str, Contract] = {
    "info": Contract(answer=(schemas.LangSmithInfo, api.InfoListResponse)),
    "settings": Contract(answer=(schemas.LangSmithSettings,)),
    "price_map": Contract(unmodelled="the SDK reads the price map as plain JSON and has no model for it"),
    "sessions_create": Contract(answer=SESSION, request=(api.SessionCreateParams,)),
    "sessions_list": Contract(answer=SESSION, items=""),
    "session_read": Contract(answer=SESSION),
    "session_update": Contract(answer=SESSION, request=(api.SessionUpdateParams,)),
    "session_delete": Contract(unmodelled="the answer is empty"),
    "session_dashboard": Contract(answer=(api.CustomChartsSection,), request=(api.SessionDashboardParams,)),
    "runs_multipart": Contract(unmodelled="a multipart body (the runs it carries are checked as `run_read` answers)"),
    "runs_batch": Contract(unmodelled="runs as the SDK serialises them; checked as `run_read` answers"),
    "runs_query": Contract(answer=RUN, items="runs", request=(Client.list_runs,)),
    "runs_stats": Contract(request=(RunStatsRequest,), unmodelled="the SDK has no model for run statistics"),
    "runs_create": Contract(request=RUN_SENT, unmodelled="the answer is empty"),
    "run_read": Contract(answer=RUN),
    "run_update": Contract(request=RUN_SENT, unmodelled="the answer is empty"),
    "feedback_create": Contract(answer=FEEDBACK, request=(schemas.FeedbackCreate,)),
    "feedback_list": Contract(answer=FEEDBACK, items=""),
    "feedback_read": Contract(answer=FEEDBACK),
    "feedback_update": Contract(answer=FEEDBACK, request=(Client.update_feedback,)),
    "feedback_delete": Contract(unmodelled="the answer is empty"),
    "tokens_create": Contract(answer=(schemas.FeedbackIngestToken,)),
    "tokens_list": Contract(answer=(schemas.FeedbackIngestToken,), items=""),
    "token_use": Contract(unmodelled="the SDK reads the answer as plain JSON"),
    "configs_list": Contract(answer=CONFIG, items=""),
    "configs_create": Contract(answer=CONFIG, request=(Client.create_feedback_config,)),
    "configs_update": Contract(answer=CONFIG, request=(Client.update_feedback_config,)),
    "configs_delete": Contract(unmodelled="the answer is empty"),
    "gone": Contract(unmodelled="an error answer only"),
    "attachment": Contract(unmodelled="the attachment's bytes"),
    "runs_query_v2": Contract(answer=(StreamingQueryV2Response,)),
    "datasets_create": Contract(answer=DATASET, request=(DatasetCreateRequest,)),
    "datasets_list": Contract(answer=DATASET, items=""),
    "dataset_read": Contract(answer=DATASET),
    "dataset_delete": Contract(unmodelled="the answer is empty"),
    "dataset_index": Contract(unmodelled="langsmith 0.15 has no method or model for indexing a dataset"),
    "dataset_search": Contract(unmodelled="langsmith 0.15 has no method or model for few-shot search"),
    "examples_bulk_create": Contract(answer=EXAMPLE, items="", request=EXAMPLE_SENT),
    "examples_bulk_update": Contract(answer=(schemas.UpsertExamplesResponse,), request=(schemas.ExampleUpdate,)),
    "examples_list": Contract(answer=EXAMPLE, items=""),
    "examples_delete": Contract(unmodelled="the answer is empty"),
    "examples_hard_delete": Contract(request=(Client.delete_examples,), unmodelled="the answer is empty"),
    "example_read": Contract(answer=EXAMPLE),
    "example_update": Contract(answer=EXAMPLE, request=(schemas.ExampleUpdate,)),
    "example_delete": Contract(unmodelled="the answer is empty"),
    "queues_create": Contract(answer=QUEUE, request=(schemas.AnnotationQueueWithDetails,)),
    "queues_list": Contract(
        answer=(schemas.AnnotationQueue, api.AnnotationQueueRetrieveAnnotationQueuesResponse), items=""
    ),
    "queue_read": Contract(answer=QUEUE_READ),
    "queue_update": Contract(answer=QUEUE_READ, request=(api.AnnotationQueueUpdateParams,)),
    "queue_delete": Contract(unmodelled="the answer is empty"),
    "queue_runs": Contract(answer=QUEUE_RUN, items=""),
    "queue_run_at": Contract(answer=QUEUE_RUN),
    "queue_remove_run": Contract(unmodelled="the answer is empty"),
    "queue_run_status": Contract(
        answer=(ItemCreateStatusResponse,),
        request=(api.AnnotationQueueCreateRunStatusParams,),
        unmodelled="the SDK reads the answer as an untyped object; the emulator answers as the items API does",
    ),
    "queue_add_runs": Contract(
        answer=(RunCreateResponseItem,), items="", unmodelled="the request is a bare list of run ids"
    ),
    "queue_size": Contract(answer=(api.AnnotationQueueSizeSchema,)),
    "queue_items_create": Contract(answer=(ItemCreateResponse,), request=(ItemCreateParams,)),
    "queue_items_list": Contract(answer=(ItemListResponse,), items="items"),
    "queue_items_count": Contract(answer=(ItemRetrieveCountResponse,)),
    "queue_item_status": Contract(answer=(ItemCreateStatusResponse,), request=(ItemCreateStatusParams,)),
    "sections_create": Contract(answer=(SectionAnswer,), request=(SectionCreateRequest,)),
    "sections_list": Contract(answer=(SectionAnswer,), items=""),
    "section_read": Contract(answer=(api.CustomChartsSection,), request=(api.SessionDashboardParams,)),
    "section_delete": Contract(unmodelled="the answer is empty"),
    "charts_create": Contract(answer=(ChartAnswer,), request=(ChartCreateRequest,)),
    "charts_list": Contract(answer=(api.CustomChartsSection,), items="sections", request=(ChartsListRequest,)),
    "chart_read": Contract(answer=(ChartSingleCustomChartResponseSerialized,), request=(api.SessionDashboardParams,)),
    "chart_delete": Contract(unmodelled="the answer is empty"),
}
"""Every route of ``urls.V1_ROUTES`` and ``urls.V2_ROUTES`` by handler name (a test says none is missing)."""

REQUEST_RENAMES = {
    "session": "project_id",
    "run": "run_ids",
    "id": "run_ids",
    "trace": "trace_id",
    "parent_run": "parent_run_id",
    "reference_example": "reference_example_id",
}
"""Body keys that an SDK method takes under another parameter name (``list_runs(project_id=…, run_ids=…)`` sends
``session`` and ``id``, as ``langsmith/client.py`` builds its body)."""


def _patterns() -> list[tuple[str, re.Pattern[str], str]]:
    table = [(m, p, n) for m, p, n in V1_ROUTES] + [(m, p, n) for m, p, n in V2_ROUTES]
    return [(m, re.compile("^" + re.sub(r"\{\w+\}", "[^/]+", p) + "$"), n) for m, p, n in table]


_ROUTES = _patterns()


def route_of(method: str, path: str) -> str | None:
    """The handler name serving ``method path`` (bare or under ``/api/v1``), None for an unknown route."""
    bare = path[len("/api/v1") :] if path.startswith("/api/v1/") else path
    for m, pattern, name in _ROUTES:
        if m == method and (pattern.match(bare) or pattern.match(path)):
            return name
    return None


def _arms(annotation: Any) -> list[Any]:
    """The concrete types an annotation allows (``Optional``/``Union`` opened, ``Annotated`` unwrapped)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _arms(typing.get_args(annotation)[0])
    if origin in (Union, pytypes.UnionType):
        return [arm for a in typing.get_args(annotation) for arm in _arms(a)]
    return [annotation]


def _fields(model: Any) -> dict[str, Any] | None:
    """Declared keys and their annotations for a pydantic model or a TypedDict; None for anything else."""
    if isinstance(model, type) and issubclass(model, pydantic.BaseModel):
        return {(f.alias or name): f.annotation for name, f in model.model_fields.items()}
    if typing_extensions.is_typeddict(model):
        try:
            return typing_extensions.get_type_hints(model)
        except NameError:  # an annotation the SDK imports only for type checkers: its key still counts
            return {key: Any for key in model.__annotations__}
    return None


def excess_keys(models: tuple[Any, ...], value: Any, where: str) -> list[str]:
    """Keys in ``value`` that none of ``models`` declares, as ``where.key`` paths, looking into nested models."""
    shapes = [f for m in models if (f := _fields(m)) is not None]
    if not shapes or not isinstance(value, dict):
        return []
    problems = [f"{where}.{k}" for k in value if not any(k in s for s in shapes) and k not in DECLARED_BY_THE_API]
    for key, inner in value.items():
        nested = tuple(arm for s in shapes if key in s for arm in _arms(s[key]))
        problems += _excess_inner(nested, inner, f"{where}.{key}")
    return problems


def _excess_inner(annotations: tuple[Any, ...], value: Any, where: str) -> list[str]:
    models = tuple(a for a in annotations if _fields(a) is not None)
    if models and isinstance(value, dict):
        return excess_keys(models, value, where)
    if isinstance(value, list):
        item_types = tuple(
            arm
            for a in annotations
            if typing.get_origin(a) in (list, tuple)
            for t in typing.get_args(a)
            for arm in _arms(t)
        )
        return [p for i, item in enumerate(value) for p in _excess_inner(item_types, item, f"{where}[{i}]")]
    if isinstance(value, dict):
        value_types = tuple(
            arm for a in annotations if typing.get_origin(a) is dict for arm in _arms(typing.get_args(a)[1])
        )
        return [p for k, v in value.items() for p in _excess_inner(value_types, v, f"{where}[{k!r}]")]
    return []


def _validate(model: Any, value: Any, where: str, sent: bool) -> list[str]:
    if model in KEYS_ONLY:
        return []
    try:
        pydantic.TypeAdapter(model).validate_python(value)
    except pydantic.ValidationError as exc:
        # The SDK leaves out what is None when it sends (``exclude_none``): a request may omit a required field.
        errors = [e for e in exc.errors() if not (sent and e["type"] == "missing")]
        return [f"{where} is not a {model.__module__}.{model.__qualname__}: {e['loc']} {e['msg']}" for e in errors]
    return []


def fits(models: tuple[Any, ...], value: Any, where: str, sent: bool = False) -> list[str]:
    """``value`` validates as each model and declares no key that none of them knows (``sent``: a request)."""
    problems = [p for m in models for p in _validate(m, value, where, sent)]
    return problems + [f"{p}: no model declares it" for p in excess_keys(models, value, where)]


def _method_parameters(method: Any) -> set[str]:
    return {name for name in inspect.signature(method).parameters if name != "self"}


def request_problems(contract: Contract, body: Any, where: str) -> list[str]:
    """The request body against the route's request types (models, TypedDicts or an SDK method's parameters)."""
    if contract.request and isinstance(body, list):  # a bulk body: each item against the request types
        return [p for i, item in enumerate(body) for p in request_problems(contract, item, f"{where}[{i}]")]
    if not contract.request or not isinstance(body, dict):
        return []
    methods = [r for r in contract.request if callable(r) and _fields(r) is None]
    if methods:
        known = set().union(*(_method_parameters(m) for m in methods))
        names = {k: REQUEST_RENAMES.get(k, k) for k in body}
        return [f"{where}.{k}: no parameter of {methods[0].__qualname__}" for k, n in names.items() if n not in known]
    sent = {k: v for k, v in body.items() if v is not None}  # the SDK sends null for what an update leaves alone
    return fits(contract.request, sent, where, sent=True)


def answer_problems(contract: Contract, answer: Any, where: str) -> list[str]:
    if not contract.answer:
        return []
    if contract.items is None:
        return fits(contract.answer, answer, where)
    listed = answer if contract.items == "" else (answer or {}).get(contract.items)
    if not isinstance(listed, list):
        return [f"{where}: expected a list{' under ' + contract.items if contract.items else ''}"]
    return [p for i, item in enumerate(listed) for p in fits(contract.answer, item, f"{where}[{i}]")]


def check(exchanges: list[Exchange]) -> list[str]:
    """Every problem in ``exchanges``, one line each (empty when all fit)."""
    problems: list[str] = []
    for i, ex in enumerate(exchanges):
        where = f"#{i} {ex.method} {ex.path}"
        name = route_of(ex.method, ex.path)
        if name is None:
            problems.append(f"{where}: not an emulated route")
            continue
        if ex.status >= 400:
            body = ex.response_json()
            if not (isinstance(body, dict) and isinstance(body.get("detail"), (str, list, dict))):
                problems.append(f"{where} {ex.status}: an error answer without `detail`: {ex.response_body[:200]}")
            continue
        contract = CONTRACTS[name]
        if ex.request_content_type.startswith("application/json"):
            problems += request_problems(contract, ex.request_json(), f"{where} request")
        if ex.response_headers.get("content-type", "").startswith("application/json"):
            problems += answer_problems(contract, ex.response_json(), f"{where} answer")
    return problems


def describe(exchanges: list[Exchange]) -> str:
    """The recorded exchanges in one line each, for a failure message."""
    return "\n".join(f"{e.method} {e.path} {e.status} {json.dumps(e.query)}" for e in exchanges[:40])

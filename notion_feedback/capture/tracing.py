"""A small tracing API for an agent's author, over langsmith's own run trees.

``with interaction(...) as it:`` opens the root run of one user interaction (metadata: variant, model, a
pseudonymous user id, tags); ``it.tool``, ``it.decision`` and ``it.llm`` add child runs; exceptions are recorded on
the run and re-raised. The interaction then knows what a Notion row needs: run id, project id, start time, latency,
tokens, cost and the trace URL. ``@traceable`` functions called inside nest under it, as they would under
langsmith's ``trace``.

Why not ``langsmith.trace`` itself: it cannot take an explicit start time (the demo backfills two weeks of
history), and a row needs token and cost totals, which langsmith only knows server-side.

Which LangSmith the traces go to comes from ``Settings`` (endpoint, key, workspace, app address, project, whether to
trace), exactly as for the rows and the daemon: ``configure_tracing(settings)``, which ``Recorder(settings)`` calls;
without it, the first interaction loads the settings (environment and ``.env``). The SDK's own client cache, which
reads only the process environment, is never used: traces and rows could name different LangSmiths.
"""

from __future__ import annotations

import contextvars
import functools
import hashlib
import inspect
import logging
import threading
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import langsmith
from langsmith import run_helpers, run_trees
from langsmith.uuid import uuid7_from_datetime

from notion_feedback.config import Settings, load_settings
from notion_feedback.errors import NotionFeedbackError
from notion_feedback.pricing import price_usd, provider_of
from notion_feedback.smith import projects
from notion_feedback.smith.client import client_options
from notion_feedback.smith.projects import ProjectRef
from notion_feedback.timeutil import as_utc

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])

_CURRENT: contextvars.ContextVar[Interaction | None] = contextvars.ContextVar(
    "notion_feedback_interaction", default=None
)


def pseudonymous_user(user_id: str | None) -> str | None:
    """An e-mail address becomes a stable hash (``u-1a2b…``); other ids are taken as already pseudonymous."""
    if user_id is None:
        return None
    user_id = str(user_id).strip()
    if "@" in user_id:
        return "u-" + hashlib.sha256(user_id.lower().encode()).hexdigest()[:16]
    return user_id


def _now() -> datetime:
    return datetime.now(UTC)


def _error_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).strip()


# -- where traces go: from Settings, once per process ----------------------------------------------------------------


@dataclass(frozen=True)
class Tracer:
    """The client, project and on/off switch interactions use unless given their own."""

    client: langsmith.Client | None  # None when tracing is off
    project_name: str
    enabled: bool


_tracer: Tracer | None = None
_tracer_lock = threading.Lock()


def tracer_for(settings: Settings) -> Tracer:
    """The tracer ``settings`` describe: on when a LangSmith key is set (unless ``LANGSMITH_TRACING`` is false)."""
    enabled = settings.langsmith_api_key is not None and settings.langsmith_tracing is not False
    client = langsmith.Client(**client_options(settings)) if enabled else None
    return Tracer(client, settings.langsmith_project, enabled)


def configure_tracing(settings: Settings) -> Tracer:
    """Send this process's interactions where ``settings`` say (``Recorder(settings)`` does it for you)."""
    global _tracer
    tracer = tracer_for(settings)
    with _tracer_lock:
        _tracer = tracer
    return tracer


def reset_tracing(tracer: Tracer | None = None) -> None:
    """Forget the configured tracer (only ``tracer``, if given and still the one in use), flushing its queue."""
    global _tracer
    with _tracer_lock:
        if tracer is not None and _tracer is not tracer:
            return
        old, _tracer = _tracer, None
    if old is not None and old.client is not None:
        flush_tracer(old)


def flush_tracer(tracer: Tracer) -> None:
    """Wait for the SDK's background queue to send what it holds (runs are sent off the agent's thread)."""
    if tracer.client is None:
        return
    try:
        tracer.client.flush()
    except Exception as exc:  # noqa: BLE001 - tracing trouble never breaks the agent
        log.warning("could not send queued runs to LangSmith: %s", type(exc).__name__)


def current_tracer() -> Tracer:
    """The configured tracer; the first call without one loads the settings (environment and ``.env``)."""
    global _tracer
    tracer = _tracer
    if tracer is not None:
        return tracer
    with _tracer_lock:
        if _tracer is None:
            try:
                _tracer = tracer_for(load_settings())
            except NotionFeedbackError as exc:
                log.warning("tracing is off: %s", exc.message)
                _tracer = Tracer(None, "default", False)
        return _tracer


# -- the LangSmith project id: smith.projects resolves it once per (endpoint, project name) -------------------------


def trace_url(project: ProjectRef | None, run_id: str, start_time: datetime | str) -> str | None:
    """The run's page in the LangSmith app (the same form as ``Client.get_run_url``), without a request.

    The query values are percent-encoded: a start time's ``+00:00`` would otherwise read back as a space.
    """
    if project is None or not project.url:
        return None
    start = start_time.isoformat() if isinstance(start_time, datetime) else start_time
    return f"{project.url}/r/{quote(run_id, safe='')}?{urlencode({'trace_id': run_id, 'start_time': start})}"


# -- spans ------------------------------------------------------------------------------------------------------------


class Span:
    """A child run (tool, decision, LLM call). A context manager; or call ``end()``; ends at once given ``end_time``."""

    def __init__(self, owner: Interaction, run: run_trees.RunTree, *, posted: bool) -> None:
        self.owner = owner
        self.run = run
        self._posted = posted
        self.ended = False
        self._ctx: contextlib_stack | None = None

    @property
    def id(self) -> str:
        return str(self.run.id)

    def usage(
        self,
        input_tokens: int,
        output_tokens: int,
        *,
        input_cost: float | None = None,
        output_cost: float | None = None,
    ) -> None:
        """Attach token usage (and direct costs, if known) so LangSmith prices the call and the row shows it."""
        self.owner._add_usage(self, input_tokens, output_tokens, input_cost, output_cost)

    def end(
        self, outputs: Mapping[str, Any] | None = None, *, error: str | None = None, end_time: datetime | None = None
    ) -> None:
        if self.ended:
            return
        self.ended = True
        out = dict(outputs or {})
        usage = self.run.extra.get("metadata", {}).get("usage_metadata")
        if usage:
            out.setdefault("usage_metadata", usage)
        self.run.end(outputs=out, error=error, end_time=as_utc(end_time) or _now())
        self.owner._send(self.run, posted=self._posted)
        self._posted = True

    def __enter__(self) -> Span:
        if self.owner.enabled:
            self._ctx = contextlib_stack(run_helpers.tracing_context(parent=self.run, enabled=True))
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        if self._ctx is not None:
            self._ctx.close()
            self._ctx = None
        self.end(error=_error_text(exc) if exc is not None else None)


class contextlib_stack:  # noqa: N801 - a tiny helper, used like a context manager handle
    """Hold an entered context manager so it can be left later from another method."""

    def __init__(self, cm: Any) -> None:
        self.cm = cm
        cm.__enter__()

    def close(self) -> None:
        self.cm.__exit__(None, None, None)


# -- the interaction ------------------------------------------------------------------------------------------------


class Interaction:
    """One user interaction, traced as a LangSmith root run. Use as ``with interaction(...) as it`` or a decorator."""

    def __init__(
        self,
        name: str = "interaction",
        *,
        variant: str | None = None,
        model: str | None = None,
        user_id: str | None = None,
        tags: list[str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        inputs: Mapping[str, Any] | None = None,
        client: langsmith.Client | None = None,
        project_name: str | None = None,
        start_time: datetime | None = None,
        end_time: datetime | None = None,
        run_id: str | uuid.UUID | None = None,
        enabled: bool | None = None,
    ) -> None:
        self.name = name
        self.variant = variant
        self.model = model
        self.user_id = pseudonymous_user(user_id)
        self.tags = list(tags or [])
        self.extra_metadata = dict(metadata or {})
        self.inputs = dict(inputs or {})
        self.client = client
        self._project_name = project_name
        self.start_time = as_utc(start_time)
        self.end_time = as_utc(end_time)
        self._run_id = str(run_id) if run_id is not None else None
        self._enabled = enabled
        self.enabled = False
        self.run: run_trees.RunTree | None = None
        self.outputs: dict[str, Any] = {}
        self.error: str | None = None
        self.input_tokens = 0
        self.output_tokens = 0
        self._cost: float | None = None
        self._spans: list[Span] = []
        self._on_end: list[Callable[[Interaction], None]] = []
        self._ctx: contextlib_stack | None = None
        self._token: contextvars.Token[Interaction | None] | None = None
        self.ended = False

    # -- what a Notion row needs -------------------------------------------------------------------------------------

    @property
    def run_id(self) -> str:
        if self.run is None:
            raise RuntimeError("the interaction has not started: use it as `with interaction(...) as it:`")
        return str(self.run.id)

    @property
    def project_name(self) -> str:
        if self.run is not None and self.run.session_name:
            return self.run.session_name
        return self._project_name or current_tracer().project_name

    @property
    def api_url(self) -> str:
        return self._client().api_url

    @property
    def project_id(self) -> str | None:
        """The LangSmith project UUID (one request per process and project; None when tracing is off)."""
        if not self.enabled:
            return None
        return projects.project(self._client(), self.project_name, create=True).id

    @property
    def trace_url(self) -> str | None:
        if not self.enabled or self.start_time is None:
            return None
        return trace_url(projects.project(self._client(), self.project_name, create=True), self.run_id, self.start_time)

    @property
    def latency_ms(self) -> float | None:
        if self.start_time is None or self.end_time is None:
            return None
        return round((self.end_time - self.start_time).total_seconds() * 1000.0, 1)

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def cost_usd(self) -> float | None:
        """Sum of the LLM calls' costs (direct costs as given, else the price table); None if none is known."""
        return self._cost

    def _client(self) -> langsmith.Client:
        if self.client is None:
            tracer = current_tracer()
            if tracer.client is None:
                raise RuntimeError("tracing is off: set LANGSMITH_API_KEY, or pass client= to interaction()")
            self.client = tracer.client
        return self.client

    # -- children ----------------------------------------------------------------------------------------------------

    def _child(
        self,
        name: str,
        run_type: str,
        inputs: Mapping[str, Any] | None,
        metadata: Mapping[str, Any] | None,
        start_time: datetime | None,
        end_time: datetime | None,
    ) -> Span:
        if self.run is None or self.ended:
            raise RuntimeError("child spans belong inside an open interaction (`with interaction(...) as it:`)")
        parent = run_helpers.get_current_run_tree()
        if parent is None or parent.trace_id != self.run.trace_id:
            parent = self.run
        child = parent.create_child(
            name=name,
            run_type=run_type,  # type: ignore[arg-type]
            inputs=dict(inputs or {}),
            start_time=as_utc(start_time) or _now(),
            extra={"metadata": self._metadata() | dict(metadata or {})},
            tags=list(self.tags),
        )
        span = Span(self, child, posted=False)
        self._spans.append(span)
        if end_time is None and self.enabled:
            child.post()
            span._posted = True
        return span

    def tool(
        self,
        name: str,
        inputs: Mapping[str, Any] | None = None,
        *,
        outputs: Mapping[str, Any] | None = None,
        start_time: datetime | None = None,
        end_time: datetime | None = None,
    ) -> Span:
        """A tool call: ``with it.tool("search", {"q": q}) as span: ... span.end({"hits": n})``."""
        span = self._child(name, "tool", inputs, None, start_time, end_time)
        if end_time is not None:
            span.end(outputs, end_time=end_time)
        return span

    def decision(
        self,
        name: str,
        choice: Any,
        *,
        reason: str | None = None,
        options: list[Any] | None = None,
        at: datetime | None = None,
    ) -> Span:
        """A point-in-time decision of the agent (a route, a fallback), recorded as a finished child run."""
        inputs = {"options": options} if options is not None else {}
        at = as_utc(at) or _now()
        span = self._child(name, "chain", inputs, {"decision": True}, at, at)
        span.end({"choice": choice, "reason": reason} if reason else {"choice": choice}, end_time=at)
        return span

    def llm(
        self,
        model: str | None = None,
        *,
        name: str | None = None,
        provider: str | None = None,
        inputs: Mapping[str, Any] | None = None,
        outputs: Mapping[str, Any] | None = None,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        input_cost: float | None = None,
        output_cost: float | None = None,
        start_time: datetime | None = None,
        end_time: datetime | None = None,
    ) -> Span:
        """An LLM call, with ``ls_provider``/``ls_model_name`` so LangSmith prices it from its model price map."""
        model = model or self.model
        meta: dict[str, Any] = {}
        if model:
            meta["ls_model_name"] = model
            if provider := provider or provider_of(model):
                meta["ls_provider"] = provider
        span = self._child(name or model or "llm", "llm", inputs, meta, start_time, end_time)
        if input_tokens is not None or output_tokens is not None:
            span.usage(input_tokens or 0, output_tokens or 0, input_cost=input_cost, output_cost=output_cost)
        if end_time is not None:
            span.end(outputs, end_time=end_time)
        return span

    def _add_usage(
        self, span: Span, input_tokens: int, output_tokens: int, input_cost: float | None, output_cost: float | None
    ) -> None:
        input_tokens, output_tokens = int(input_tokens), int(output_tokens)
        usage: dict[str, Any] = {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens,
        }
        if input_cost is not None or output_cost is not None:
            usage["input_cost"] = float(input_cost or 0.0)
            usage["output_cost"] = float(output_cost or 0.0)
            usage["total_cost"] = usage["input_cost"] + usage["output_cost"]
            cost: float | None = usage["total_cost"]
        else:
            cost = price_usd(span.run.extra.get("metadata", {}).get("ls_model_name"), input_tokens, output_tokens)
        span.run.set(usage_metadata=usage)  # type: ignore[arg-type]
        self.input_tokens += input_tokens
        self.output_tokens += output_tokens
        if cost is not None:
            self._cost = (self._cost or 0.0) + cost

    # -- life cycle --------------------------------------------------------------------------------------------------

    def _metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = dict(self.extra_metadata)
        for key, value in (("variant", self.variant), ("model", self.model), ("user_id", self.user_id)):
            if value is not None:
                meta[key] = value
        return meta

    def _send(self, run: run_trees.RunTree, *, posted: bool) -> None:
        """Post or patch a run. Tracing trouble never breaks the agent: it is logged, not raised."""
        if not self.enabled:
            return
        try:
            run.patch() if posted else run.post()
        except Exception as exc:  # noqa: BLE001 - the SDK queues; a direct client may raise
            log.warning("could not send run %s to LangSmith: %s", run.id, type(exc).__name__)

    def __enter__(self) -> Interaction:
        tracer = current_tracer()
        enabled = self._enabled if self._enabled is not None else tracer.enabled
        if enabled and self.client is None and tracer.client is None:
            enabled = False  # asked to trace, but the settings name no LangSmith: the agent goes on untraced
        self.enabled = enabled
        self.start_time = self.start_time or _now()
        run_id = self._run_id or (str(uuid7_from_datetime(self.start_time)) if self.end_time else None)
        kwargs: dict[str, Any] = {"id": uuid.UUID(run_id)} if run_id else {}
        if self.client is not None:
            kwargs["client"] = self.client
        elif enabled:
            kwargs["client"] = self._client()
        self.run = run_trees.RunTree(
            name=self.name,
            run_type="chain",
            inputs=self.inputs,
            start_time=self.start_time,
            extra={"metadata": self._metadata()},
            tags=self.tags,
            project_name=self._project_name or tracer.project_name,
            **kwargs,
        )
        self._send(self.run, posted=False)
        self._ctx = contextlib_stack(
            run_helpers.tracing_context(
                parent=self.run if enabled else None, enabled=enabled, client=kwargs.get("client")
            )
        )
        self._token = _CURRENT.set(self)
        return self

    def end(self, outputs: Mapping[str, Any] | None = None) -> None:
        """Set the interaction's outputs (the answer); the run itself ends when the ``with`` block does."""
        self.outputs.update(outputs or {})

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        assert self.run is not None
        try:
            if exc is not None:
                self.error = f"{type(exc).__name__}: {exc}"
            end_time = self.end_time or _now()
            for span in self._spans:
                if not span.ended:
                    span.end(end_time=end_time)
            self.end_time = end_time
            self.run.end(outputs=self.outputs, error=_error_text(exc) if exc is not None else None, end_time=end_time)
            self._send(self.run, posted=True)
        finally:
            self.ended = True
            if self._ctx is not None:
                self._ctx.close()
            if self._token is not None:
                _CURRENT.reset(self._token)
            for callback in self._on_end:
                callback(self)
            self._on_end.clear()
        # Returning None re-raises the exception: it is recorded, never swallowed.

    # -- decorator -------------------------------------------------------------------------------------------------

    def _fresh(self, inputs: dict[str, Any]) -> Interaction:
        return Interaction(
            self.name,
            variant=self.variant,
            model=self.model,
            user_id=self.user_id,
            tags=self.tags,
            metadata=self.extra_metadata,
            inputs=inputs,
            client=self.client,
            project_name=self._project_name,
            enabled=self._enabled,
        )

    def __call__(self, func: F) -> F:
        """``@interaction(name=..., variant=...)``: each call is one interaction; ``current_interaction()`` inside."""
        signature = inspect.signature(func)

        def _inputs(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
            try:
                bound = signature.bind_partial(*args, **kwargs)
                return dict(bound.arguments)
            except TypeError:
                return {"args": list(args), **kwargs}

        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with self._fresh(_inputs(args, kwargs)) as it:
                    result = await func(*args, **kwargs)
                    it.end({"output": result})
                    return result

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self._fresh(_inputs(args, kwargs)) as it:
                result = func(*args, **kwargs)
                it.end({"output": result})
                return result

        return wrapper  # type: ignore[return-value]


def interaction(name: str = "interaction", **kwargs: Any) -> Interaction:
    """Open (or decorate) one traced interaction. See ``Interaction`` for the arguments."""
    return Interaction(name, **kwargs)


def current_interaction() -> Interaction | None:
    return _CURRENT.get()


def _require_current() -> Interaction:
    it = _CURRENT.get()
    if it is None:
        raise RuntimeError("no open interaction: call this inside `with interaction(...)` or an @interaction function")
    return it


def tool(name: str, inputs: Mapping[str, Any] | None = None, **kwargs: Any) -> Span:
    """A tool span under the current interaction (see ``Interaction.tool``)."""
    return _require_current().tool(name, inputs, **kwargs)


def decision(name: str, choice: Any, **kwargs: Any) -> Span:
    """A decision under the current interaction (see ``Interaction.decision``)."""
    return _require_current().decision(name, choice, **kwargs)


def llm_call(model: str | None = None, **kwargs: Any) -> Span:
    """An LLM span under the current interaction (see ``Interaction.llm``)."""
    return _require_current().llm(model, **kwargs)

"""Run payload normalisation: the many shapes SDKs post, reduced to one stored document.

The Python SDK posts ISO times with an offset; older JS SDKs post epoch milliseconds; Go/Java post ISO with
``Z``. Token usage arrives in ``outputs.usage_metadata`` (current SDKs), ``extra.metadata.usage_metadata`` (the
Python SDK's copy), LangChain's ``llm_output.token_usage`` or a raw OpenAI ``usage`` block. LangSmith accepts
all of them, so the emulator does too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from notion_feedback.sandbox.langsmith.exceptions import ApiError, PayloadError

RUN_FIELDS = (
    "id",
    "name",
    "run_type",
    "start_time",
    "end_time",
    "extra",
    "error",
    "serialized",
    "events",
    "inputs",
    "outputs",
    "reference_example_id",
    "parent_run_id",
    "tags",
    "trace_id",
    "dotted_order",
    "session_id",
    "session_name",
    "attachments",
)


def parse_time(value: Any) -> datetime | None:
    """Any time a client may send -> aware UTC datetime. Naive ISO strings are UTC, as on the server."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, int | float):
        seconds = value / 1000.0 if value > 1e11 else float(value)  # JS SDKs send epoch milliseconds
        return datetime.fromtimestamp(seconds, UTC)
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(text)
        except ValueError as exc:
            try:
                return parse_time(float(text))
            except ValueError:
                raise PayloadError(f"invalid datetime: {value!r}") from exc
    else:
        raise PayloadError(f"invalid datetime: {value!r}")
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def iso_naive(dt: datetime | None) -> str | None:
    """LangSmith's runs API returns naive UTC timestamps (no offset); keep that so clients meet it here."""
    if dt is None:
        return None
    return dt.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def iso_aware(dt: datetime | None) -> str | None:
    return None if dt is None else dt.astimezone(UTC).isoformat(timespec="microseconds")


def as_uuid(value: Any, what: str = "id") -> str:
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, TypeError, AttributeError) as exc:
        raise PayloadError(f"{what} is not a valid UUID: {value!r}") from exc


def api_uuid(value: Any, what: str) -> str:
    """``as_uuid`` for an id a request names: a malformed one is the API's 422, not an ingestion error."""
    try:
        return as_uuid(value, what)
    except PayloadError as exc:
        raise ApiError(422, str(exc)) from exc


def dotted_order_time(dotted_order: str | None) -> datetime | None:
    """The last segment's timestamp: ``20241011T205823298773Z<uuid>``."""
    if not dotted_order:
        return None
    last = dotted_order.split(".")[-1]
    try:
        return datetime.strptime(last[:22], "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def dotted_order_ids(dotted_order: str | None) -> list[str]:
    """Run ids along the path from the trace root to this run."""
    if not dotted_order:
        return []
    out = []
    for seg in dotted_order.split("."):
        try:
            out.append(str(uuid.UUID(seg[-36:])))
        except ValueError:
            continue
    return out


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    prompt_token_details: dict[str, int] = field(default_factory=dict)
    completion_token_details: dict[str, int] = field(default_factory=dict)
    direct_prompt_cost: float | None = None
    direct_completion_cost: float | None = None
    direct_total_cost: float | None = None
    prompt_cost_details: dict[str, float] = field(default_factory=dict)
    completion_cost_details: dict[str, float] = field(default_factory=dict)
    found: bool = False


def _int(v: Any) -> int:
    try:
        return int(v or 0)
    except (TypeError, ValueError):
        return 0


def _float(v: Any) -> float | None:
    if v is None:
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _int_details(d: Any) -> dict[str, int]:
    return {str(k): _int(v) for k, v in d.items() if isinstance(v, int | float)} if isinstance(d, dict) else {}


def _usage_block(doc: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    outputs = doc.get("outputs") if isinstance(doc.get("outputs"), dict) else {}
    extra = doc.get("extra") if isinstance(doc.get("extra"), dict) else {}
    metadata = extra.get("metadata") if isinstance(extra.get("metadata"), dict) else {}
    for block in (outputs.get("usage_metadata"), metadata.get("usage_metadata")):
        if isinstance(block, dict) and block:
            return "usage_metadata", block
    # LangChain chat model outputs: generations[0][0].message.kwargs.usage_metadata
    gens = outputs.get("generations")
    if isinstance(gens, list) and gens:
        first = gens[0][0] if isinstance(gens[0], list) and gens[0] else gens[0]
        if isinstance(first, dict):
            msg = first.get("message") or {}
            um = (msg.get("kwargs") or {}).get("usage_metadata") if isinstance(msg, dict) else None
            if isinstance(um, dict) and um:
                return "usage_metadata", um
    llm_output = outputs.get("llm_output")
    if isinstance(llm_output, dict):
        tu = llm_output.get("token_usage") or llm_output.get("usage")
        if isinstance(tu, dict) and tu:
            return "openai", tu
    if isinstance(outputs.get("usage"), dict) and outputs["usage"]:
        return "openai", outputs["usage"]
    return None


def extract_usage(doc: dict[str, Any]) -> Usage:
    """Tokens and direct costs of one run, from wherever this client put them."""
    found = _usage_block(doc)
    if found is None:
        return Usage()
    kind, b = found
    u = Usage(found=True)
    if kind == "usage_metadata":
        u.prompt_tokens = _int(b.get("input_tokens"))
        u.completion_tokens = _int(b.get("output_tokens"))
        u.prompt_token_details = _int_details(b.get("input_token_details"))
        u.completion_token_details = _int_details(b.get("output_token_details"))
        u.direct_prompt_cost = _float(b.get("input_cost"))
        u.direct_completion_cost = _float(b.get("output_cost"))
        u.direct_total_cost = _float(b.get("total_cost"))
        if isinstance(b.get("input_cost_details"), dict):
            u.prompt_cost_details = {k: float(v) for k, v in b["input_cost_details"].items() if _float(v) is not None}
        if isinstance(b.get("output_cost_details"), dict):
            u.completion_cost_details = {
                k: float(v) for k, v in b["output_cost_details"].items() if _float(v) is not None
            }
    else:  # OpenAI / LangChain legacy names
        u.prompt_tokens = _int(b.get("prompt_tokens") or b.get("input_tokens"))
        u.completion_tokens = _int(b.get("completion_tokens") or b.get("output_tokens"))
        u.prompt_token_details = _int_details(b.get("prompt_tokens_details"))
        u.completion_token_details = _int_details(b.get("completion_tokens_details"))
        if "cached_tokens" in u.prompt_token_details:
            u.prompt_token_details["cache_read"] = u.prompt_token_details.pop("cached_tokens")
        if "reasoning_tokens" in u.completion_token_details:
            u.completion_token_details["reasoning"] = u.completion_token_details.pop("reasoning_tokens")
    u.total_tokens = _int(b.get("total_tokens")) or (u.prompt_tokens + u.completion_tokens)
    return u


def model_of(doc: dict[str, Any]) -> tuple[str | None, str | None]:
    """(model name, provider) the price map is matched on: ``ls_model_name`` first, as LangSmith does."""
    extra = doc.get("extra") if isinstance(doc.get("extra"), dict) else {}
    md = extra.get("metadata") if isinstance(extra.get("metadata"), dict) else {}
    inv = extra.get("invocation_params") if isinstance(extra.get("invocation_params"), dict) else {}
    model = md.get("ls_model_name") or inv.get("model") or inv.get("model_name")
    provider = md.get("ls_provider") or inv.get("_type")
    return (str(model) if model else None, str(provider) if provider else None)


def first_token_time(events: Any) -> datetime | None:
    """Time of the first streamed token: the SDK records each chunk as a ``new_token`` event."""
    if not isinstance(events, list):
        return None
    for ev in events:
        if isinstance(ev, dict) and ev.get("name") == "new_token" and ev.get("time"):
            try:
                return parse_time(ev["time"])
            except PayloadError:
                return None
    return None


def thread_id_of(metadata: dict[str, Any]) -> str | None:
    for key in ("session_id", "thread_id", "conversation_id"):
        if metadata.get(key):
            return str(metadata[key])
    return None

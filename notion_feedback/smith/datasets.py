"""LangSmith datasets and their examples, as the learning job needs them: find or create a dataset, read what it
holds, and write examples in batches with ids the caller chooses.

Why caller-chosen ids: an example's id is derived from its run and its dataset (``example_id``), so a create whose
answer was lost is found by the next listing instead of being sent twice, and a job killed at any instant is
finished by the next run computing the same difference again. Deletes are hard deletes: the example is gone for
good (a cleared rating, a person's data), and its id can hold the run again if it is rated that way later.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import langsmith
from langsmith import utils as ls_utils

from notion_feedback.errors import LangSmithAccessError, TransientLangSmithError, is_permanent_status
from notion_feedback.smith.feedback import http_status

EXAMPLE_NAMESPACE = uuid.UUID("b6f7a0d1-41c2-5e3a-9d0f-2a8c7e5b4f13")
"""Fixed forever: changing it would orphan every example already written."""
WRITE_BATCH = 100
"""Examples per create, update or delete request: well under LangSmith's body limits for typical runs."""
RUNS_PER_QUERY = 100
"""Runs per ``/runs/query`` (its page limit); that endpoint allows 15 requests per 10 s."""


def example_id(run_id: str, dataset_id: str) -> str:
    """The example a run has in a dataset: the same on every machine, every run of the job, after any crash."""
    return str(uuid.uuid5(EXAMPLE_NAMESPACE, f"{uuid.UUID(run_id)}:{uuid.UUID(dataset_id)}"))


@dataclass(frozen=True)
class ExampleDoc:
    """One example as the job compares and writes it."""

    id: str
    source_run_id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any] | None
    metadata: dict[str, Any] = field(default_factory=dict)

    def as_create(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "inputs": self.inputs,
            "outputs": self.outputs,
            "metadata": self.metadata,
            "source_run_id": self.source_run_id,
        }

    def as_update(self) -> dict[str, Any]:
        return {"id": self.id, "inputs": self.inputs, "outputs": self.outputs, "metadata": self.metadata}


def translate(exc: Exception, what: str) -> Exception:
    status = http_status(exc)
    if isinstance(exc, (ls_utils.LangSmithConnectionError, ConnectionError)) or (
        status is not None and not is_permanent_status(status)
    ):
        return TransientLangSmithError(f"{what}: {'HTTP ' + str(status) if status else 'connection failed'}")
    if status in (401, 403):
        return LangSmithAccessError(
            f"LangSmith refused the API key while trying to {what} (HTTP {status})",
            "check LANGSMITH_API_KEY (a key of the workspace that holds the project) and LANGSMITH_ENDPOINT",
        )
    return exc


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def find_dataset(client: langsmith.Client, name: str) -> str | None:
    """The id of the dataset with this name, or None (one request)."""
    try:
        return str(client.read_dataset(dataset_name=name).id)
    except ls_utils.LangSmithNotFoundError:
        return None
    except Exception as exc:  # noqa: BLE001 - translated
        raise translate(exc, f"read the dataset {name!r}") from None


def create_dataset(client: langsmith.Client, name: str, description: str) -> str:
    """Create the dataset; one another daemon created a moment ago is found instead."""
    try:
        return str(client.create_dataset(name, description=description).id)
    except ls_utils.LangSmithConflictError:
        return str(client.read_dataset(dataset_name=name).id)
    except Exception as exc:  # noqa: BLE001 - translated
        raise translate(exc, f"create the dataset {name!r}") from None


def ensure_dataset(client: langsmith.Client, name: str, description: str, *, create: bool = True) -> str | None:
    """The dataset's id, created when missing (``create=False``: None when missing, nothing written)."""
    found = find_dataset(client, name)
    if found is not None or not create:
        return found
    return create_dataset(client, name, description)


def list_examples(client: langsmith.Client, dataset_id: str) -> dict[str, ExampleDoc]:
    """Every example of the dataset, by id (one request per 100)."""
    out: dict[str, ExampleDoc] = {}
    try:
        for ex in client.list_examples(dataset_id=dataset_id):
            out[str(ex.id)] = ExampleDoc(
                str(ex.id),
                str(ex.source_run_id) if ex.source_run_id else "",
                dict(ex.inputs or {}),
                dict(ex.outputs) if ex.outputs is not None else None,
                dict(ex.metadata or {}),
            )
    except Exception as exc:  # noqa: BLE001 - translated
        raise translate(exc, "list the dataset's examples") from None
    return out


def create_examples(client: langsmith.Client, dataset_id: str, examples: list[ExampleDoc]) -> None:
    """Create the examples; those that already exist (a create whose answer was lost, another daemon) are
    updated instead: a bulk create is all or nothing, so a 409 is settled by reading which ids exist."""
    for chunk in chunks(examples, WRITE_BATCH):
        try:
            client.create_examples(dataset_id=dataset_id, examples=[e.as_create() for e in chunk])
        except ls_utils.LangSmithConflictError:
            exist = _existing_ids(client, dataset_id, [e.id for e in chunk])
            fresh = [e for e in chunk if e.id not in exist]
            if fresh:
                create_examples(client, dataset_id, fresh)
            update_examples(client, dataset_id, [e for e in chunk if e.id in exist])
        except Exception as exc:  # noqa: BLE001 - translated
            raise translate(exc, "create examples") from None


def _existing_ids(client: langsmith.Client, dataset_id: str, ids: list[str]) -> set[str]:
    try:
        return {str(ex.id) for ex in client.list_examples(dataset_id=dataset_id, example_ids=ids)}
    except Exception as exc:  # noqa: BLE001 - translated
        raise translate(exc, "read examples") from None


def update_examples(client: langsmith.Client, dataset_id: str, examples: list[ExampleDoc]) -> None:
    if not examples:
        return
    for chunk in chunks(examples, WRITE_BATCH):
        try:
            client.update_examples(dataset_id=dataset_id, updates=[e.as_update() for e in chunk])
        except Exception as exc:  # noqa: BLE001 - translated
            raise translate(exc, "update examples") from None


def delete_examples(client: langsmith.Client, ids: Iterable[str]) -> None:
    for chunk in chunks(sorted(ids), WRITE_BATCH):
        try:
            client.delete_examples(chunk, hard_delete=True)
        except ls_utils.LangSmithNotFoundError:
            pass  # already gone: what a delete wants
        except Exception as exc:  # noqa: BLE001 - translated
            raise translate(exc, "delete examples") from None


@dataclass(frozen=True)
class RunContent:
    """What an example takes from its run."""

    inputs: dict[str, Any]
    outputs: dict[str, Any] | None
    metadata: dict[str, Any]


def run_contents(client: langsmith.Client, project_id: str, run_ids: list[str]) -> dict[str, RunContent]:
    """Inputs, outputs and metadata of these runs, by run id: one ``/runs/query`` per 100 runs."""
    out: dict[str, RunContent] = {}
    for chunk in chunks(sorted(set(run_ids)), RUNS_PER_QUERY):
        body = {"session": [project_id], "id": chunk, "limit": RUNS_PER_QUERY, "select": ["inputs", "outputs", "extra"]}
        try:
            response = client.request_with_retries("POST", "/runs/query", json=body)
            ls_utils.raise_for_status_with_text(response)
        except Exception as exc:  # noqa: BLE001 - translated
            raise translate(exc, "read runs") from None
        for run in response.json().get("runs", []):
            meta = (run.get("extra") or {}).get("metadata") or {}
            out[str(run["id"])] = RunContent(run.get("inputs") or {}, run.get("outputs"), dict(meta))
    return out


@dataclass(frozen=True)
class Rated:
    """A rating as LangSmith holds it (the sync's exact image of the Feedback row)."""

    run_id: str
    score: float
    label: str | None
    comment: str | None
    row_url: str | None
    run_start: datetime | None = None


def rated_runs(client: langsmith.Client, project_id: str, key: str) -> list[Rated]:
    """Every rating with ``key`` in the project (one request per 100 ratings)."""
    out: list[Rated] = []
    try:
        for fb in client.list_feedback(feedback_key=[key], session=[project_id]):
            if fb.run_id is None or fb.score is None:
                continue
            meta = (fb.feedback_source.metadata if fb.feedback_source else None) or {}
            label = fb.value if isinstance(fb.value, str) else None
            url = meta.get("notion_url")
            out.append(Rated(str(fb.run_id), float(fb.score), label, fb.comment or None, url, fb.start_time))
    except Exception as exc:  # noqa: BLE001 - translated
        raise translate(exc, "list feedback") from None
    return out


def search_examples(
    client: langsmith.Client, dataset_id: str, inputs: dict[str, Any], limit: int
) -> list[tuple[ExampleDoc, float]]:
    """LangSmith's own nearest examples to ``inputs`` in an indexed dataset, best first (one request; the 0.15 SDK
    has no method for it)."""
    response = client.request_with_retries(
        "POST", f"/datasets/{dataset_id}/search", json={"inputs": inputs, "limit": limit}
    )
    ls_utils.raise_for_status_with_text(response)
    out = []
    for ex in response.json().get("examples") or []:
        doc = ExampleDoc(
            str(ex["id"]),
            str(ex.get("source_run_id") or ""),
            dict(ex.get("inputs") or {}),
            ex.get("outputs"),
            dict(ex.get("metadata") or {}),
        )
        out.append((doc, float(ex.get("score") or 0.0)))
    return out


def offers_search(client: langsmith.Client, dataset_id: str) -> bool:
    """Whether LangSmith answers example searches on the dataset (it must be indexed for it): one probe search."""
    try:
        search_examples(client, dataset_id, {"question": "probe"}, 1)
    except Exception:  # noqa: BLE001 - not indexed, or no such feature on this server: the local copy serves
        return False
    return True

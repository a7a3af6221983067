"""Few-shot search over a dataset's examples (``POST /datasets/{id}/search``), once the dataset is indexed.

LangSmith ranks by embeddings; the emulator ranks by a plain, predictable measure so tests can say which example
comes first: the cosine of the token sets of the two inputs, ``|A ∩ B| / sqrt(|A| · |B|)``, where a token is a
lower-cased run of letters and digits in any key or string value of the inputs (numbers and booleans count by
their JSON text). Equal scores keep creation order. A dataset that was never indexed answers 400.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from notion_feedback.sandbox.langsmith.exceptions import ApiError
from notion_feedback.sandbox.langsmith.models.datasets import get_dataset
from notion_feedback.sandbox.langsmith.models.store import LangSmithStore

_WORD = re.compile(r"[^\W_]+")


def tokens(value: Any) -> set[str]:
    """Every word of ``value``'s keys and leaves, lower-cased."""
    if isinstance(value, dict):
        return {t for k, v in value.items() for t in tokens(str(k)) | tokens(v)}
    if isinstance(value, list):
        return {t for v in value for t in tokens(v)}
    text = value if isinstance(value, str) else json.dumps(value)
    return {w.lower() for w in _WORD.findall(text)}


def similarity(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / math.sqrt(len(a) * len(b))


def search(store: LangSmithStore, dataset_id: str, body: Any) -> dict[str, Any]:
    """The ``limit`` examples nearest to ``inputs``, best first, each with its ``score``."""
    if not isinstance(body, dict) or not isinstance(body.get("inputs"), dict):
        raise ApiError(422, "inputs is required")
    limit = body.get("limit", 5)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 100:
        raise ApiError(422, "limit must be an integer from 1 to 100")
    with store.lock:
        dataset = get_dataset(store, dataset_id)
        if not dataset.get("_indexed"):
            raise ApiError(400, f"Dataset {dataset['id']} is not indexed for few-shot search")
        query = tokens(body["inputs"])
        scored = [
            (similarity(query, tokens(e["inputs"])), i, e)
            for i, e in enumerate(store.examples.values())
            if e["dataset_id"] == dataset["id"]
        ]
    scored.sort(key=lambda t: (-t[0], t[1]))
    return {
        "examples": [
            {
                "id": e["id"],
                "dataset_id": e["dataset_id"],
                "inputs": e["inputs"],
                "outputs": e["outputs"],
                "metadata": e["metadata"],
                "score": round(score, 6),
            }
            for score, _, e in scored[:limit]
        ]
    }

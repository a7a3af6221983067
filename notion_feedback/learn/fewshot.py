"""Few-shot examples for the agent's prompt: the past questions most like this one whose answers people rated high.

``examples(question, k=3)`` answers from an index in memory over a copy of the high-rated dataset; it never waits
for the network. Where LangSmith offers its own example search (the dataset is indexed for it: the background
refresh finds out), ``examples(question, k, wait=0.2)`` asks it first and waits at most ``wait`` seconds, then
answers from the copy; the default ``wait=0`` never asks. A background thread loads the copy when first asked
and refreshes it every ``refresh_seconds``; until the first load lands, and whenever LangSmith cannot be reached,
the call answers from what it has (nothing, at first). A call costs a fraction of a millisecond at 10,000
examples (``bench/bench_fewshot.py``).

Similarity is TF-IDF cosine over words: a word many questions share counts little, a rare one much, so "refund
for order 1234" finds other refund questions before other order questions. It is plain, explainable and needs no
model; a team with an embedding model of its own can rank the same copy (``FewShotExamples.pairs``) its own way.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from notion_feedback.config import Settings, load_settings
from notion_feedback.words import STOPWORDS

log = logging.getLogger(__name__)

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
MAX_QUESTION_CHARS = 2_000
"""A question is cut to this before it is compared: a pasted document costs what a long question does."""
QUESTION_KEYS = ("question", "input", "query", "prompt", "text")
ANSWER_KEYS = ("answer", "output", "response", "text")


@dataclass(frozen=True)
class FewShot:
    """One past interaction to show the model: what was asked, what was answered, how people rated it."""

    question: str
    answer: str
    similarity: float
    rating: str | None
    run_id: str


def words(text: str) -> list[str]:
    """The words of a question that can tell it from another (function words dropped)."""
    return [w for w in _WORD.findall(text[:MAX_QUESTION_CHARS].lower()) if w not in STOPWORDS]


def first_text(value: Any, keys: tuple[str, ...]) -> str:
    """The text an example's inputs or outputs hold: a known key first, else the first string anywhere."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in keys:
            if isinstance(value.get(key), str):
                return value[key]
        for inner in value.values():
            found = first_text(inner, keys)
            if found:
                return found
    if isinstance(value, list):
        for inner in value:
            found = first_text(inner.get("content") if isinstance(inner, dict) else inner, keys)
            if found:
                return found
    return ""


@dataclass(frozen=True)
class Pair:
    question: str
    answer: str
    rating: str | None
    run_id: str


def pair_of(inputs: Any, outputs: Any, metadata: dict[str, Any] | None, run_id: str) -> Pair | None:
    question, answer = first_text(inputs, QUESTION_KEYS), first_text(outputs, ANSWER_KEYS)
    if not question or not answer:
        return None
    return Pair(question, answer, (metadata or {}).get("rating"), run_id)


class ExampleIndex:
    """An immutable TF-IDF index over the pairs' questions; ``search`` ranks them against a question."""

    def __init__(self, pairs: Iterable[Pair]) -> None:
        self.pairs = list(pairs)
        postings: dict[str, list[int]] = {}
        for i, pair in enumerate(self.pairs):
            for word in set(words(pair.question)):
                postings.setdefault(word, []).append(i)
        n = max(1, len(self.pairs))
        self._idf = {w: math.log(1 + n / len(docs)) for w, docs in postings.items()}
        self._postings = {w: np.asarray(docs, dtype=np.int32) for w, docs in postings.items()}
        norms = np.zeros(len(self.pairs))
        for word, docs in self._postings.items():
            norms[docs] += self._idf[word] ** 2
        self._norms = np.sqrt(np.maximum(norms, 1e-12))

    def __len__(self) -> int:
        return len(self.pairs)

    def search(self, question: str, k: int = 3) -> list[FewShot]:
        query = [w for w in set(words(question)) if w in self._postings]
        if not query or k <= 0:
            return []
        docs = np.concatenate([self._postings[w] for w in query])
        weights = np.concatenate([np.full(len(self._postings[w]), self._idf[w] ** 2) for w in query])
        scores = np.bincount(docs, weights=weights, minlength=len(self.pairs))
        qnorm = math.sqrt(sum(self._idf[w] ** 2 for w in query))
        scores = scores / (self._norms * qnorm)
        k = min(k, int(np.count_nonzero(scores)))
        if k == 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        ranked = sorted(top.tolist(), key=lambda i: (-scores[i], i))[:k]
        out = []
        for i in ranked:
            p = self.pairs[i]
            out.append(FewShot(p.question, p.answer, round(float(scores[i]), 4), p.rating, p.run_id))
        return out


class FewShotExamples:
    """The high-rated dataset, copied into memory and kept fresh by a background thread."""

    def __init__(self, settings: Settings | None = None, *, refresh_seconds: float = 300.0, client: Any = None):
        self.settings = settings
        self.refresh_seconds = refresh_seconds
        self._client = client
        self._index = ExampleIndex([])
        self._loaded = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.last_error: str | None = None
        self.server_search: str | None = None
        """The high-rated dataset's id when LangSmith answers example searches on it (found by the refresh)."""
        self._asker: Any = None
        self._run_of: dict[str, str] = {}  # example id -> its run (a search answer names the example only)

    # -- the agent's side: memory only --------------------------------------------------------------------------
    def examples(self, question: str, k: int = 3, wait: float = 0.0) -> list[FewShot]:
        """The ``k`` most similar high-rated past interactions (fewer when fewer match; none before the first
        load). With ``wait`` > 0 and LangSmith's example search on offer, its answer if it comes within ``wait``
        seconds; otherwise, and by default, the copy's, without waiting: the first call starts the load."""
        if self._thread is None:
            self.start()
        if wait > 0 and self.server_search:
            found = self._ask_server(question, k, wait)
            if found is not None:
                return found
        return self._index.search(question, k)

    def _ask_server(self, question: str, k: int, wait: float) -> list[FewShot] | None:
        from concurrent.futures import ThreadPoolExecutor
        from concurrent.futures import TimeoutError as Late

        with self._lock:
            if self._asker is None:
                self._asker = ThreadPoolExecutor(max_workers=2, thread_name_prefix="notion-feedback-search")
        future = self._asker.submit(self._server_search, question, k)
        try:
            return future.result(timeout=wait)
        except Late:
            return None
        except Exception as exc:  # noqa: BLE001 - the copy answers; the log says why
            log.debug("LangSmith example search failed: %s", exc)
            return None

    def _server_search(self, question: str, k: int) -> list[FewShot]:
        from notion_feedback.smith.datasets import search_examples

        client = self._client_for(self.settings or load_settings())
        out = []
        for ex, score in search_examples(client, str(self.server_search), {"question": question}, k):
            pair = pair_of(ex.inputs, ex.outputs, ex.metadata, ex.source_run_id or self._run_of.get(ex.id, ""))
            if pair is not None:
                out.append(FewShot(pair.question, pair.answer, round(score, 4), pair.rating, pair.run_id))
        return out

    def _client_for(self, settings: Settings) -> Any:
        from notion_feedback.smith.client import make_langsmith_client

        if self._client is None:
            self._client = make_langsmith_client(settings)
        return self._client

    @property
    def pairs(self) -> list[Pair]:
        return list(self._index.pairs)

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until the first load finished (for scripts and tests; an agent need not call it)."""
        if self._thread is None:
            self.start()
        return self._loaded.wait(timeout)

    # -- the background side ---------------------------------------------------------------------------------------
    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="notion-feedback-fewshot", daemon=True)
                self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._asker is not None:
            self._asker.shutdown(wait=False, cancel_futures=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.refresh()
            except Exception as exc:  # noqa: BLE001 - the agent keeps the copy it has; the log says why
                self.last_error = f"{exc.__class__.__name__}: {exc}"
                log.warning("few-shot examples not refreshed: %s", self.last_error)
            finally:
                self._loaded.set()
            self._stop.wait(self.refresh_seconds)

    def refresh(self) -> int:
        """Read the high-rated dataset now and swap the index (one request per 100 examples)."""
        from notion_feedback.smith import datasets

        settings = self.settings or load_settings()
        client = self._client_for(settings)
        name = settings.dataset_name("high")
        dataset_id = datasets.find_dataset(client, name)
        held = datasets.list_examples(client, dataset_id) if dataset_id else {}
        self.server_search = dataset_id if dataset_id and datasets.offers_search(client, dataset_id) else None
        self._run_of = {ex.id: ex.source_run_id for ex in held.values()}
        pairs = [
            p
            for ex in sorted(held.values(), key=lambda e: e.id)
            if (p := pair_of(ex.inputs, ex.outputs, ex.metadata, ex.source_run_id)) is not None
        ]
        started = time.perf_counter()
        index = ExampleIndex(pairs)
        self._index = index  # one reference swap: a concurrent search sees the old copy or the new, whole
        log.debug("few-shot index of %d examples built in %.3f s", len(pairs), time.perf_counter() - started)
        self.last_error = None
        return len(pairs)


_default: FewShotExamples | None = None
_default_lock = threading.Lock()


def examples(question: str, k: int = 3, wait: float = 0.0) -> list[FewShot]:
    """The ``k`` most similar high-rated past interactions, for the agent's prompt (see the module docstring;
    ``wait``: how long LangSmith's own example search may take, where it is on offer).

    One copy per process, loaded in the background from the settings (environment / ``.env``) on first call.
    """
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = FewShotExamples()
    return _default.examples(question, k, wait)

"""Fast synthetic runs for benchmarks: a million root runs written straight into the columns (no JSON
documents), generated with vectorised numpy draws, so loading takes about a second.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np

from notion_feedback.sandbox.langsmith.models.columns import MetaColumn
from notion_feedback.sandbox.langsmith.models.store import LangSmithStore

DEFAULT_MODELS = {"gpt-4o-mini": ("openai", 0.6), "gpt-4.1": ("openai", 0.25), "claude-sonnet-4": ("anthropic", 0.15)}


def bulk_load_runs(
    store: LangSmithStore,
    n: int,
    *,
    project_name: str = "bulk",
    start_time: datetime | None = None,
    days: float = 30.0,
    name: str = "agent",
    run_type: str = "chain",
    models: dict[str, tuple[str, float]] | None = None,
    error_rate: float = 0.05,
    streaming_rate: float = 0.3,
    feedback_key: str | None = "user_rating",
    feedback_rate: float = 0.2,
    metadata: dict[str, list[str]] | None = None,
    seed: int = 0,
) -> str:
    """Insert ``n`` root runs spread over ``days`` from ``start_time`` (default: ``days`` ago) into
    ``project_name`` (created if needed); returns the project id.

    Each run gets a model from ``models`` ({name: (provider, share)}), lognormal latency, tokens, costs from
    the price map, ``metadata`` values ({key: choices}, plus ``ls_model_name``), an error with probability
    ``error_rate`` and a 0/1 ``feedback_key`` score with probability ``feedback_rate``.
    """
    rng = np.random.default_rng(seed)
    models = models or DEFAULT_MODELS
    with store.lock:
        sid = store.resolve_session(None, project_name)
        scode = store.sess_codes.code(sid)
        now = store.now()
        t0 = (start_time or now - timedelta(days=days)).timestamp()
        row0 = store.runs.alloc(n)
        sl = slice(row0, row0 + n)
        a = store.runs.arr
        a["alive"][sl] = True
        a["sess"][sl] = scode
        a["name"][sl] = store.names.code(name)
        a["rtype"][sl] = store.rtypes.code(run_type)
        a["root"][sl] = True
        a["trace"][sl] = np.arange(store.next_bulk_trace, store.next_bulk_trace + n)
        store.next_bulk_trace += n
        a["id_hi"][sl] = rng.integers(0, 2**63, n, dtype=np.uint64) | np.uint64(1 << 62)
        a["id_lo"][sl] = rng.integers(0, 2**63, n, dtype=np.uint64)
        start = np.sort(t0 + rng.random(n) * days * 86400.0)
        latency = rng.lognormal(mean=0.5, sigma=0.8, size=n)
        a["start"][sl] = start
        a["end"][sl] = start + latency
        stream = rng.random(n) < streaming_rate
        a["stream"][sl] = stream
        a["first_tok"][sl] = np.where(stream, start + latency * rng.uniform(0.05, 0.3, n), np.nan)
        a["err"][sl] = rng.random(n) < error_rate
        names, pick = _usage(store, rng, sl, models)
        _meta(store, "ls_model_name", names, pick, row0, n)
        for key, choices in (metadata or {}).items():
            _meta(store, key, list(choices), rng.integers(0, len(choices), n), row0, n)
        store.docs.extend([None] * n)
        if feedback_key:
            _feedback(store, rng, row0, n, scode, feedback_key, feedback_rate)
        return sid


def _usage(
    store: LangSmithStore, rng: np.random.Generator, sl: slice, models: dict[str, tuple[str, float]]
) -> tuple[list[str], np.ndarray]:
    """Tokens and costs of the rows in ``sl``, each from a model drawn by share; returns the models and picks."""
    n = sl.stop - sl.start
    a = store.runs.arr
    pt = rng.poisson(800, n).astype(np.int64)
    ct = rng.poisson(200, n).astype(np.int64)
    names = list(models)
    shares = np.asarray([models[m][1] for m in names], dtype=float)
    pick = rng.choice(len(names), size=n, p=shares / shares.sum())
    pin = np.zeros(len(names))
    pout = np.zeros(len(names))
    for i, m in enumerate(names):
        price = store.prices.lookup(m, models[m][0])
        if price:
            pin[i], pout[i] = price.input_per_million / 1e6, price.output_per_million / 1e6
    pc, cc = pt * pin[pick], ct * pout[pick]
    for prefix in ("own_", ""):
        a[prefix + "pt"][sl] = pt
        a[prefix + "ct"][sl] = ct
        a[prefix + "tt"][sl] = pt + ct
        a[prefix + "pc"][sl] = pc
        a[prefix + "cc"][sl] = cc
        a[prefix + "tc"][sl] = pc + cc
    return names, pick


def _feedback(
    store: LangSmithStore,
    rng: np.random.Generator,
    row0: int,
    n: int,
    scode: int,
    feedback_key: str,
    feedback_rate: float,
) -> None:
    """A 0/1 ``feedback_key`` score (80 % ones) on a share ``feedback_rate`` of the ``n`` rows from ``row0``."""
    a = store.runs.arr
    rows = row0 + np.flatnonzero(rng.random(n) < feedback_rate)
    k = len(rows)
    f0 = store.fb.alloc(k)
    fs = slice(f0, f0 + k)
    fa = store.fb.arr
    fa["alive"][fs] = True
    fa["run"][fs] = rows
    fa["sess"][fs] = scode
    fa["key"][fs] = store.fb_keys.code(feedback_key)
    fa["score"][fs] = (rng.random(k) < 0.8).astype(np.float64)
    fa["created"][fs] = a["end"][rows]
    store.fb_docs.extend([None] * k)


def _meta(store: LangSmithStore, key: str, labels: list[Any], pick: np.ndarray, row0: int, n: int) -> None:
    col = store.meta.get(key)
    if col is None:
        col = store.meta[key] = MetaColumn(store.runs.cap)
    col.view(row0 + n)
    codes = np.asarray([col.values.code(str(v)) for v in labels], dtype=np.int32)
    col.codes[row0 : row0 + n] = codes[pick]

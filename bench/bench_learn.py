"""Benchmark: what one learning pass costs in LangSmith requests after 1,000 ratings changed, beside writing
example by example.

    python bench/bench_learn.py [--rated 5000] [--changed 1000]

On the sandbox: ``--rated`` finished runs with a rating each (feedback written straight to LangSmith, which is
all the pass reads), a first pass that fills both datasets, then ``--changed`` ratings changed — a third moved
from low to high or back, a third cleared, a third new — and a second pass, whose requests are counted by
endpoint from the emulator's own counters. The baseline, computed from the same difference, is the obvious
implementation: one request per example written (create, update or delete) after the same listings. The pass
must leave the datasets exactly as the ratings say; the benchmark checks it.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

from notion_feedback.learn import run_learn
from notion_feedback.learn.plan import HIGH, LOW
from notion_feedback.sandbox.server import Sandbox, SandboxOptions
from notion_feedback.smith.client import make_langsmith_client
from notion_feedback.smith.projects import project
from notion_feedback.testing import sandbox_settings


def _rate(client, project_id: str, run_id: str, score: float) -> None:  # type: ignore[no-untyped-def]
    fid = str(uuid.uuid5(uuid.NAMESPACE_URL, run_id))
    try:
        client.update_feedback(fid, score=score, value=str(int(score)))
    except Exception:  # noqa: BLE001 - not there yet: create it
        client.create_feedback(
            run_id, "user_rating", score=score, value=str(int(score)), feedback_id=fid, session_id=project_id
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rated", type=int, default=5000)
    parser.add_argument("--changed", type=int, default=1000)
    args = parser.parse_args()
    rng = random.Random(3)
    with tempfile.TemporaryDirectory() as tmp, Sandbox(SandboxOptions(rate_limit=False)) as sb:
        settings = sandbox_settings(
            sb.env(), Path(tmp), langsmith_project="bench-learn", langsmith_requests_per_second=1000.0
        )
        client = make_langsmith_client(settings)
        project_id = project(client, settings.langsmith_project, create=True).id
        from notion_feedback.testing import World

        world = World(settings, project_id, "", "", client, sb)
        runs = world.batch_runs(args.rated)
        scores = {run: float(rng.choice([1, 2, 3, 4, 5])) for run in runs}
        started = time.perf_counter()
        for run, score in scores.items():
            _rate(client, project_id, run, score)
        print(f"{args.rated:,} rated runs loaded in {time.perf_counter() - started:.0f} s")
        first = run_learn(settings)
        print(f"first pass: {first.summary()}")
        changed = rng.sample(runs, args.changed)
        for i, run in enumerate(changed):
            if i % 3 == 0:  # move: low <-> high
                scores[run] = 5.0 if scores[run] <= 2 else 1.0
            elif i % 3 == 1:  # cleared
                client.delete_feedback(str(uuid.uuid5(uuid.NAMESPACE_URL, run)))
                scores.pop(run)
                continue
            else:  # a different low or high score: the comment and rating metadata change
                scores[run] = 2.0 if scores[run] <= 2 else 5.0 if scores[run] >= 3 else 1.0
            _rate(client, project_id, run, scores[run])
        sb.langsmith.control.exchanges.start()
        t0 = time.perf_counter()
        second = run_learn(settings)
        seconds = time.perf_counter() - t0
        sent = Counter(f"{e.method} {_route(e.path)}" for e in sb.langsmith.control.exchanges.stop())
        writes = sum(r.created + r.updated + r.deleted for r in second.datasets.values())
        reads = sum(n for k, n in sent.items() if k.startswith("GET ") or k == "POST /runs/query")
        print(f"second pass after {args.changed:,} changed ratings: {second.summary()}")
        print("requests by endpoint: " + ", ".join(f"{k} {n}" for k, n in sorted(sent.items())))
        total = sum(sent.values())
        print(
            f"LangSmith requests: {total:,} for {writes:,} examples written ({seconds:.1f} s)   "
            f"baseline, one request per example written: {reads + writes:,}"
        )
        print(
            f"writes per 1,000 changed ratings: {(total - reads) * 1000 / args.changed:,.0f} requests "
            f"(baseline {writes * 1000 / args.changed:,.0f}); reads: {reads:,} (one per 100 ratings and examples)"
        )
        _check(client, settings, scores)


def _route(path: str) -> str:
    parts = path.removeprefix("/api/v1").split("/")
    return "/".join("{id}" if len(p) == 36 and p.count("-") == 4 else p for p in parts)


def _check(client, settings, scores: dict[str, float]) -> None:  # type: ignore[no-untyped-def]
    for kind, wanted in (
        (LOW, {r for r, s in scores.items() if s <= 2}),
        (HIGH, {r for r, s in scores.items() if s >= 5}),
    ):
        dataset = client.read_dataset(dataset_name=settings.dataset_name(kind))
        held = [str(e.source_run_id) for e in client.list_examples(dataset_id=dataset.id)]
        assert len(held) == len(set(held)) and set(held) == wanted, f"{kind}: the dataset differs from the ratings"
    print("datasets equal the ratings run for run: yes")


if __name__ == "__main__":
    main()

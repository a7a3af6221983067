"""How fast the LangSmith emulator answers ``Client.get_run_stats`` over one million runs.

Bulk-loads 1,000,000 synthetic runs (plus 10,000 in a second project as the baseline), then times the real
SDK's ``get_run_stats`` over HTTP (median of several calls) for: all runs, a filtered subset, a metadata
group_by, and the daily dashboard; and, for scale, a naive pure-Python pass over the same million rows.

    .venv/bin/python bench/bench_langsmith_stats.py [--runs 1000000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import langsmith

from notion_feedback.sandbox.server import Sandbox, SandboxOptions


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def naive_python_stats(em: Any, pid: str) -> dict[str, Any]:
    """The pass the columns avoid: a Python loop over every row (what a dict-per-run store would do)."""
    a = em.store.runs.arr
    n = em.store.runs.n
    code = em.store.sess_codes.get(pid)
    sess, start, end = a["sess"][:n].tolist(), a["start"][:n].tolist(), a["end"][:n].tolist()
    tt, tc, err = a["tt"][:n].tolist(), a["tc"][:n].tolist(), a["err"][:n].tolist()
    lat, tokens, cost, errors = [], 0, 0.0, 0
    for i in range(n):
        if sess[i] != code:
            continue
        lat.append(end[i] - start[i])
        tokens += tt[i]
        cost += tc[i]
        errors += err[i]
    lat.sort()
    return {"run_count": len(lat), "latency_p50": lat[len(lat) // 2], "total_tokens": tokens}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    with Sandbox(SandboxOptions(notion=False, rate_limit=False)) as sb:
        em = sb.langsmith
        t = time.perf_counter()
        pid = em.bulk_load_runs(args.runs, project_name="bench-1m", metadata={"tier": ["free", "pro", "team"]})
        load_s = time.perf_counter() - t
        small = em.bulk_load_runs(10_000, project_name="bench-10k", seed=1)
        client = langsmith.Client(api_url=sb.langsmith_url, api_key=em.api_key, auto_batch_tracing=False)
        client.get_run_stats(project_ids=[pid])  # warm up (connection, caches)

        base_s, _ = timed(lambda: client.get_run_stats(project_ids=[small]), args.repeat)
        full_s, st = timed(lambda: client.get_run_stats(project_ids=[pid]), args.repeat)
        filt = 'and(eq(metadata_key, "tier"), eq(metadata_value, "pro"), gt(latency, "2s"))'
        filt_s, fst = timed(lambda: client.get_run_stats(project_ids=[pid], filter=filt), args.repeat)
        body = {"session": [pid], "group_by": {"attribute": "metadata", "path": "ls_model_name"}}
        group_s, groups = timed(
            lambda: client.request_with_retries("POST", "/runs/stats", request_kwargs={"json": body}).json(),
            args.repeat,
        )
        now = datetime.now(UTC)
        dash = {
            "start_time": (now - timedelta(days=30)).isoformat(),
            "end_time": now.isoformat(),
            "stride": {"days": 1},
        }
        with httpx.Client(base_url=sb.langsmith_url, headers={"x-api-key": em.api_key}, timeout=60) as http:
            dash_s, d = timed(lambda: http.post(f"/api/v1/sessions/{pid}/dashboard", json=dash).json(), args.repeat)
        naive_s, nst = timed(lambda: naive_python_stats(em, pid), 1)
        from notion_feedback.sandbox.langsmith.models.stats import stats

        core_small_s, _ = timed(lambda: stats(em.store, {"session": [small]}), args.repeat)
        core_full_s, _ = timed(lambda: stats(em.store, {"session": [pid]}), args.repeat)

    assert st["run_count"] == args.runs and nst["run_count"] == args.runs
    print(f"bulk load            {args.runs:>9,} runs   {load_s:7.3f} s")
    print(f"get_run_stats        {10_000:>9,} runs   {base_s * 1000:7.1f} ms   (baseline)")
    print(
        f"get_run_stats        {args.runs:>9,} runs   {full_s * 1000:7.1f} ms   "
        f"= {full_s / base_s:.1f}x the 10k baseline for {args.runs / 10_000:.0f}x the runs"
    )
    print(
        f"server-side compute  {10_000:>9,} / {args.runs:,} runs: {core_small_s * 1000:.1f} ms / "
        f"{core_full_s * 1000:.1f} ms (the rest of an HTTP call is client + transport overhead)"
    )
    print(f"  + filter           {fst['run_count']:>9,} match  {filt_s * 1000:7.1f} ms")
    print(f"  group_by model     {len(groups):>9} groups {group_s * 1000:7.1f} ms")
    print(f"dashboard 30 x 1 day {sum(x['value'] for x in d['charts'][0]['data']):>9,} runs   {dash_s * 1000:7.1f} ms")
    print(
        f"naive Python pass    {args.runs:>9,} runs   {naive_s * 1000:7.1f} ms   "
        f"(columns are {naive_s / full_s:.1f}x faster, HTTP included)"
    )
    print(
        f"stats: latency p50 {st['latency_p50']:.3f}s p99 {st['latency_p99']:.3f}s, "
        f"tokens {st['total_tokens']:,}, cost ${st['total_cost']:,.2f}, error_rate {st['error_rate']:.3f}"
    )


if __name__ == "__main__":
    main()

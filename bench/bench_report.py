"""Benchmark: what one daily report costs at 10k, 100k and 1M runs a day, beside pulling every run.

    python bench/bench_report.py [--volumes 10000,100000,1000000] [--baseline-cap 100000]

The emulators run in a child process (so the memory figures are the report's own, not the emulators'); runs are
bulk-loaded into the LangSmith emulator's columns. For each volume it publishes the day's report and counts the
requests each service received (the emulators' own counters) — the goal is the same count at every volume, and
≤ 4 + 2 per chart to Notion. The baseline computes the same headline KPIs client-side from ``list_runs`` (every
root run of the day, 100 per page); above ``--baseline-cap`` runs it pulls the cap and extrapolates time and
requests linearly (said so in the output). Peak memory is tracemalloc's peak of this process's Python heap, in
a second pass (tracing slows matplotlib, so wall times come from the untraced pass).
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing as mp
import shutil
import statistics
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from notion_feedback.config import Settings
from notion_feedback.report.publish import publish_report
from notion_feedback.setup.workspace import init_workspace
from notion_feedback.smith.client import make_langsmith_client
from notion_feedback.smith.client import request_counts as smith_counts
from notion_feedback.testing import sandbox_settings


def _emulators(conn: Any) -> None:
    """Child process: both emulators, commanded over a pipe."""
    from notion_feedback.sandbox.server import Sandbox, SandboxOptions

    with Sandbox(SandboxOptions(rate_limit=False)) as sb:
        conn.send(sb.env())
        while True:
            cmd, arg = conn.recv()
            if cmd == "bulk":
                n, kwargs = arg
                conn.send(sb.langsmith.bulk_load_runs(n, **kwargs))
            elif cmd == "count":
                time.sleep(0.2)  # requests are recorded just after they are answered
                conn.send((sb.notion.control.count(), sb.langsmith.control.count()))
            else:
                conn.send(None)
                return


class Emulators:
    def __init__(self) -> None:
        self.conn, child = mp.Pipe()
        self.proc = mp.get_context("spawn").Process(target=_emulators, args=(child,), daemon=True)
        self.proc.start()
        self.env: dict[str, str] = self.conn.recv()

    def call(self, cmd: str, arg: Any = None) -> Any:
        self.conn.send((cmd, arg))
        return self.conn.recv()

    def stop(self) -> None:
        self.call("stop")
        self.proc.join(10)


def settings_for(env: dict[str, str], project: str, home: Path) -> Settings:
    return sandbox_settings(
        env,
        home,
        langsmith_project=project,
        rating_scale="thumbs",  # the bulk loader rates 0/1
        notion_requests_per_second=1000,
        notion_burst=1000,
        langsmith_requests_per_second=1000,
        langsmith_stats_per_10s=100_000,
    )


def without_documented_waits() -> None:
    """Measure the work, not LangSmith Cloud's documented per-key waits (runs/query 15 per 10 s would make the
    baseline alone take hours at 1M runs): the client's per-endpoint budgets are lifted for this process."""
    from notion_feedback.smith import limits

    limits.DOCUMENTED = ()


def baseline(settings: Settings, day_start: datetime, cap: int) -> tuple[dict[str, float], int, int]:
    """Headline KPIs from every root run of the day via list_runs; returns (kpis, runs pulled, requests)."""
    client = make_langsmith_client(settings)
    runs = client.list_runs(
        project_name=settings.langsmith_project,
        is_root=True,
        start_time=day_start,
        end_time=day_start + timedelta(days=1),
        select=["id", "start_time", "end_time", "error", "total_tokens", "total_cost", "feedback_stats"],
    )  # no limit=: the SDK sends it as the page size, and the server caps pages at 100 (langsmith-sdk#3455)
    lat, tokens, cost, errors, rated, score = [], 0, 0.0, 0, 0, 0.0
    for r in itertools.islice(runs, cap):
        if r.end_time:
            lat.append((r.end_time - r.start_time).total_seconds())
        tokens += r.total_tokens or 0
        cost += float(r.total_cost or 0)
        errors += bool(r.error)
        fb = (r.feedback_stats or {}).get(settings.rating_key)
        if fb:
            rated += fb.get("n", 0)
            score += (fb.get("avg") or 0) * fb.get("n", 0)
    n = len(lat)
    lat.sort()
    kpis = {
        "runs": n,
        "error_rate": errors / n if n else 0,
        "p50_ms": statistics.median(lat) * 1000 if lat else 0,
        "tokens_per_interaction": tokens / n if n else 0,
        "cost_per_interaction": cost / n if n else 0,
        "avg_rating": score / rated if rated else 0,
    }
    return kpis, n, sum(smith_counts(client).values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--volumes", default="10000,100000,1000000")
    parser.add_argument("--baseline-cap", type=int, default=100_000)
    args = parser.parse_args()
    volumes = [int(v) for v in args.volumes.split(",")]
    without_documented_waits()
    emu = Emulators()
    tmp = Path(tempfile.mkdtemp(prefix="bench-report-"))
    today = datetime.now(UTC).date()
    rows = []
    try:
        base = settings_for(emu.env, "bench", tmp / "ws")
        ids = init_workspace(base, base.parent_page_id, langsmith=False)  # type: ignore[arg-type]
        for i, n in enumerate(volumes):
            day = today - timedelta(days=1 + i)  # one day per volume: each report is a new page, not an update
            day_start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            project = f"bench-{n}"
            t = time.perf_counter()
            emu.call(
                "bulk",
                (
                    n,
                    {
                        "project_name": project,
                        "start_time": day_start,
                        "days": 1.0,
                        "metadata": {"variant": ["A", "B"], "user_id": [f"u{i}" for i in range(500)]},
                    },
                ),
            )
            load_s = time.perf_counter() - t
            s = settings_for(emu.env, project, tmp / project).model_copy(
                update={
                    "feedback_data_source_id": ids.feedback_data_source_id,
                    "reports_data_source_id": ids.reports_data_source_id,
                }
            )
            n0, l0 = emu.call("count")
            t = time.perf_counter()
            # notify=False: alert notices (at most one comment per report) only go with the latest day's report,
            # so they would make the first volume differ; the report itself is what is compared across volumes
            result = publish_report(s, "day", day, notify=False)
            report_s = time.perf_counter() - t
            n1, l1 = emu.call("count")
            tracemalloc.start()
            publish_report(s, "day", day, notify=False)  # the same page, refreshed (an update)
            report_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()

            cap = min(n, args.baseline_cap)
            t = time.perf_counter()
            kpis, pulled, base_requests = baseline(s, day_start, cap)
            base_s = time.perf_counter() - t
            tracemalloc.start()
            baseline(s, day_start, min(cap, 20_000))
            base_peak = tracemalloc.get_traced_memory()[1] * (cap / min(cap, 20_000))
            tracemalloc.stop()
            scale = n / pulled if pulled else 1.0
            rows.append(
                {
                    "runs/day": n,
                    "load s": load_s,
                    "notion req": n1 - n0,
                    "langsmith req": l1 - l0,
                    "charts": result.charts,
                    "report s": report_s,
                    "report peak MB": report_peak / 1e6,
                    "baseline req": base_requests * scale,
                    "baseline s": base_s * scale,
                    "baseline peak MB": base_peak * scale / 1e6,
                    "extrapolated": scale > 1.0 or cap > 20_000,
                    "check runs": (result.runs, kpis["runs"] * scale),
                }
            )
            print(
                f"  {n:>9,} runs: report {report_s:.2f} s, {n1 - n0} Notion + {l1 - l0} LangSmith requests; "
                f"baseline {base_s * scale:.1f} s for {base_requests * scale:,.0f} requests"
                + (f" (pulled {pulled:,}, x{scale:g} extrapolated)" if scale > 1 else ""),
                flush=True,
            )
    finally:
        emu.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    print(
        "\nruns/day | Notion req (goal <= 4 + 2x5 = 14) | LangSmith req | report wall s | report peak MB | "
        "baseline req | baseline wall s | baseline peak MB | wall ratio"
    )
    for r in rows:
        print(
            f"{r['runs/day']:>8,} | {r['notion req']:>5} | {r['langsmith req']:>5} | {r['report s']:>6.2f} | "
            f"{r['report peak MB']:>6.1f} | {r['baseline req']:>9,.0f} | {r['baseline s']:>8.1f} | "
            f"{r['baseline peak MB']:>7.1f}{'*' if r['extrapolated'] else ''} | "
            f"x{r['baseline s'] / r['report s']:.0f}"
        )
    same = len({(r["notion req"], r["langsmith req"]) for r in rows}) == 1
    print(f"\nsame request count at every volume: {'yes' if same else 'NO'}")
    print(
        "\nAt LangSmith Cloud's documented limits (US: /runs/stats 1 per 10 s; tenant /runs/query 10 per 10 s for "
        "windows <= 7 days), the request counts alone take:"
    )
    for r in rows:
        stats_calls = r["langsmith req"] - 2  # read_project and the dashboard are not /runs/stats
        print(
            f"  {r['runs/day']:>9,} runs/day: report ~{stats_calls * 10:,.0f} s (EU: ~{stats_calls / 2:,.0f} s); "
            f"baseline ~{r['baseline req']:,.0f} s"
        )
    print(
        "* baseline memory measured on 20k runs pulled and scaled linearly (the client keeps every run's fields "
        "it sums, so memory grows with the runs it holds); rows above the cap extrapolate time and requests too."
    )


if __name__ == "__main__":
    main()

"""What ``Recorder.record()`` costs the agent's thread, beside a direct ``pages.create`` to the sandbox.

The emulators run in a child process (``notion-feedback sandbox --no-rate-limit``), as the real services would be
elsewhere: in this process only the agent's thread and the recorder's threads compete for the GIL. ``init`` sets
up the Feedback data source. Then:

1. baseline: ``--direct`` synchronous ``pages.create`` calls of the same rows, timed one by one;
2. ``--calls`` ``record()`` calls (default 10,000), timed one by one with ``perf_counter_ns`` while the
   recorder's threads spool and send in the background: first in a tight loop (the worst case: the sender's HTTP
   work competes for the GIL with every call), then one call per ``--paced-ms`` (an agent serving 1,000
   interactions a second, still far busier than most);
3. the drain: how long until every recorded row is in Notion, and that there are exactly that many rows.

Interactions are built before the timed loop (tracing off), so the figures are ``record()`` alone. Goal: p99 ≤ 50 µs.

    .venv/bin/python bench/bench_record.py [--calls 10000] [--direct 300]
"""

from __future__ import annotations

import argparse
import logging
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from notion_feedback.capture import Recorder, interaction
from notion_feedback.config import Settings
from notion_feedback.notion.client import make_notion_client
from notion_feedback.notion.rows import RowValues, feedback_properties
from notion_feedback.notion.workspace import init_workspace

GOAL_P99_US = 50.0


def percentiles(samples_ns: list[int]) -> tuple[float, float, float]:
    """p50, p99 and max in microseconds."""
    ordered = sorted(samples_ns)
    cut = statistics.quantiles(ordered, n=100, method="inclusive")
    return cut[49] / 1000, cut[98] / 1000, ordered[-1] / 1000


@contextmanager
def emulators() -> Iterator[dict[str, str]]:
    """The sandbox in a child process; yields its settings (the NAME=value lines it prints)."""
    cmd = [sys.executable, "-m", "notion_feedback.cli", "sandbox", "--no-rate-limit"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    env: dict[str, str] = {}
    try:
        while "LANGSMITH_API_KEY" not in env:
            line = proc.stdout.readline()  # type: ignore[union-attr]
            if not line:
                raise RuntimeError("the sandbox did not start")
            name, _, value = line.strip().partition("=")
            env[name] = value
        yield env
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)


def created_pages(env: dict[str, str]) -> int:
    """Pages the Notion emulator created (its own counter: a query would stop at Notion's 10,000-result cap)."""
    time.sleep(0.2)
    stats = httpx.get(env["NOTION_BASE_URL"] + "/_sandbox/stats").json()
    return int(stats["routes"].get("POST /v1/pages", {}).get("200", 0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--direct", type=int, default=300)
    parser.add_argument("--paced-ms", type=float, default=1.0, help="pause between calls in the second phase")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    with emulators() as env, tempfile.TemporaryDirectory() as home:
        settings = Settings(
            _env_file=None,
            notion_token=env["NOTION_TOKEN"],
            notion_base_url=env["NOTION_BASE_URL"],
            home=Path(home),
            notion_requests_per_second=10_000,
            notion_burst=1000,
            recorder_requests_per_second=10,  # the highest setting allowed
        )
        ids = init_workspace(settings, env["NOTION_SANDBOX_ROOT_PAGE_ID"], langsmith=False)
        settings = settings.model_copy(update={"feedback_data_source_id": ids.feedback_data_source_id})
        client = make_notion_client(settings)
        parent = {"type": "data_source_id", "data_source_id": ids.feedback_data_source_id}

        direct: list[int] = []
        for i in range(args.direct):
            props = feedback_properties(RowValues(run_id=f"direct-{i}", question=f"question {i}", answer="answer"), {})
            t = time.perf_counter_ns()
            client.pages.create(parent=parent, properties=props)
            direct.append(time.perf_counter_ns() - t)

        question, answer = "How do I reset my password? " * 4, "Open Settings → Security → Reset. " * 8
        recorder = Recorder(settings)
        # Bench only: at the recorder's budget (≤ 10/s) the drain of 10,000 rows would take 17 minutes; the drain
        # is not what is measured, so its limiter is opened up (the sandbox has no rate limit either).
        recorder._budget.rate, recorder._budget.burst = 10_000.0, 1000.0
        phases: dict[str, list[int]] = {}
        t_all = time.perf_counter()
        for phase, pause in (("tight loop", 0.0), (f"one per {args.paced_ms:g} ms", args.paced_ms / 1000)):
            its = []
            for _ in range(args.calls):
                with interaction("agent", variant="A", model="gpt-4o-mini", enabled=False) as it:
                    pass
                its.append(it)
            samples = phases[phase] = []
            for it in its:
                t = time.perf_counter_ns()
                recorder.record(it, question=question, answer=answer)
                samples.append(time.perf_counter_ns() - t)
                if pause:
                    time.sleep(pause)
        drained = recorder.flush(timeout=600)
        drain_s = time.perf_counter() - t_all
        recorder.close()
        rows = created_pages(env) - args.direct

    d50, d99, dmax = percentiles(direct)
    print(f"pages.create     n={len(direct):>6}  p50 {d50:9.1f} µs  p99 {d99:9.1f} µs  max {dmax:9.1f} µs  (sandbox)")
    for phase, samples in phases.items():
        r50, r99, rmax = percentiles(samples)
        print(
            f"record() {phase:<16} n={len(samples):>6}  p50 {r50:7.1f} µs  p99 {r99:7.1f} µs  max {rmax:9.1f} µs  "
            f"ratio to pages.create p50 {d50 / r50:5.0f}x p99 {d99 / r99:4.0f}x  "
            f"goal p99 ≤ {GOAL_P99_US:.0f} µs {'met' if r99 <= GOAL_P99_US else 'NOT met'}"
        )
    total = sum(len(s) for s in phases.values())
    print(f"drain            all delivered: {drained}; {rows} of {total} rows in Notion after {drain_s:.1f} s")


if __name__ == "__main__":
    main()

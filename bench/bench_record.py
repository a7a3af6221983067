"""What ``Recorder.record()`` costs the agent's thread, beside a direct ``pages.create`` to the sandbox.

The emulators run in a child process (``notion-feedback sandbox --no-rate-limit``), as the real services would be
elsewhere: in this process only the agent's thread and the recorder's threads compete for the GIL. ``init`` sets
up the Feedback data source. Then:

1. baseline: ``--direct`` synchronous ``pages.create`` calls of the same rows, timed one by one;
2. for each sender mode (``--modes``, default ``process,thread``): 2,000 warm-up rows so that the sender is busy,
   then ``--calls`` ``record()`` calls (default 10,000) timed one by one with ``perf_counter_ns`` while it sends:
   first in a tight loop, then one call per ``--paced-ms`` (an agent serving 1,000 interactions a second, still
   far busier than most). The rows Notion received during each phase are printed, proof that the sender was
   draining. In ``process`` mode (the default) the agent's process only queues and spools; in ``thread`` mode the
   sender's HTTP work competes for the GIL with every call;
   Between paced calls the agent does ~20 µs of its own Python work, timed too, beside the same work with no
   recorder at all: what the recorder's threads cost the agent beyond ``record()`` (the GIL they share);
3. the drain: how long until every recorded row is in Notion, and that there are exactly that many rows.

A tight loop is a burst of 10,000 rows in ~20 ms, faster than the intake thread can spool them: rows beyond the
memory queue (``NOTION_FEEDBACK_RECORDER_QUEUE_SIZE``, default 10,000 rows, and ``..._QUEUE_MB``, 32; read from
the environment here too) are spooled by the agent's thread itself, ~100 µs each; the "spilled" column counts them.

Interactions are built before the timed loop (tracing off), so the figures are ``record()`` alone. Goal: p99 ≤ 50 µs.

    .venv/bin/python bench/bench_record.py [--calls 10000] [--direct 300] [--modes process,thread]
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
from dataclasses import dataclass
from pathlib import Path

import httpx

from notion_feedback.capture import Recorder, interaction
from notion_feedback.capture.rows import RowValues, feedback_properties
from notion_feedback.config import Settings
from notion_feedback.notion.client import make_notion_client
from notion_feedback.setup.workspace import init_workspace

GOAL_P99_US = 50.0
WARMUP = 2000


def percentiles(samples_ns: list[int]) -> tuple[float, float, float]:
    """p50, p99 and max in microseconds."""
    ordered = sorted(samples_ns)
    cut = statistics.quantiles(ordered, n=100, method="inclusive")
    return cut[49] / 1000, cut[98] / 1000, ordered[-1] / 1000


@contextmanager
def emulators() -> Iterator[dict[str, str]]:
    """The sandbox in a child process; yields its settings (the NAME=value lines it prints)."""
    cmd = [sys.executable, "-m", "notion_feedback.cli.app", "sandbox", "--no-rate-limit"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    env: dict[str, str] = {}
    try:
        while "NOTION_SANDBOX_ADMIN_TOKEN" not in env:  # the last line it prints
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
    admin = {"Authorization": f"Bearer {env['NOTION_SANDBOX_ADMIN_TOKEN']}"}
    stats = httpx.get(env["NOTION_BASE_URL"] + "/_sandbox/stats", headers=admin).json()
    return int(stats["routes"].get("POST /v1/pages", {}).get("200", 0))


def interactions(n: int) -> list:
    out = []
    for _ in range(n):
        with interaction("agent", variant="A", model="gpt-4o-mini", enabled=False) as it:
            pass
        out.append(it)
    return out


def agent_work() -> int:
    """~20 µs of the agent's own Python work: it shares the GIL with whatever the recorder runs in this process."""
    return sum(i * i for i in range(600))


def paced_work(n: int, pause: float) -> list[int]:
    samples = []
    for _ in range(n):
        t = time.perf_counter_ns()
        agent_work()
        samples.append(time.perf_counter_ns() - t)
        time.sleep(pause)
    return samples


@dataclass
class Phase:
    name: str
    samples: list[int]
    sent_meanwhile: int
    overflowed: int
    work: list[int]
    started_ns: int
    ended_ns: int

    def windows(self, samples: list[tuple[int, int]]) -> list[int]:
        """The durability windows of the rows this phase recorded."""
        return [w for queued, w in samples if self.started_ns <= queued <= self.ended_ns]


def measure_mode(env: dict[str, str], settings: Settings, mode: str, calls: int, paced_ms: float) -> dict:
    """record() timed call by call while this mode's sender drains; then the drain to the last row."""
    question, answer = "How do I reset my password? " * 4, "Open Settings → Security → Reset. " * 8
    recorder = Recorder(settings.model_copy(update={"recorder_sender": mode}))
    before = created_pages(env)
    # Warm-up: enough rows that the sender is busy sending through both timed phases.
    for it in interactions(WARMUP):
        recorder.record(it, question=question, answer=answer)
    deadline = time.monotonic() + 30
    while created_pages(env) < before + 20:  # the sender (a process starts in ~0.5 s) is sending now
        if time.monotonic() > deadline:
            raise RuntimeError(f"the {mode} sender did not start sending")
        time.sleep(0.02)
    phases = []
    recorder.window_samples = []  # from record() returning to the row committed in the spool, per row
    t_all = time.perf_counter()
    for name, pause in (("tight loop", 0.0), (f"one per {paced_ms:g} ms", paced_ms / 1000)):
        its = interactions(calls)
        samples: list[int] = []
        work: list[int] = []
        sent, overflowed = created_pages(env), recorder.stats.overflowed
        started_ns = time.perf_counter_ns()
        for it in its:
            t = time.perf_counter_ns()
            recorder.record(it, question=question, answer=answer)
            samples.append(time.perf_counter_ns() - t)
            if pause:
                t = time.perf_counter_ns()
                agent_work()
                work.append(time.perf_counter_ns() - t)
                time.sleep(pause)
        sent = created_pages(env) - sent
        ended_ns = time.perf_counter_ns()
        phases.append(Phase(name, samples, sent, recorder.stats.overflowed - overflowed, work, started_ns, ended_ns))
    drained = recorder.flush(timeout=900)
    drain_s = time.perf_counter() - t_all
    recorder.close()
    time.sleep(0.2)
    rows = created_pages(env) - before
    window = recorder.window_samples
    return {
        "phases": phases,
        "drained": drained,
        "drain_s": drain_s,
        "rows": rows,
        "total": WARMUP + 2 * calls,
        "window": window,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--direct", type=int, default=300)
    parser.add_argument("--paced-ms", type=float, default=1.0, help="pause between calls in the second phase")
    parser.add_argument("--modes", default="process,thread", help="sender modes to measure, in this order")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    results = {}
    with emulators() as env, tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            _env_file=None,
            notion_token=env["NOTION_TOKEN"],
            notion_base_url=env["NOTION_BASE_URL"],
            home=Path(tmp) / "setup",
            notion_requests_per_second=10_000,
            notion_burst=1000,
            # Bench only: at the default budget (1/s) the drain of 20,000 rows would take hours; the drain is not
            # what is measured, and the sandbox runs without a rate limit too.
            recorder_requests_per_second=10_000,
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

        idle_work = paced_work(3000, args.paced_ms / 1000)  # the agent's work with no recorder running
        for mode in args.modes.split(","):
            own = settings.model_copy(update={"home": Path(tmp) / mode})  # a spool of its own per mode
            results[mode] = measure_mode(env, own, mode, args.calls, args.paced_ms)

    bound_ms = settings.recorder_max_unsaved_seconds * 1000
    d50, d99, dmax = percentiles(direct)
    label = "pages.create (sandbox)"
    print(f"{label:<31} n={len(direct):>6}  p50 {d50:8.1f} µs  p99 {d99:8.1f} µs  max {dmax:8.1f} µs")
    for mode, result in results.items():
        for phase in result["phases"]:
            r50, r99, rmax = percentiles(phase.samples)
            print(
                f"record() {mode:<7} {phase.name:<14} n={len(phase.samples):>6}  p50 {r50:8.1f} µs  p99 {r99:8.1f} µs  "
                f"max {rmax:8.1f} µs  pages.create/record() p50 {d50 / r50:5.0f}x p99 {d99 / r99:5.0f}x  "
                f"sent meanwhile {phase.sent_meanwhile:>5}  spilled {phase.overflowed:>5}  "
                f"goal p99 ≤ {GOAL_P99_US:.0f} µs {'met' if r99 <= GOAL_P99_US else 'NOT met'}"
            )
        for phase in result["phases"]:
            if phase.work:
                w50, w99, _ = percentiles(phase.work)
                i50, i99, _ = percentiles(idle_work)
                print(
                    f"agent work {mode:<7} ({phase.name}, ~20 µs of Python)  p50 {w50:6.1f} µs  p99 {w99:7.1f} µs  "
                    f"vs no recorder p50 {i50:6.1f} µs  p99 {i99:7.1f} µs  (p99 x{w99 / i99:.1f})"
                )
        for phase in result["phases"]:
            windows = phase.windows(result["window"])
            w50, w99, wmax = percentiles(windows)
            print(
                f"durability {mode:<7} ({phase.name}) record() → on disk, n={len(windows)}: p50 {w50 / 1000:6.1f} ms  "
                f"p99 {w99 / 1000:6.1f} ms  max {wmax / 1000:6.1f} ms  bound {bound_ms:.0f} ms "
                f"{'held' if wmax / 1000 <= bound_ms else 'NOT held'} (a SIGKILL inside this window loses the row)"
            )
        print(
            f"drain    {mode:<7} all delivered: {result['drained']}; {result['rows']} of {result['total']} rows "
            f"in Notion, {result['drain_s']:.1f} s after the timed calls began"
        )


if __name__ == "__main__":
    main()

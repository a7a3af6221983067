"""Fault trial: ratings created, changed and cleared while both services fail 20% of requests and the sync process
is SIGKILLed at random moments; at the end LangSmith's feedback must equal Notion's ratings exactly.

    python bench/fault_trial.py                 # 2,000 ratings, >= 20 kills, 20% faults
    python bench/fault_trial.py --ratings 200 --kills 5 --seed 3

The sandbox runs in this process; each sync pass runs in a child process (``notion-feedback sync``'s engine via
``python -c``), which is killed with SIGKILL after a random delay. Faults: 429, 500, 502, 503, 529 and timeouts
(a third of the status faults happen *after* the effect, the worst case for duplicates).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from sandbox_settings import sandbox_settings  # noqa: E402
from sync_support import World, make_world  # noqa: E402

from notion_feedback.sandbox.control import FaultPlan  # noqa: E402
from notion_feedback.sandbox.server import Sandbox, SandboxOptions  # noqa: E402

CHILD = """
import sys
from notion_feedback.config import load_settings
from notion_feedback.sync import run_sync
from notion_feedback.sync_retry import SyncIncompleteError
try:
    s = run_sync(load_settings())
    print("done", s.created, s.updated, s.removed, flush=True)
except SyncIncompleteError as exc:
    print("incomplete", flush=True)
    sys.exit(3)
"""


def faults(rate: float, seed: int) -> dict[str, Any]:
    share = rate / 6
    return {
        "status": {"429": share, "500": share, "502": share, "503": share, "529": share},
        "timeout": share,
        "timeout_seconds": 0.3,
        "after_effect": 0.33,
        "seed": seed,
    }


def _child_env(world: World, sb: Sandbox) -> dict[str, str]:
    s = world.settings
    env = dict(os.environ) | sb.env()
    env |= {
        "LANGSMITH_PROJECT": s.langsmith_project,
        "NOTION_FEEDBACK_HOME": str(s.home),
        "NOTION_FEEDBACK_FEEDBACK_DATA_SOURCE_ID": world.ds_id,
        "NOTION_FEEDBACK_NOTION_REQUESTS_PER_SECOND": "10",
        "NOTION_FEEDBACK_NOTION_BURST": "10",
        "NOTION_FEEDBACK_LANGSMITH_REQUESTS_PER_SECOND": "200",
        "NOTION_FEEDBACK_REQUEST_TIMEOUT_SECONDS": "5",
        "NOTION_FEEDBACK_LOG_LEVEL": "ERROR",
        "LANGSMITH_TRACING": "false",
    }
    return env


def _pass(env: dict[str, str], kill_after: float | None) -> str:
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD], env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        out, _ = proc.communicate(timeout=kill_after)
        return "done" if proc.returncode == 0 else f"exit {proc.returncode}"
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        return "killed"


def trial(
    ratings: int = 2000, kills: int = 20, rate: float = 0.2, seed: int = 1, rows: int | None = None, log: Any = print
) -> dict[str, Any]:
    rng = random.Random(seed)
    started = time.monotonic()
    with Sandbox(SandboxOptions(rate_limit=False)) as sb, tempfile.TemporaryDirectory() as tmp:
        env = sb.env()
        base = sandbox_settings(
            env,
            Path(tmp) / "home",
            langsmith_project="fault-trial",
            notion_requests_per_second=50,
            notion_burst=50,
        )
        world = make_world(sb, base)
        n_rows = rows or max(100, ratings // 2)
        runs = world.batch_runs(n_rows)  # one run per row, as the recorder writes them
        pages = sb.notion.bulk_create_pages(world.ds_id, [world.row_properties(run) for run in runs], as_person=True)
        child_env = _child_env(world, sb)
        sb.notion.control.faults = FaultPlan.from_json(faults(rate, seed))
        sb.langsmith.control.faults = FaultPlan.from_json(faults(rate, seed + 1))
        done_edits = killed = passes = 0
        batch = max(1, ratings // (kills + 5))
        while done_edits < ratings or killed < kills:
            for _ in range(min(batch, ratings - done_edits)):  # people rate, re-rate and clear
                page = rng.choice(pages)
                rating = rng.choice(["1", "2", "3", "4", "5", "5", "4", None])
                world.edit(page, rating=rating, comment=rng.choice([None, None, "ok", "wrong answer"]))
                done_edits += 1
            kill_after = rng.uniform(0.2, 3.0) if killed < kills else None
            outcome = _pass(child_env, kill_after)
            passes += 1
            killed += outcome == "killed"
            log(f"pass {passes}: {outcome} (edits {done_edits}/{ratings}, kills {killed}/{kills})")
        while _pass(child_env, None) != "done":  # finish under faults, unkilled
            passes += 1
        passes += 1
        sb.notion.control.faults = FaultPlan()
        sb.langsmith.control.faults = FaultPlan()
        faults_seen = sum(
            sb.notion.control.count("", status=c) + sb.langsmith.control.count("", status=c)
            for c in (429, 500, 502, 503, 504, 529)
        )
        want, have = world.expected_feedback(), world.feedback()
        missing = sorted(set(want) - set(have))
        extra = sorted(set(have) - set(want))
        stale = sorted(k for k in set(want) & set(have) if want[k] != have[k])
        return {
            "ratings_edits": done_edits,
            "rows": n_rows,
            "kills": killed,
            "passes": passes,
            "faults_injected": faults_seen,
            "rated_rows": len(want),
            "feedback": len(have),
            "missing": len(missing),
            "duplicated_or_orphan": len(extra),
            "stale": len(stale),
            "equal": want == have,
            "seconds": round(time.monotonic() - started, 1),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ratings", type=int, default=2000)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--rate", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    result = trial(args.ratings, args.kills, args.rate, args.seed)
    width = max(map(len, result))
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    sys.exit(0 if result["equal"] else 1)


if __name__ == "__main__":
    main()

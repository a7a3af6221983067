"""Fault trial: ratings created, changed, set back and cleared, rows trashed, while both services fail 20% of
requests and the sync process is SIGKILLed at random moments; at the end LangSmith's feedback must be the exact
image of Notion's ratings.

    python bench/fault_trial.py                 # 2,000 ratings, >= 20 kills, 20% faults
    python bench/fault_trial.py --ratings 200 --kills 5 --seed 3
    scripts/with-postgres .venv/bin/python bench/fault_trial.py --postgres   # the same on a PostgreSQL store

The sandbox runs in this process; each sync pass runs in a child process (the daemon's ``sync_ratings`` job via
``python -c``), which is killed with SIGKILL after a random delay. Faults: 429, 500, 502, 503, 529 and timeouts
(a third of the status faults happen *after* the effect: the answer is lost, the worst case for exactness).
A quarter of the edits set a row back to its previous rating (after a lost answer, the value the store last
confirmed); some rows share a Run ID with another row (one feedback per run: one of them owns it), some carry a
malformed Run ID (never sent), and rated rows are moved to the trash. The figures are taken twice: after the
final incremental pass, and after the scheduled verification pass (``verify_ratings``), both unkilled and
fault-free: the second must be exact.

Before the ratings, part of the rows are written by the real recorder in agent processes that are SIGKILLed
(sender included) while they deliver under the same faults, then restarted: each recorded run must end as
exactly one row (``recorder_missing``, ``recorder_duplicated``); those rows are then rated like the others.
After the killed passes, two daemons sync while people rate, and the leader is frozen (SIGSTOP) past its lease,
then resumed: fenced, it stops before its next write (tests/daemon/test_fencing.py times that), and the figures must
stay exact.

``tests/sync/test_sync_fault_trial.py`` runs this script as a child process and reads its ``--json`` line: the trial
is a benchmark of the product's guarantees that no user's test needs, so it stays a script rather than a package
module, and what it shares with the tests comes from ``notion_feedback.testing``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from notion_feedback.sandbox.control import FaultPlan
from notion_feedback.sandbox.server import Sandbox, SandboxOptions
from notion_feedback.testing import World, fresh_state_url, make_world, sandbox_settings

REPO = Path(__file__).resolve().parents[1]  # the child processes import the top-level ``jobs`` package from it
POSTGRES_ENV = "NOTION_FEEDBACK_TEST_POSTGRES"

CHILD = """
import sys
import notion_feedback.jobs.{job}
from notion_feedback.sync.retry import SyncIncompleteError
try:
    notion_feedback.jobs.{job}.run()
except SyncIncompleteError as exc:
    print("incomplete", flush=True)
    sys.exit(3)
"""
INCREMENTAL, VERIFY = "sync_ratings", "verify_ratings"
RECORDER_CHILD = """
import json, sys, uuid
from notion_feedback.capture import Recorder, interaction
from notion_feedback.config import Settings

recorder = Recorder(Settings(_env_file=None))
for run in json.loads(sys.stdin.readline()):
    with interaction("agent", enabled=False, run_id=uuid.UUID(run)) as it:
        pass
    recorder.record(it, question="question of " + run, answer="answer")
print("recorded", flush=True)
sys.exit(0 if recorder.close(timeout=600) else 1)
"""
DAEMON_CHILD = """
from apscheduler.triggers.interval import IntervalTrigger
from notion_feedback.config import load_settings
from notion_feedback.daemon.scheduler import JobSpec, run_daemon
every_second = lambda settings: IntervalTrigger(seconds=1)
run_daemon(load_settings(), jobs=[JobSpec("sync_ratings", "notion_feedback.jobs.sync_ratings:run", every_second, 1)])
"""
LEASE_SECONDS = 6
DURABILITY_BOUND_SECONDS = 1.0  # NOTION_FEEDBACK_RECORDER_MAX_UNSAVED_SECONDS's default


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
        "NOTION_FEEDBACK_STATE_URL": s.resolved_state_url,
        "NOTION_FEEDBACK_FEEDBACK_DATA_SOURCE_ID": world.ds_id,
        "NOTION_FEEDBACK_NOTION_REQUESTS_PER_SECOND": "10",
        "NOTION_FEEDBACK_NOTION_BURST": "10",
        "NOTION_FEEDBACK_LANGSMITH_REQUESTS_PER_SECOND": "200",
        "NOTION_FEEDBACK_REQUEST_TIMEOUT_SECONDS": "5",
        "NOTION_FEEDBACK_LOG_LEVEL": "ERROR",
        "LANGSMITH_TRACING": "false",
    }
    return env


def _pass(env: dict[str, str], kill_after: float | None, job: str = INCREMENTAL) -> str:
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD.format(job=job)],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        out, _ = proc.communicate(timeout=kill_after)
        return "done" if proc.returncode == 0 else f"exit {proc.returncode}"
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        return "killed"


def _agent(env: dict[str, str], runs: list[str], kill_after: float | None) -> str:
    """An agent process that records ``runs`` (none: it only delivers what its spool holds), killed with SIGKILL
    ``kill_after`` seconds after its last record() returned (never inside the durability bound)."""
    env = env | {"NOTION_FEEDBACK_RECORDER_SENDER": "thread", "NOTION_FEEDBACK_RECORDER_REQUESTS_PER_SECOND": "20"}
    proc = subprocess.Popen(
        [sys.executable, "-c", RECORDER_CHILD],
        env=env,
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    proc.stdin.write(json.dumps(runs) + "\n")  # type: ignore[union-attr]
    proc.stdin.flush()  # type: ignore[union-attr]
    assert proc.stdout.readline().strip() == "recorded"  # type: ignore[union-attr]
    try:
        proc.wait(timeout=None if kill_after is None else DURABILITY_BOUND_SECONDS + kill_after)
        return "done" if proc.returncode == 0 else f"exit {proc.returncode}"
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return "killed"


def _record_rows(world: World, env: dict[str, str], n: int, kills: int, rng: random.Random) -> dict[str, Any]:
    """``n`` runs recorded by agents killed ``kills`` times mid-delivery; then one that finishes. Rows per run."""
    runs = world.batch_runs(n)
    outcomes = [_agent(env, runs, rng.uniform(0.0, 1.5))]
    while outcomes.count("killed") < kills:
        outcomes.append(_agent(env, [], rng.uniform(0.2, 1.5)))
    while (outcome := _agent(env, [], None)) != "done":
        outcomes.append(outcome)
    rows = _pages_by_run(world)
    return {
        "recorded": n,
        "recorder_kills": outcomes.count("killed"),
        "recorder_missing": sum(run not in rows for run in runs),
        "recorder_duplicated": sum(max(0, len(rows.get(run, [])) - 1) for run in runs),
        "pages": [page for run in runs for page in rows.get(run, [])],
    }


def _pages_by_run(world: World) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for row in world.rows():
        found.setdefault(world.run_id_of(row), []).append(row["id"])
    return found


def _frozen_leader(env: dict[str, str], edit: Any, logs: Path) -> bool:
    """Two daemons syncing every second; the leader is frozen (SIGSTOP) past its lease while people go on
    rating, the standby takes over, then the leader resumes (SIGCONT) and must stop before its next write.
    True when the resumed leader logged that it lost the lease (and stopped) and the standby did not."""
    env = env | {"NOTION_FEEDBACK_LEASE_SECONDS": str(LEASE_SECONDS)}

    def start(name: str) -> subprocess.Popen:
        with (logs / name).open("w") as err:
            return subprocess.Popen(
                [sys.executable, "-c", DAEMON_CHILD], env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=err
            )

    leader = start("leader.log")
    time.sleep(3)  # it holds the lease and syncs
    standby = start("standby.log")
    edit(20)
    time.sleep(1)
    leader.send_signal(signal.SIGSTOP)
    edit(20)
    time.sleep(LEASE_SECONDS + 3)  # the lease expires; the standby leads and syncs
    leader.send_signal(signal.SIGCONT)
    edit(20)
    time.sleep(4)
    for proc in (leader, standby):
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    said = [(logs / name).read_text(errors="replace") for name in ("leader.log", "standby.log")]
    return "lost the lease" in said[0] and "lost the lease" not in said[1]


@dataclass
class Rows:
    """The trial's rows: all pages, the ones people still edit, and what each was last rated."""

    pages: list[str]
    live: list[str]
    previous: dict[str, str | None] = field(default_factory=dict)
    trashed: int = 0
    reverts: int = 0


def _make_rows(world: World, sb: Sandbox, n_rows: int) -> Rows:
    """One run per row, as the recorder writes them; then 1 in 20 rows shares another's run, 1 in 40 is malformed."""
    runs: list[str] = world.batch_runs(n_rows)
    shared = [runs[i] for i in range(0, max(2, n_rows // 20))]
    malformed = [f"run {i} <b>not a uuid</b>" for i in range(max(2, n_rows // 40))]
    props = [world.row_properties(run) for run in runs + shared + malformed]
    pages = sb.notion.bulk_create_pages(world.ds_id, props, as_person=True)
    return Rows(pages=pages, live=list(pages))


def _edit(world: World, rows: Rows, rng: random.Random) -> None:
    """A person rates, re-rates, sets back, clears, or (rarely) trashes a row."""
    page = rng.choice(rows.live)
    if rng.random() < 0.02 and rows.previous.get(page):
        world.trash(page)
        rows.live.remove(page)
        rows.trashed += 1
        return
    if page in rows.previous and rng.random() < 0.25:
        rating = rows.previous[page]
        rows.reverts += 1
    else:
        rating = rng.choice(["1", "2", "3", "4", "5", "5", "4", None])
    current = world.page(page)["properties"][world.prop("rating")].get("select") or {}
    rows.previous[page] = current.get("name")
    world.edit(page, rating=rating, comment=rng.choice([None, None, "ok", "wrong answer"]))


def compare(world: World) -> dict[str, int]:
    """LangSmith against Notion. A run rated on several rows carries one feedback, exact for one of those rows."""
    want = {fid: v for fid, v in world.expected_feedback().items() if _is_uuid(v["run_id"])}
    have = world.feedback()
    by_run: dict[str, list[str]] = {}
    for fid, value in want.items():
        by_run.setdefault(value["run_id"], []).append(fid)
    missing = duplicated = stale = 0
    for fids in by_run.values():
        present = [fid for fid in fids if fid in have]
        missing += not present
        duplicated += max(0, len(present) - 1)
        stale += sum(have[fid] != want[fid] for fid in present)
    orphaned = sum(fid not in want for fid in have)
    return {"missing": missing, "stale": stale, "duplicated": duplicated, "orphaned": orphaned}


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def trial(
    ratings: int = 2000,
    kills: int = 20,
    rate: float = 0.2,
    seed: int = 1,
    rows: int | None = None,
    log: Any = print,
    state_url: str | None = None,
    recorded: int = 60,
    recorder_kills: int = 3,
    frozen_leader: bool = True,
) -> dict[str, Any]:
    rng = random.Random(seed)
    started = time.monotonic()
    with Sandbox(SandboxOptions(rate_limit=False)) as sb, tempfile.TemporaryDirectory() as tmp:
        base = sandbox_settings(
            sb.env(),
            Path(tmp) / "home",
            langsmith_project="fault-trial",
            notion_requests_per_second=50,
            notion_burst=50,
            state_url=state_url,
        )
        world = make_world(sb, base)
        table = _make_rows(world, sb, rows or max(100, ratings // 2))
        child_env = _child_env(world, sb)
        sb.notion.control.faults = FaultPlan.from_json(faults(rate, seed))
        sb.langsmith.control.faults = FaultPlan.from_json(faults(rate, seed + 1))
        capture = _record_rows(world, child_env, recorded, recorder_kills, rng)
        log(f"recorded {recorded} runs through {capture['recorder_kills']} killed agents")
        table.pages += capture["pages"]
        table.live += capture.pop("pages")
        done_edits = killed = passes = 0
        batch = max(1, ratings // (kills + 5))
        while done_edits < ratings or killed < kills:
            for _ in range(min(batch, ratings - done_edits)):
                _edit(world, table, rng)
                done_edits += 1
            kill_after = rng.uniform(0.2, 3.0) if killed < kills else None
            outcome = _pass(child_env, kill_after)
            passes += 1
            killed += outcome == "killed"
            log(f"pass {passes}: {outcome} (edits {done_edits}/{ratings}, kills {killed}/{kills})")
        fenced = None
        if frozen_leader:
            fenced = _frozen_leader(child_env, lambda n: [_edit(world, table, rng) for _ in range(n)], Path(tmp))
            log(f"frozen leader fenced: {fenced}")
            done_edits += 60
        while _pass(child_env, None) != "done":  # finish under faults, unkilled
            passes += 1
        passes += 1
        faults_seen = sum(
            sb.notion.control.count("", status=c) + sb.langsmith.control.count("", status=c)
            for c in (429, 500, 502, 503, 504, 529)
        )
        sb.notion.control.faults = FaultPlan()
        sb.langsmith.control.faults = FaultPlan()
        assert _pass(child_env, None) == "done"
        after_incremental = compare(world)
        assert _pass(child_env, None, VERIFY) == "done"
        after_verify = compare(world)
        return {
            **capture,
            "ratings_edits": done_edits,
            "reverts": table.reverts,
            "rows": len(table.pages),
            "trashed": table.trashed,
            "kills": killed,
            "frozen_leader_fenced": fenced,
            "passes": passes,
            "faults_injected": faults_seen,
            "refused_by_langsmith_422": sb.langsmith.control.count("", status=422),
            "rated_rows": len(world.expected_feedback()),
            "feedback": len(world.feedback()),
            "after_incremental": after_incremental,
            **after_verify,
            "exact": not any(after_verify.values())
            and not (capture["recorder_missing"] or capture["recorder_duplicated"]),
            "seconds": round(time.monotonic() - started, 1),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ratings", type=int, default=2000)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--rate", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rows", type=int, default=None, help="rows to rate (default: half the ratings, >= 100)")
    parser.add_argument("--no-frozen-leader", action="store_true", help="leave out the frozen-leader phase")
    store = parser.add_mutually_exclusive_group()
    store.add_argument("--postgres", action="store_true", help=f"a fresh database on the server in {POSTGRES_ENV}")
    store.add_argument("--state-url", default=None, help="this state store (default: SQLite in a temp folder)")
    parser.add_argument("--json", action="store_true", help="progress on stderr, the figures as one JSON line")
    args = parser.parse_args()
    state_url = args.state_url
    if args.postgres:
        state_url = fresh_state_url(Path(tempfile.mkdtemp()), os.environ[POSTGRES_ENV])
    log = (lambda line: print(line, file=sys.stderr, flush=True)) if args.json else print
    result = trial(
        args.ratings,
        args.kills,
        args.rate,
        args.seed,
        rows=args.rows,
        log=log,
        state_url=state_url,
        frozen_leader=not args.no_frozen_leader,
    )
    if args.json:
        print(json.dumps(result))
    else:
        width = max(map(len, result))
        for key, value in result.items():
            print(f"{key:<{width}}  {value}")
    sys.exit(0 if result["exact"] else 1)


if __name__ == "__main__":
    main()

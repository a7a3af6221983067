"""The fault trial (bench/fault_trial.py): faults on both services, SIGKILLed agents and sync processes lose nothing.

The trial is a script (a benchmark no user's test needs); these tests run it as one and read its JSON figures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

TRIAL = Path(__file__).resolve().parents[2] / "bench" / "fault_trial.py"


def run_trial(state_url: str, *args: str, timeout: float) -> dict[str, Any]:
    """The trial's figures; a PostgreSQL store is passed on, a SQLite one left to the trial's own temp folder."""
    store = [] if state_url.startswith("sqlite") else ["--state-url", state_url]
    proc = subprocess.run(
        [sys.executable, str(TRIAL), "--json", *args, *store],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=TRIAL.parents[1],
    )
    lines = proc.stdout.strip().splitlines()
    assert lines, f"the trial printed no figures (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
    return json.loads(lines[-1])


@pytest.mark.slow
def test_fault_trial_small(state_url: str) -> None:
    args = ("--ratings", "150", "--kills", "4", "--rate", "0.2", "--seed", "11", "--rows", "80")
    result = run_trial(state_url, *args, timeout=600)
    assert result["kills"] == 4 and result["faults_injected"] > 0 and result["reverts"] > 0
    assert result["frozen_leader_fenced"] is True  # it said it lost the lease and stopped; the standby went on
    assert (result["missing"], result["stale"], result["duplicated"], result["orphaned"]) == (0, 0, 0, 0), result
    assert result["refused_by_langsmith_422"] == 0  # malformed Run IDs never reach LangSmith
    assert result["recorder_kills"] == 3 and (result["recorder_missing"], result["recorder_duplicated"]) == (0, 0)
    assert result["exact"]


@pytest.mark.slow
@pytest.mark.timeout(1200)  # ~7 minutes on 2 cores: 2,000 edits, 20 kills, and the verification pass
def test_fault_trial_full(state_url: str) -> None:
    result = run_trial(state_url, "--ratings", "2000", "--kills", "20", "--rate", "0.2", "--seed", "1", timeout=1150)
    assert result["kills"] >= 20 and result["trashed"] > 0 and result["reverts"] > 100
    assert result["frozen_leader_fenced"] is True
    # Incremental passes can leave only the feedback of trashed rows (they cannot see them); verification removes it.
    assert result["after_incremental"]["orphaned"] <= result["trashed"]
    assert result["exact"], result
    assert result["recorder_kills"] >= 3 and (result["recorder_missing"], result["recorder_duplicated"]) == (0, 0)
    assert result["refused_by_langsmith_422"] == 0
